import KeycardModel

/// The Kubernetes kinds keycard understands; the seven controllers are one case, named by
/// `WorkloadKind` (their one home).
public enum ObjectKind: Hashable, Sendable, CaseIterable, Codable, RawRepresentable {
    case namespace
    case pod
    case networkPolicy
    case peerAuthentication
    case authorizationPolicy
    case workload(WorkloadKind)
    case service
    /// Calico's `StagedKubernetesNetworkPolicy` (`projectcalico.org/v3`).
    case stagedKubernetesNetworkPolicy
    /// `policy.networking.k8s.io/v1alpha2` ClusterNetworkPolicy (cluster-scoped).
    case clusterNetworkPolicy
    /// v1alpha1 AdminNetworkPolicy and BaselineAdminNetworkPolicy, read as ClusterNetworkPolicies.
    case adminNetworkPolicy
    case baselineAdminNetworkPolicy

    public static var allCases: [ObjectKind] {
        [
            .namespace, .pod, .networkPolicy, .peerAuthentication, .authorizationPolicy, .service, .stagedKubernetesNetworkPolicy,
            .clusterNetworkPolicy, .adminNetworkPolicy, .baselineAdminNetworkPolicy,
        ]
            + WorkloadKind.allCases.map(Self.workload)
    }

    /// The kind as manifests spell it (`kind: Deployment`).
    public var rawValue: String {
        switch self {
        case .namespace: "Namespace"
        case .pod: "Pod"
        case .networkPolicy: "NetworkPolicy"
        case .peerAuthentication: "PeerAuthentication"
        case .authorizationPolicy: "AuthorizationPolicy"
        case .workload(let kind): kind.rawValue
        case .service: "Service"
        case .stagedKubernetesNetworkPolicy: "StagedKubernetesNetworkPolicy"
        case .clusterNetworkPolicy: "ClusterNetworkPolicy"
        case .adminNetworkPolicy: "AdminNetworkPolicy"
        case .baselineAdminNetworkPolicy: "BaselineAdminNetworkPolicy"
        }
    }

    public init?(rawValue: String) {
        if let workload = WorkloadKind(rawValue: rawValue) {
            self = .workload(workload)
            return
        }
        guard
            let kind = [
                ObjectKind.namespace, .pod, .networkPolicy, .peerAuthentication, .authorizationPolicy, .service,
                .stagedKubernetesNetworkPolicy, .clusterNetworkPolicy, .adminNetworkPolicy, .baselineAdminNetworkPolicy,
            ].first(where: {
                $0.rawValue == rawValue
            })
        else { return nil }
        self = kind
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let kind = ObjectKind(rawValue: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown kind \(text)"))
        }
        self = kind
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// The apiVersion kubectl prints for the kind.
    var apiVersion: String { apiVersions[0] }

    /// Every apiVersion accepted for the kind: Istio serves its security kinds as `v1` and `v1beta1`.
    var apiVersions: [String] {
        switch self {
        case .workload(let kind): [kind.apiVersion]
        case .networkPolicy: ["networking.k8s.io/v1"]
        case .peerAuthentication, .authorizationPolicy: ["security.istio.io/v1", "security.istio.io/v1beta1"]
        case .stagedKubernetesNetworkPolicy: ["projectcalico.org/v3"]
        case .clusterNetworkPolicy: ["policy.networking.k8s.io/v1alpha2"]
        case .adminNetworkPolicy, .baselineAdminNetworkPolicy: ["policy.networking.k8s.io/v1alpha1"]
        default: ["v1"]
        }
    }

    /// A cluster-scoped kind other than Namespace: ClusterNetworkPolicy and its v1alpha1 forms.
    public var isClusterPolicy: Bool { self == .clusterNetworkPolicy || self == .adminNetworkPolicy || self == .baselineAdminNetworkPolicy }

    /// Whether objects of the kind live in a namespace (all but Namespace and the cluster policies).
    public var isNamespaced: Bool { self != .namespace && !isClusterPolicy }

    /// An Istio kind (spec mesh.md 2.2).
    public var isMesh: Bool { self == .peerAuthentication || self == .authorizationPolicy }

    /// The workload kind this is, or nil for Namespace, Pod, NetworkPolicy, Service and the Istio kinds.
    public var workloadKind: WorkloadKind? {
        if case .workload(let kind) = self { return kind }
        return nil
    }
}

/// One understood object.
public enum KubeObject: Hashable, Sendable {
    case namespace(Namespace)
    case pod(Pod)
    case networkPolicy(NetworkPolicy)
    case peerAuthentication(PeerAuthentication)
    case authorizationPolicy(AuthorizationPolicy)
    case workload(Workload)
    case service(Service)
    case stagedPolicy(StagedPolicy)
    case clusterNetworkPolicy(ClusterNetworkPolicy)

