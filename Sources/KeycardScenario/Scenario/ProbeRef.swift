import KeycardModel

/// A probe source or destination as a scenario writes it: a pod (`ns/name`), an external
/// (`external/NAME`), or a workload (`ns/deployment/web`: every pod its controller runs at that
/// step). Resolution turns a workload into its pods; a workload cell is one cell per replica.
public enum ProbeRef: Hashable, Sendable, CustomStringConvertible {
    case endpoint(Endpoint)
    case workload(WorkloadKey)

    /// Parses `ns/kind/name` (kind: `deployment`, `replicaset`, `statefulset`, `daemonset`,
    /// `job`, `cronjob`, `replicationcontroller`), `external/NAME` or `ns/name`.
    public static func parse(_ text: String) -> ProbeRef? {
        if let key = WorkloadKey.parse(text) { return .workload(key) }
        return Endpoint.parse(text).map(ProbeRef.endpoint)
    }

    /// A pod, a workload, an external or a node: what a probe or scan may start from. An external
    /// starts in its own namespace behind the lab router, as a client on the internet would; a node
    /// in the node's namespace with the node's address, as a kubelet would.
    public var isSource: Bool {
        switch self {
        case .endpoint(.pod), .endpoint(.external), .endpoint(.node), .workload: true
        case .endpoint: false
        }
    }

    /// The workload named, if this is one.
    public var workload: WorkloadKey? {
        if case .workload(let key) = self { return key }
        return nil
    }

    public var description: String {
        switch self {
        case .endpoint(let endpoint): endpoint.description
        case .workload(let key): key.description
        }
    }
}
