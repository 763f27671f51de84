import KeycardValues

/// What the source put on the wire towards the destination proxy (spec mesh.md 2.4).
public enum PresentedIdentity: Hashable, Sendable, CustomStringConvertible {
    case plaintext
    /// mutual TLS with a lab-CA certificate of this principal (own SVID, or stolen).
    case mutualTLS(principal: String)
    /// mutual TLS with a rogue-CA certificate claiming this URI (R17).
    case rogue(uri: String)

    public var description: String {
        switch self {
        case .plaintext: "plaintext"
        case .mutualTLS(let principal): "spiffe://\(principal)"
        case .rogue(let uri): "\(uri) (rogue CA)"
        }
    }

    /// The presented identity as reports show it: nil for plaintext.
    public var reported: String? {
        switch self {
        case .plaintext: nil
        case .mutualTLS(let principal): "spiffe://\(principal)"
        case .rogue(let uri): uri
        }
    }
}

/// The mesh's answer for one connection that the network let through: who judged, with what.
public struct MeshVerdict: Hashable, Sendable {
    public var sourcePlane: DataPlane
    public var destinationPlane: DataPlane
    public var presented: PresentedIdentity
    /// The destination port's effective mode; nil when no proxy judges (R4, R56, R58).
    public var mode: MutualTLSMode?
    /// The authorization step; nil when it was not reached (refused by mutual TLS, or no proxy).
    public var authorization: AuthorizationDecision?
    /// `allow`, `deny-mtls` or `deny-rbac`.
    public var outcome: Decision
    /// `plaintext-refused`, `bad-certificate` (deny-mtls); `http-403`, `reset` (deny-rbac).
    public var detail: String?
    /// Why no proxy judged, when none did.
    public var bypass: String?
    /// The Service the call goes through (R15): the probed `svc/` Service, or for a pod called
    /// `via: service` the Service that decides the port (`Cluster.protocolService`); nil when no
    /// Service exists (keycard then models one, as the spec says) or the call is `via: pod-ip`.
    public var service: ObjectKey?
}

/// PeerAuthentication ∧ AuthorizationPolicy at the destination, in the order of R57:
/// mutual-TLS requirement and certificate (R12, R17, R51), then CUSTOM, DENY, ALLOW (R23).
/// NetworkPolicy is judged before, by `PolicyEngine`, on the original destination and port.
public struct MeshEngine: Sendable {
    public let cluster: Cluster

    public init(_ cluster: Cluster) { self.cluster = cluster }

    public func evaluate(from source: ObjectKey, to destination: Endpoint, port: ProtocolPort, request: MeshRequest = MeshRequest())
        -> MeshVerdict
    {
        let sourcePlane = cluster.dataPlane(of: source)
        let destinationPlane = cluster.dataPlane(of: destination)
        var verdict = MeshVerdict(
            sourcePlane: sourcePlane, destinationPlane: destinationPlane, presented: .plaintext, mode: nil,
            authorization: nil, outcome: .allow, detail: nil, bypass: nil)
        // A Service cell is judged on its backend and target port (the translated connection); the
        // client dialled the Service, so its call is Service traffic whatever `via` says.
        let target = cluster.meshTarget(of: destination, port: port)
        var request = request
        if case .service(let serviceKey, _) = destination {
            verdict.service = serviceKey
            request.route = .service
        } else if request.route == .service, let target, let pod = cluster.pods[target.pod], target.port.proto == .tcp {
            verdict.service = cluster.protocolService(of: pod, port: target.port.port)?.service.key
        }
        if let target, target.pod == source {
            verdict.bypass = "a pod reaching itself is not judged (R58)"
            return verdict
        }
        guard port.proto == .tcp else {
            verdict.bypass = "the mesh proxies TCP only: \(port.proto.rawValue) bypasses every proxy (R56)"
            return verdict
        }
        guard let target, let pod = cluster.pods[target.pod], destinationPlane != .none else {
            verdict.presented = presented(
                request.identity, source: source, sourcePlane: sourcePlane, terminates: false, route: request.route)
            verdict.bypass = "the destination is outside the mesh: no proxy enforces anything for it (R4)"
            return verdict
        }
        let key = target.pod
        let mode = cluster.mutualTLSMode(for: pod, port: target.port.port, plane: destinationPlane)
        verdict.mode = mode
        // R17: sidecar ports terminate mutual TLS unless DISABLE; ztunnel always does (HBONE, R52).
        let terminates = destinationPlane == .ambient || mode.mode != .disable
        let presented = presented(
            request.identity, source: source, sourcePlane: sourcePlane, terminates: terminates, route: request.route)
        verdict.presented = presented
        let principal: String?
        switch presented {
        case .rogue:
            verdict.outcome = .denyMTLS
            verdict.detail = "bad-certificate"
            return verdict
        case .plaintext:
            // R12 (sidecar), R51 (ambient): STRICT refuses plaintext before authorization. DISABLE
            // in ambient behaves like PERMISSIVE for plaintext (R52).
            if mode.mode == .strict {
                verdict.outcome = .denyMTLS
                verdict.detail = "plaintext-refused"
                return verdict
            }
            principal = nil
        case .mutualTLS(let name):
            principal = name
        }
        let isHTTP = cluster.isHTTPPort(pod: key, port: target.port.port)
        let http = isHTTP && destinationPlane == .sidecar ? (request.http ?? HTTPRequest()) : nil
        // The Host a client sends names what it dialled: the Service and its port for a `svc/` probe.
        let dialled = destination.serviceKey.map { ($0, port.port) } ?? (key, target.port.port)
        let attributes = AuthorizationAttributes(
            principal: principal, sourceIP: cluster.addresses[source], destinationIP: cluster.addresses[key], port: target.port.port,
            http: http, host: http?.hostHeader(for: dialled.0, port: dialled.1))
        let decision = AuthorizationEngine(cluster).authorize(attributes, pod: pod, plane: destinationPlane, isHTTP: isHTTP)
        verdict.authorization = decision
        if !decision.allowed {
            verdict.outcome = .denyRBAC
            // R41: a sidecar answers 403 on HTTP ports and closes TCP; R54: ztunnel always resets.
            verdict.detail = http != nil ? "http-403" : "reset"
        }
        return verdict
    }

    /// What the source presents (spec mesh.md 2.4 `identity`; R14, R15, R17, R18).
    /// - Parameter terminates: the destination port terminates mutual TLS (R17).
    public func presented(
        _ identity: ProbeIdentity, source: ObjectKey, sourcePlane: DataPlane, terminates: Bool, route: ProbeRoute
    ) -> PresentedIdentity {
        switch identity {
        case .none: return .plaintext
        case .spoofed(let uri): return terminates ? .rogue(uri: uri) : .plaintext
        case .stolen(let uri): return terminates ? .mutualTLS(principal: Self.principal(of: uri)) : .plaintext
        case .mesh:
            // R15: outside the mesh there is no certificate; a sidecar sends a pod-IP call through
            // its passthrough cluster in plaintext; R14: a DISABLE sidecar port gets plaintext.
            guard terminates, sourcePlane != .none, !(sourcePlane == .sidecar && route == .podIP),
                let pod = cluster.pods[source]
            else { return .plaintext }
            return .mutualTLS(principal: cluster.mesh.principal(namespace: pod.namespace, serviceAccount: pod.serviceAccountName))
        }
    }

    /// The principal of a SPIFFE URI: the URI without `spiffe://` (R16).
    public static func principal(of uri: String) -> String {
        uri.hasPrefix("spiffe://") ? String(uri.dropFirst("spiffe://".count)) : uri
    }
}
