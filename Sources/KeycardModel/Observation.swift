/// What happened to packets: the network let them through, or not; with the mesh, what its proxy
/// did with the connection (a probe cell's `observed`, a mesh flow record's outcome).
public enum Observation: String, Codable, Sendable {
    case allow
    case deny
    /// A reset or port-unreachable came back: the network let it through, nothing serves the port.
    case closed
    case skipped
    /// The mesh proxy refused it for mutual TLS, as its record says (spec mesh.md 2.5).
    case denyMTLS = "deny-mtls"
    /// The mesh proxy refused it by an AuthorizationPolicy.
    case denyRBAC = "deny-rbac"

    /// The outcome seen: `closed` counts as allow.
    public var networkDecision: Decision? {
        switch self {
        case .allow, .closed: .allow
        case .deny: .deny
        case .denyMTLS: .denyMTLS
        case .denyRBAC: .denyRBAC
        case .skipped: nil
        }
    }
}
