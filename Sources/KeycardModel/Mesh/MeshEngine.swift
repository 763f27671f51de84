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
    /// The destination pod when the mesh carries the connection over HBONE (`Cluster.tunnel`): the
    /// network then sees TCP from the source pod to that pod's port 15008, not the application
    /// port; nil when the connection keeps its own destination and port.
    public var tunnel: ObjectKey?
    /// The source is a sidecar pod whose capture leaves this connection alone
    /// (`traffic.sidecar.istio.io/excludeOutboundPorts`, `excludeOutboundIPRanges`): it leaves
    /// in plaintext.
    public var sourceUncaptured = false
    /// The source's proxy (its sidecar's capture, or ztunnel) carries this TCP connection: the
    /// proxy opens its own connection to the chosen backend pod (Envoy's endpoint, ztunnel's
    /// `outbound.rs` Service lookup), so the network never sees the Service's ClusterIP, whatever
    /// `serviceEnforcement` says. A forged or stolen certificate from a meshed pod goes through
    /// its capture too (the lab's proxy presents it). False for a probe that escapes its proxy
    /// (`identity: none`), for traffic the capture leaves alone, and for pods outside the mesh.
    public var sourceProxied = false
}

/// PeerAuthentication ∧ AuthorizationPolicy at the destination, in the order of R57:
/// mutual-TLS requirement and certificate (R12, R17, R51), then CUSTOM, DENY, ALLOW (R23).
/// NetworkPolicy is judged before, by `PolicyEngine`, on the original destination and port, or on
/// the HBONE hop (`MeshVerdict.tunnel`, `PolicyEngine.evaluate(fromSource:to:port:mesh:)`).
public struct MeshEngine: Sendable {
    public let cluster: Cluster

    public init(_ cluster: Cluster) { self.cluster = cluster }

