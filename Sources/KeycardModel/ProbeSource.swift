/// Where a probe or scan starts. Probe steps key their sources by `ObjectKey`: a pod by its key, an
/// external host (`spec.externals`) by `external/NAME`, a lab node by `node/NAME`. Kubernetes
/// accepts namespaces called `external` and `node`, so such a key is read against the cluster
/// (`Cluster.source(_:)`): it names the external (node) when the lab has one of that name, the pod
/// otherwise; a scenario where both exist is rejected as ambiguous before any step runs.
extension ObjectKey {
    /// The prefix of externals' keys: `external/NAME`.
    public static let externalNamespace = "external"
    /// The prefix of nodes' keys: `node/node-0`.
    public static let nodeNamespace = "node"

    /// The source key of external `name`.
    public static func external(_ name: String) -> ObjectKey { ObjectKey(externalNamespace, name) }

    /// The source key of node `name` (`node-0` ...).
    public static func node(_ name: String) -> ObjectKey { ObjectKey(nodeNamespace, name) }
}

extension Endpoint {
    /// The endpoint the text of `key` reads as, before the cluster is consulted: `.external` under
    /// the `external` prefix, `.node` under `node`, else the pod. `Cluster.resolve` settles it.
    public static func written(_ key: ObjectKey) -> Endpoint {
        switch key.namespace {
        case ObjectKey.externalNamespace: .external(key.name)
        case ObjectKey.nodeNamespace: .node(key.name)
        default: .pod(key)
        }
    }

    /// Whether this is an external host (`spec.externals`).
    public var isExternal: Bool { if case .external = self { true } else { false } }

    /// The source key of a pod, external or node; nil for an address or a Service.
    public var sourceKey: ObjectKey? {
        switch self {
        case .pod(let key): key
        case .external(let name): .external(name)
        case .node(let name): .node(name)
        case .address, .service, .exposed: nil
        }
    }
}

extension Cluster {
    /// The endpoint a source key stands for: the external `external/NAME` or the node `node/NAME`
    /// when the lab has it, else the pod with that key.
    public func source(_ key: ObjectKey) -> Endpoint {
        resolve(.written(key))
    }

    /// `endpoint` as the lab has it: an external or node the lab lacks is the pod of that key when
    /// one exists (a pod of a namespace called `external` or `node`); anything else is unchanged.
    public func resolve(_ endpoint: Endpoint) -> Endpoint {
        switch endpoint {
        case .external(let name) where externals[name] == nil:
            let key = ObjectKey.external(name)
            return pods[key] != nil || addresses[key] != nil ? .pod(key) : endpoint
        case .node(let name) where nodeIndex(name) == nil:
            let key = ObjectKey.node(name)
            return pods[key] != nil || addresses[key] != nil ? .pod(key) : endpoint
        default:
            return endpoint
        }
    }

    /// Whether `key` names a source present now: a pod that exists, a declared external or a lab node.
    public func hasSource(_ key: ObjectKey) -> Bool {
        switch source(key) {
        case .pod(let pod): pods[pod] != nil
        case .external(let name): externals[name] != nil
        case .node(let name): nodeIndex(name) != nil
        case .address, .service, .exposed: false
        }
    }

    /// What a pod key also names in this lab, when it collides with an external or a node: the
    /// scenario cannot say which one a probe means.
    public func ambiguity(ofPod key: ObjectKey) -> String? {
        switch key.namespace {
        case ObjectKey.externalNamespace where externals[key.name] != nil: "the external \(key.name) (spec.externals)"
        case ObjectKey.nodeNamespace where nodeIndex(key.name) != nil: "the lab node \(key.name)"
        default: nil
        }
    }
}
