import KeycardModel
import KeycardScenario
import KeycardValues

/// A verdict written out for people (text) and programs (JSON).
struct Explanation: Encodable {
    struct Side: Encodable {
        var pod: String
        var direction: String
        var outcome: String
        var isolatedBy: [String]
        /// Each isolating policy's `spec.podSelector`, and whether it was omitted and so defaulted.
        var selectors: [Selector]
        var allowedBy: [String]
        /// With ClusterNetworkPolicies: the tiers this side went through (absent without).
        var tiers: [Tier]?
        /// The same, as one line: `[Admin] Pass (ns-guard/delegate) -> [NetworkPolicy] Allowed (shop/allow-web)`.
        var walkthrough: String?
        /// True for a host-network pod, which NetworkPolicy never isolates (absent otherwise).
        var hostNetwork: Bool?
    }

    /// One step through the tiers (`TierStep`).
    struct Tier: Encodable {
        var tier: String
        var result: String
        var by: String?
    }

    struct Selector: Encodable {
        var policy: String
        var podSelector: String
        var defaulted: Bool
    }

    var from: String
    var to: String
    var port: Int
    var `protocol`: String
    var afterStep: Int
    var decision: String
    var egress: Side
    var ingress: Side
    /// The mesh's part, when the scenario uses the mesh (spec mesh.md 2.5).
    var mesh: MeshRecord?
    var detail: String?
    /// True for an ICMP cell a policy judged (`Verdict.implementationDefined`); nil otherwise.
    var implementationDefined: Bool?
    private var meshLines: [String] = []
    /// Through a node port: the address and port the endpoint's ingress judged (`describePath`).
    var judged: (peer: String, port: String)?
    private var steps: Int
    /// A ClusterIP cell internalTrafficPolicy Local keeps from its backend (`describeClusterIPPath`).
    var keptOffByLocal = false
    /// The HBONE hop NetworkPolicy judged instead of the asked connection (`describeTunnel`).
    var networkHop: String?
    /// A ClusterIP cell whose target port is not the Service port: the translation, said right
    /// under the header (`describeClusterIPPath`); text only.
    var translation: String?
    /// The destination and port the egress side judged, when not the asked ones (the HBONE hop).
    var egressJudged: (peer: String, port: String)?

    init(_ verdict: Verdict, cluster: Cluster, afterStep: Int, of steps: Int) {
        from = verdict.from.description
        to = verdict.to.description
        port = verdict.port.port
        `protocol` = verdict.port.proto.rawValue
        self.afterStep = afterStep
        self.steps = steps
        decision = verdict.decision.rawValue
        func side(_ endpoint: Endpoint, _ direction: String, _ judged: DirectionVerdict) -> Side {
            let selectors = judged.isolatingPolicies.compactMap { key in
                cluster.policies[key].map {
                    Selector(policy: key.description, podSelector: $0.podSelector.description, defaulted: $0.podSelectorOmitted)
                }
            }
            return Side(
                pod: endpoint.description, direction: direction, outcome: judged.outcome.rawValue,
                isolatedBy: judged.isolatingPolicies.map(\.description), selectors: selectors,
                allowedBy: judged.allowingRules.map(\.description),
                tiers: judged.tiers.isEmpty
                    ? nil : judged.tiers.map { Tier(tier: $0.tier.rawValue, result: $0.result.rawValue, by: $0.by) },
                walkthrough: judged.tiers.isEmpty ? nil : judged.tiers.walkthrough,
                hostNetwork: endpoint.reachedPod.flatMap { cluster.pods[$0]?.hostNetwork == true ? true : nil })
        }
        egress = side(verdict.from, "egress", verdict.egress)
        ingress = side(verdict.to, "ingress", verdict.ingress)
        if verdict.implementationDefined { implementationDefined = true }
    }

    private enum CodingKeys: String, CodingKey {
        case from, to, port, `protocol`, afterStep, decision, egress, ingress, networkHop, mesh, detail, implementationDefined
    }

