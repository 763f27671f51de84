import KeycardModel

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
    private var steps: Int

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
                allowedBy: judged.allowingRules.map(\.description))
        }
        egress = side(verdict.from, "egress", verdict.egress)
        ingress = side(verdict.to, "ingress", verdict.ingress)
    }

    private enum CodingKeys: String, CodingKey {
        case from, to, port, `protocol`, afterStep, decision, egress, ingress
    }

    var text: String {
        var lines = ["\(from) -> \(to) \(`protocol`)/\(port), after step \(afterStep) of \(steps): \(decision.uppercased())"]
        for side in [egress, ingress] {
            lines.append("  \(side.direction) of \(side.pod): \(side.outcome)")
            switch side.outcome {
            case DirectionVerdict.Outcome.selfTraffic.rawValue:
                lines.append("    a pod reaching itself is always allowed (the traffic never leaves its namespace)")
            case DirectionVerdict.Outcome.notIsolated.rawValue:
                lines.append(
                    "    no NetworkPolicy with \(side.direction == "egress" ? "Egress" : "Ingress") in its policyTypes selects it: everything is allowed"
                )
            case DirectionVerdict.Outcome.notApplicable.rawValue:
                lines.append("    not a pod: NetworkPolicy does not apply to it")
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
                    let other = side.direction == "egress" ? to : from
                    lines.append("    no \(side.direction) rule of these policies allows \(other) on \(`protocol`)/\(port)")
                } else {
                    for rule in side.allowedBy { lines.append("    allowed by: \(rule)") }
                }
            }
        }
        return lines.joined(separator: "\n")
    }
}