    public var ref: ObjectRef {
        switch self {
        case .namespace(let namespace): ObjectRef(kind: .namespace, namespace: nil, name: namespace.name)
        case .pod(let pod): ObjectRef(kind: .pod, namespace: pod.namespace, name: pod.name)
        case .networkPolicy(let policy): ObjectRef(kind: .networkPolicy, namespace: policy.namespace, name: policy.name)
        case .peerAuthentication(let policy): ObjectRef(kind: .peerAuthentication, namespace: policy.namespace, name: policy.name)
        case .authorizationPolicy(let policy): ObjectRef(kind: .authorizationPolicy, namespace: policy.namespace, name: policy.name)
        case .workload(let workload): ObjectRef(kind: .workload(workload.kind), namespace: workload.namespace, name: workload.name)
        case .service(let service): ObjectRef(kind: .service, namespace: service.namespace, name: service.name)
        case .stagedPolicy(let staged):
            ObjectRef(kind: .stagedKubernetesNetworkPolicy, namespace: staged.policy.namespace, name: staged.policy.name)
        case .clusterNetworkPolicy(let policy): ObjectRef(kind: ObjectKind(policy.origin), namespace: nil, name: policy.name)
        }
    }
}

/// Names an object: kind, namespace (nil for namespaces) and name.
public struct ObjectRef: Hashable, Sendable, CustomStringConvertible {
    public var kind: ObjectKind
    public var namespace: String?
    public var name: String

    public init(kind: ObjectKind, namespace: String?, name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    public var description: String {
        "\(kind.rawValue) \(namespace.map { "\($0)/" } ?? "")\(name)"
    }
}

/// An object with the place it was written.
public struct LoadedObject: Hashable, Sendable {
    public var object: KubeObject
    public var location: SourceLocation
    /// Where fields checked only when the object is applied were written, by path
    /// (`spec.clusterIP`), so such errors point at the field rather than at the object.
    public var fieldLocations: [String: SourceLocation] = [:]
    /// A Service's fields its type does not allow, settled when it is applied (`TypeDependentField`).
    public var typeDependentFields: [TypeDependentField] = []

    public init(_ object: KubeObject, at location: SourceLocation) {
        self.object = object
        self.location = location
    }
}

extension ObjectKind {
    /// The kind a cluster policy was written as.
    init(_ origin: ClusterNetworkPolicy.Origin) {
        switch origin {
        case .clusterNetworkPolicy: self = .clusterNetworkPolicy
        case .adminNetworkPolicy: self = .adminNetworkPolicy
        case .baselineAdminNetworkPolicy: self = .baselineAdminNetworkPolicy
        }
    }

    /// The origin of a cluster policy kind; nil for the other kinds.
    var clusterPolicyOrigin: ClusterNetworkPolicy.Origin? {
        switch self {
        case .clusterNetworkPolicy: .clusterNetworkPolicy
        case .adminNetworkPolicy: .adminNetworkPolicy
        case .baselineAdminNetworkPolicy: .baselineAdminNetworkPolicy
        default: nil
        }
    }
}
