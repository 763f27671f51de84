import KeycardModel

/// The Kubernetes kinds keycard understands.
public enum ObjectKind: String, Hashable, Sendable, CaseIterable, Codable {
    case namespace = "Namespace"
    case pod = "Pod"
    case networkPolicy = "NetworkPolicy"
    case peerAuthentication = "PeerAuthentication"
    case authorizationPolicy = "AuthorizationPolicy"
    case deployment = "Deployment"
    case replicaSet = "ReplicaSet"
    case statefulSet = "StatefulSet"
    case daemonSet = "DaemonSet"
    case job = "Job"
    case cronJob = "CronJob"
    case replicationController = "ReplicationController"
    case service = "Service"

    /// The apiVersion kubectl prints for the kind.
    var apiVersion: String { apiVersions[0] }

    /// Every apiVersion accepted for the kind: Istio serves its security kinds as `v1` and `v1beta1`.
    var apiVersions: [String] {
        if let workload = workloadKind { return [workload.apiVersion] }
        switch self {
        case .networkPolicy: return ["networking.k8s.io/v1"]
        case .peerAuthentication, .authorizationPolicy: return ["security.istio.io/v1", "security.istio.io/v1beta1"]
        default: return ["v1"]
        }
    }

    /// An Istio kind (spec mesh.md 2.2).
    public var isMesh: Bool { self == .peerAuthentication || self == .authorizationPolicy }

    /// The workload kind this is, or nil for Namespace, Pod, NetworkPolicy and the Istio kinds.
    public var workloadKind: WorkloadKind? { WorkloadKind(rawValue: rawValue) }

    public init(_ workload: WorkloadKind) {
        switch workload {
        case .deployment: self = .deployment
        case .replicaSet: self = .replicaSet
        case .statefulSet: self = .statefulSet
        case .daemonSet: self = .daemonSet
        case .job: self = .job
        case .cronJob: self = .cronJob
        case .replicationController: self = .replicationController
        }
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

    public var ref: ObjectRef {
        switch self {
        case .namespace(let namespace): ObjectRef(kind: .namespace, namespace: nil, name: namespace.name)
        case .pod(let pod): ObjectRef(kind: .pod, namespace: pod.namespace, name: pod.name)
        case .networkPolicy(let policy): ObjectRef(kind: .networkPolicy, namespace: policy.namespace, name: policy.name)
        case .peerAuthentication(let policy): ObjectRef(kind: .peerAuthentication, namespace: policy.namespace, name: policy.name)
        case .authorizationPolicy(let policy): ObjectRef(kind: .authorizationPolicy, namespace: policy.namespace, name: policy.name)
        case .workload(let workload): ObjectRef(kind: ObjectKind(workload.kind), namespace: workload.namespace, name: workload.name)
        case .service(let service): ObjectRef(kind: .service, namespace: service.namespace, name: service.name)
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

    public init(_ object: KubeObject, at location: SourceLocation) {
        self.object = object
        self.location = location
    }
}