    /// Says how a connection through a node port or the load balancer reached its endpoint, and
    /// which address the endpoint's policies saw (`detail`); or that it had no path.
    mutating func describePath(_ path: ExposedPath?, entry: ServiceEntry) {
        guard let path else {
            detail =
                entry == .loadBalancer
                ? "no path: the load balancer has no address or sends nothing to that endpoint (externalTrafficPolicy Local sends only to nodes with a local endpoint)"
                : "no path: that node does not forward to that endpoint (externalTrafficPolicy Local: only its own endpoints), or has no such node port"
            return
        }
        let policy = path.service.externalTrafficPolicy?.rawValue ?? "Cluster"
        var text = "through node-\(path.node) (externalTrafficPolicy \(policy)) to \(path.backend.pod) \(path.backend.target)"
        if let address = path.sourceNAT {
            text += ", source-NATed to node-\(path.node)'s \(address): the endpoint's policies see \(address), not \(from)"
        } else {
            text += ", the client's address kept"
        }
        detail = text
        judged = (path.sourceNAT?.description ?? from, path.backend.target.description)
    }

    /// Says that NetworkPolicy judged the HBONE hop the mesh makes of this connection (TCP from the
    /// source pod to `pod`'s port 15008), not `asked` on `port`; the header keeps the connection the
    /// user asked about. `inside` is the port the destination's proxy reaches in the pod (a
    /// Service's target port; `port` itself when asked of a pod).
    mutating func describeTunnel(to pod: ObjectKey, asked: Endpoint, port: ProtocolPort, inside: ProtocolPort) {
        let hop = "TCP/\(MeshDataPath.hbonePort)"
        networkHop =
            "NetworkPolicy judges the HBONE hop: \(from) -> \(pod) \(hop) (the mesh tunnels the connection between meshed pods where either is ambient; "
            + "the destination's proxy reaches \(inside) inside the pod, where NetworkPolicy does not look)"
        to = asked.description
        self.port = port.port
        `protocol` = port.proto.rawValue
        judged = (from, hop)
        egressJudged = (pod.description, hop)
    }

    /// Adds the mesh's chain: NetworkPolicy, then PeerAuthentication, then AuthorizationPolicy (R57).
    mutating func addMesh(_ verdict: MeshVerdict, networkDecision: Decision) {
        mesh = MeshRecord(verdict)
        guard networkDecision == .allow else {
            meshLines = ["  mesh: not reached (the network drops the connection first)"]
            return
        }
        decision = verdict.outcome.rawValue
        detail = verdict.detail
        var lines = ["  mesh: source \(verdict.sourcePlane.rawValue), destination \(verdict.destinationPlane.rawValue)"]
        if let service = verdict.service { lines.append("    through Service \(service)") }
        if let bypass = verdict.bypass {
            lines.append("    \(bypass)")
            meshLines = lines
            return
        }
        lines.append("    presented: \(verdict.presented)")
        if let mode = verdict.mode { lines.append("    mutual TLS of the port: \(mode.description)") }
        switch (verdict.outcome, verdict.detail) {
        case (.denyMTLS, "bad-certificate"?):
            lines.append("    refused at the handshake: the certificate is not signed by the lab CA (R17)")
        case (.denyMTLS, _):
            lines.append("    refused: STRICT accepts only mutual TLS, and the client sent plaintext (R12, R51)")
        default:
            if let authorization = verdict.authorization {
                let result = authorization.allowed ? "allowed" : "denied (\(verdict.detail ?? "reset"))"
                lines.append("    authorization: \(result) by \(authorization.description) (R23)")
            }
        }
        meshLines = lines
    }

    /// `TCP/80`, or `ICMP` (an echo probe has no port), as `ProtocolPort` writes it.
    var portText: String { `protocol` == TransportProtocol.icmp.rawValue ? `protocol` : "\(`protocol`)/\(port)" }