    /// The mesh's verdict on a connection that NetworkPolicy allowed: each side's data plane (sidecar,
    /// ambient or none), the destination's mutual-TLS mode for the port and whether `request`'s
    /// certificate satisfies it, then the AuthorizationPolicies in the order of R57.
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
        // A node port or load balancer: the source's proxy (if any) passes the node's address
        // through in plaintext, as it would any address outside the mesh (`MeshRoute`), and the
        // backend sees the node's address when the path source-NATs (`NodePortPath`).
        var sourceNAT: IPv4?
        if case .exposed(let key, let entry, let backend) = destination {
            verdict.service = key
            request.identity = .none
            sourceNAT = cluster.exposedPath(key, entry, backend: backend, port: port)?.sourceNAT
        } else if case .service(let serviceKey, _) = destination {
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
        // A sidecar's capture may leave the connection alone (`SidecarCapture`): it then leaves in
        // plaintext, with no identity, as a probe that escaped its proxy does.
        if sourcePlane == .sidecar, let sourcePod = cluster.pods[source],
            !sourcePod.sidecarCapture.capturesOutbound(address: cluster.dialledAddress(of: destination), port: port.port)
        {
            request.identity = .none
            verdict.sourceUncaptured = true
        }
        verdict.sourceProxied = sourcePlane != .none && request.identity != .none
        guard let target, let pod = cluster.pods[target.pod], destinationPlane != .none else {
            verdict.presented = presented(
                request.identity, source: source, sourcePlane: sourcePlane, terminates: false, route: request.route)
            verdict.bypass = "the destination is outside the mesh: no proxy enforces anything for it (R4)"
            return verdict
        }
        let key = target.pod
        let mode = cluster.mutualTLSMode(for: pod, port: target.port.port, plane: destinationPlane)
        verdict.mode = mode
        let captured = cluster.capturesInbound(pod, port: target.port.port, plane: destinationPlane)
        let terminates = cluster.terminatesMutualTLS(
            pod, port: target.port.port, plane: destinationPlane, mode: mode.mode,
            sourcePlane: request.identity == .none ? .none : sourcePlane)
        let presented = presented(
            request.identity, source: source, sourcePlane: sourcePlane, terminates: terminates, route: request.route)
        verdict.presented = presented
        if cluster.tunnels(from: source, sourcePlane: sourcePlane, to: key, destinationPlane: destinationPlane, presented: presented) {
            verdict.tunnel = key
        } else if !captured {
            verdict.mode = nil
            verdict.bypass =
                destinationPlane == .ambient
                ? "TCP/\(target.port.port) of \(key) is not redirected to ztunnel (\(Pod.ambientBypassInboundCapture)): only HBONE meets its proxy, so no proxy judges this connection"
                : "TCP/\(target.port.port) of \(key) is not captured by its sidecar (traffic.sidecar.istio.io/includeInboundPorts, excludeInboundPorts): no proxy judges it"
            return verdict
        }
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
        let http = isHTTP && destinationPlane == .sidecar ? (request.http ?? HTTPRequest()).asSentByProber : nil
        // The Host a client sends names what it dialled: the Service and its port for a `svc/` probe.
        let dialled = destination.serviceKey.map { ($0, port.port) } ?? (key, target.port.port)
        let attributes = AuthorizationAttributes(
            principal: principal, sourceIP: sourceNAT ?? cluster.address(of: cluster.source(source)),
            destinationIP: cluster.addresses[key], port: target.port.port,
            http: http, host: http?.hostHeader(for: dialled.0, port: dialled.1),
            arrival: cluster.arrival(principal: principal, from: source, overHBONE: verdict.tunnel != nil))
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
            // its passthrough cluster in plaintext; R14: a DISABLE sidecar port gets plaintext from
            // a sidecar client (`terminates` is false there).
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

extension Cluster {
    /// Whether TCP arriving at `pod`'s `port` meets its proxy: for ambient pods (ztunnel) unless
    /// istio-cni runs the pod in ingress mode (`Pod.bypassesAmbientInboundCapture`; HBONE still
    /// meets ztunnel, `tunnels`), for sidecar pods unless the pod's `SidecarCapture` leaves the
    /// port alone; never outside the mesh.
    public func capturesInbound(_ pod: Pod, port: Int, plane: DataPlane) -> Bool {
        switch plane {
        case .none: false
        case .ambient: !pod.bypassesAmbientInboundCapture
        case .sidecar: pod.sidecarCapture.capturesInbound(port: port)
        }
    }

    /// Whether a client on `sourcePlane` gets mutual TLS terminated at `pod`'s `port` (R17), so
    /// that a certificate it presents is asked for and verified:
    /// - ambient: only ztunnel's HBONE port 15008 terminates mutual TLS, and only a meshed client
    ///   tunnels there (`tunnels`); TCP from outside the mesh (or a probe that escaped its proxy,
    ///   passed as `.none`) goes to the application port, which istio-cni redirects to ztunnel's
    ///   plaintext inbound listener, so whatever TLS it carries is passed to the application and
    ///   the connection has no identity (`istio/ztunnel` `src/proxy/inbound_passthrough.rs`:
    ///   `src_identity: None`; `istio/istio` `cni/pkg/iptables/iptables.go`; spec R17
    ///   "TLS sent straight to an application port is plaintext to ztunnel").
    /// - sidecar: from an ambient client always: ztunnel picks HBONE by the destination
    ///   workload's tunnel protocol, not by PeerAuthentication (`istio/ztunnel`
    ///   `src/proxy/outbound.rs`: `us.workload.protocol`), and the sidecar of the HBONE-enabled
    ///   profile (R55) terminates it on 15008 whatever the port's mode or capture
    ///   (`istio/istio` `pilot/pkg/networking/core/listener_inbound.go`
    ///   `buildInboundHBONEListeners`: the inner chains are built with DISABLE and read the
    ///   principal from the tunnel). From a sidecar client unless the port is DISABLE (R14) and
    ///   — keycard's choice — unless the sidecar does not capture the port (a plain socket
    ///   there; Istio's client-side auto mTLS knows nothing of the capture annotations and would
    ///   send TLS to the application, which a real setup avoids with a DestinationRule).
    /// The spec's table of `identity: mesh` (2.4) says every meshed client sends plaintext to a
    /// DISABLE sidecar port; that holds for sidecar clients only (C-MTLSCHK), and keycard follows
    /// Istio's code for ambient clients. A pod in ingress mode (`Pod.bypassesAmbientInboundCapture`)
    /// is no different here: only a meshed client's HBONE tunnel meets ztunnel.
    public func terminatesMutualTLS(_ pod: Pod, port: Int, plane: DataPlane, mode: PeerAuthentication.Mode, sourcePlane: DataPlane) -> Bool
    {
        switch plane {
        case .none: false
        case .ambient: sourcePlane != .none
        case .sidecar: sourcePlane == .ambient || (mode != .disable && pod.sidecarCapture.capturesInbound(port: port))
        }
    }

    /// Whether the mesh carries a connection from `source` to the meshed pod `destination` over
    /// HBONE, a TCP connection to the destination pod's port 15008 (`MeshDataPath.hbonePort`):
    /// both are meshed, either is ambient (ztunnel speaks only HBONE to meshed peers; a sidecar of
    /// the ambient profile, which keycard assumes, R55, sends HBONE to ambient pods and accepts it
    /// from ztunnel), and the source's proxy sends mutual TLS (`presented` is not plaintext: a
    /// probe that escapes its proxy, `identity: none`, and a sidecar's plaintext passthrough keep
    /// the application port). Sidecar to sidecar keeps mutual TLS on the application port. Source:
    /// https://istio.io/latest/docs/ambient/usage/networkpolicy/ ("ambient's secure L4 overlay will
    /// tunnel traffic between your pods over port 15008"; "Sidecar workloads receiving traffic will
    /// also need to allow inbound traffic on port 15008"); spec mesh.md R48–R55.
    public func tunnels(
        from source: ObjectKey, sourcePlane: DataPlane, to destination: ObjectKey, destinationPlane: DataPlane,
        presented: PresentedIdentity
    ) -> Bool {
        guard source != destination, sourcePlane != .none, destinationPlane != .none else { return false }
        guard sourcePlane == .ambient || destinationPlane == .ambient else { return false }
        if case .plaintext = presented { return false }
        return true
    }
}

extension PolicyEngine {
    /// NetworkPolicy's verdict for a cell the mesh also judges: on the HBONE hop, TCP from the
    /// source pod to the destination pod's port 15008, when `mesh` says the mesh tunnels it
    /// (`MeshVerdict.tunnel`), else on the original destination and port. Both the source's egress
    /// and the destination's ingress policies judge the hop; the application port is then reached
    /// inside the destination pod, where NetworkPolicy does not look (a policy that allows 15008
    /// and not the application port lets meshed callers through).
    public func evaluate(fromSource source: ObjectKey, to destination: Endpoint, port: ProtocolPort, mesh: MeshVerdict?) -> Verdict {
        if let pod = mesh?.tunnel {
            return evaluate(fromSource: source, to: .pod(pod), port: ProtocolPort(.tcp, Int(MeshDataPath.hbonePort)))
        }
        // A Service call the source's proxy carries reaches the network as the proxy's connection
        // to the backend pod: `pre-dnat` has no ClusterIP to judge, so the translated connection is.
        if mesh?.sourceProxied == true, case .service(let key, let backend) = destination {
            return evaluate(from: cluster.source(source), toService: key, backend: backend, port: port, enforcement: .postDNAT)
        }
        return evaluate(fromSource: source, to: destination, port: port)
    }
}
