import KeycardModel

/// The `mesh` object of a probe result (spec mesh.md 2.5): the data planes of both ends, the
/// identity presented (null for plaintext), the destination port's effective mutual-TLS mode and
/// the PeerAuthentication that set it, and the deciding AuthorizationPolicy.
public struct MeshRecord: Codable, Sendable, Equatable {
    public var source: DataPlane
    public var destination: DataPlane
    /// The presented SPIFFE URI; nil for plaintext.
    public var identity: String?
    /// `STRICT`, `PERMISSIVE` or `DISABLE`; nil when no proxy judged.
    public var mode: String?
    /// `namespace/name` of the PeerAuthentication that set `mode` (with `portLevelMtls` when a port
    /// entry did), or `default` when none did.
    public var modeSetBy: String?
    /// `namespace/name rule N (ACTION)`, `no ALLOW policy`, or `no ALLOW rule matches (...)`; nil
    /// when authorization was not reached.
    public var authorization: String?
    /// Why no proxy judged (R4, R56, R58).
    public var bypass: String?
    /// `namespace/name` of the Service the call goes through (R15, R37), when one exists.
    public var service: String?
    /// `namespace/name` of the pod whose HBONE port (TCP 15008) the network sees when the mesh
    /// tunnels the connection (`MeshVerdict.tunnel`); nil when it keeps its destination and port.
    public var tunnel: String?

    public init(_ verdict: MeshVerdict) {
        source = verdict.sourcePlane
        destination = verdict.destinationPlane
        identity = verdict.presented.reported
        mode = verdict.mode?.mode.rawValue
        modeSetBy = verdict.mode.map { mode in
            mode.setBy.map { "\($0)\(mode.portLevel ? " portLevelMtls" : "")" } ?? "default"
        }
        authorization = verdict.authorization?.description
        bypass = verdict.bypass
        service = verdict.service?.description
        tunnel = verdict.tunnel?.description
    }

    enum CodingKeys: String, CodingKey { case source, destination, identity, mode, modeSetBy, authorization, bypass, service, tunnel }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(source, forKey: .source)
        try c.encode(destination, forKey: .destination)
        try c.encode(identity, forKey: .identity)  // null for plaintext, as the spec shows it
        try c.encodeIfPresent(mode, forKey: .mode)
        try c.encodeIfPresent(modeSetBy, forKey: .modeSetBy)
        try c.encodeIfPresent(authorization, forKey: .authorization)
        try c.encodeIfPresent(bypass, forKey: .bypass)
        try c.encodeIfPresent(service, forKey: .service)
        try c.encodeIfPresent(tunnel, forKey: .tunnel)
    }
}