    var text: String {
        var lines = [
            "\(from) -> \(to) \(portText), after step \(afterStep) of \(steps): \(decision.uppercased())"
                + (detail.map { " (\($0))" } ?? "")
        ]
        if let translation { lines.append("  \(translation)") }
        if let networkHop { lines.append("  \(networkHop)") }
        for side in [egress, ingress] {
            lines.append("  \(side.direction) of \(side.pod): \(side.outcome)")
            if let walkthrough = side.walkthrough {
                lines.append("    tiers: \(walkthrough)")
                // Decided by a ClusterNetworkPolicy tier: the NetworkPolicy lines would not apply.
                if side.tiers?.contains(where: { $0.tier == PolicyTier.networkPolicy.rawValue }) != true { continue }
            }
            switch side.outcome {
            case _ where side.hostNetwork == true && side.isolatedBy.isEmpty:
                lines.append(
                    "    a host-network pod: it uses its node's network, which NetworkPolicy does not isolate whatever selects it")
            case DirectionVerdict.Outcome.selfTraffic.rawValue where side.walkthrough != nil:
                // The tiers judged it: a pod reaching itself through a Service (`judgeTiers(hairpin:)`),
                // which network-policy-api's api-overview ("hairpin") puts under ClusterNetworkPolicy.
                lines.append(
                    "    a pod reaching itself through a Service: ClusterNetworkPolicy applies (no Admin rule decided it), then the NetworkPolicies that select the pod let its own traffic through"
                )
            case DirectionVerdict.Outcome.selfTraffic.rawValue:
                lines.append("    a pod reaching itself is always allowed (the traffic never leaves its namespace)")
            case DirectionVerdict.Outcome.notIsolated.rawValue:
                lines.append(
                    "    no NetworkPolicy with \(side.direction == "egress" ? "Egress" : "Ingress") in its policyTypes selects it: everything is allowed"
                )
            case DirectionVerdict.Outcome.notApplicable.rawValue:
                lines.append("    not a pod: NetworkPolicy does not apply to it")
            case DirectionVerdict.Outcome.localNode.rawValue:
                lines.append(
                    "    the source is the pod's own node: allowed whatever its policies say (spec.lab.nodeIngress: allow, the NetworkPolicy API's local-node rule)"
                )
                let isolating = side.isolatedBy.joined(separator: ", ")
                if !isolating.isEmpty { lines.append("    isolated by: \(isolating)") }
            case DirectionVerdict.Outcome.denied.rawValue where side.isolatedBy.isEmpty:
                // Denied with no policy: only a Service cell is (PolicyEngine+Service.swift).
                lines.append(
                    to.hasPrefix("svc/") && (to.contains("@") || keptOffByLocal)
                        ? "    no policy: the connection has no path to that endpoint"
                        : from.hasPrefix("external/")
                            ? "    no policy: a ClusterIP is cluster-internal, nothing outside the cluster routes to it"
                            : "    no policy: the Service port has no endpoint, the proxy drops the connection")
            default:
                lines.append("    isolated by: \(side.isolatedBy.joined(separator: ", "))")
                // Say when a selector was never written: the API server defaulted it to every pod.
                for selector in side.selectors where selector.defaulted {
                    let namespace = selector.policy.split(separator: "/").first.map(String.init) ?? ""
                    lines.append(
                        "    \(selector.policy) has no spec.podSelector: the API server defaults it to {} (every pod of namespace \(namespace))"
                    )
                }
                if side.allowedBy.isEmpty {
                    var other = side.direction == "egress" ? to : from
                    var judgedPort = portText
                    if side.direction == "ingress", let judged {
                        // Through a node port the endpoint judged its target port, maybe from the node.
                        (other, judgedPort) = judged
                    }
                    if side.direction == "egress", let egressJudged { (other, judgedPort) = egressJudged }
                    lines.append("    no \(side.direction) rule of these policies allows \(other) on \(judgedPort)")
                } else {
                    for rule in side.allowedBy { lines.append("    allowed by: \(rule)") }
                }
            }
        }
        if implementationDefined == true {
            lines.append(
                "  implementation-defined: the NetworkPolicy API defines only TCP, UDP and SCTP; keycard follows the common behaviour (only a rule without ports admits ICMP)"
            )
        }
        return (lines + meshLines).joined(separator: "\n")
    }
}
