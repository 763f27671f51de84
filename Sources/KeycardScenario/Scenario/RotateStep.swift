/// A `rotate` step (spec mesh.md, issue 14): the lab CA issues new certificates.
///
/// ```yaml
/// - rotate: ca                           # a new root; every SVID re-issued from it
/// - rotate: {serviceAccount: prod/web}   # a new SVID for one identity
/// ```
/// Verdicts do not change: identities stay what they were, only their keys and certificates are
/// new, so the probes after a rotation prove that the mesh keeps working through it.
public enum RotateStep: Sendable, Hashable {
    /// The lab CA: new key and root certificate; the trust bundle becomes the new root.
    case ca
    /// The SVID of one service account, `namespace/name`.
    case serviceAccount(namespace: String, name: String)

    public var description: String {
        switch self {
        case .ca: "the lab CA"
        case .serviceAccount(let namespace, let name): "the certificate of \(namespace)/\(name)"
        }
    }
}
