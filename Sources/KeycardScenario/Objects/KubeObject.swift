import KeycardModel

/// The Kubernetes kinds keycard understands.
public enum ObjectKind: String, Hashable, Sendable, CaseIterable, Codable {
    case namespace = "Namespace"
    case pod = "Pod"
    case networkPolicy = "NetworkPolicy"
    case service = "Service"

    var apiVersion: String { self == .networkPolicy ? "networking.k8s.io/v1" : "v1" }
}

/// One understood object.
public enum KubeObject: Hashable, Sendable {
    case namespace(Namespace)
    case pod(Pod)
    case networkPolicy(NetworkPolicy)
    case service(Service)

    public var ref: ObjectRef {
        switch self {
        case .namespace(let namespace): ObjectRef(kind: .namespace, namespace: nil, name: namespace.name)
        case .pod(let pod): ObjectRef(kind: .pod, namespace: pod.namespace, name: pod.name)
        case .networkPolicy(let policy): ObjectRef(kind: .networkPolicy, namespace: policy.namespace, name: policy.name)
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
