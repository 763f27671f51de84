import Foundation
import KeycardModel
import KeycardValues

extension FlowLog {
    /// Hubble flows of connections the kernel saw (`ObservedTraffic`), attributed with the policy
    /// model of `cluster` exactly as probe flows are: `FORWARDED` with the rules that allowed it,
    /// `DROPPED` with the isolating policies of the side that dropped it (its policy verdict, then the
    /// drop event: `events(from:to:...)`). `extensions.kind` is
    /// `traffic`, `origin` `prober` or `program` when known, `evidence` `kernel`, and `confirmed`
    /// says whether the kernel's word agrees with the model (a drop logged by the side the model
    /// says denies; a confirmed connection the model allows). A source at a lab node's address —
    /// the node itself, a host-network pod (its traffic is its node's), or a NodePort or
    /// LoadBalancer connection the entry node source-NATed on its way to another node's backend —
    /// is that node (`node/node-N`), as the packet carried it and as the policies judged it: Hubble
    /// names it `reserved:host` on its own node, else `reserved:remote-node` (`endpoint(_:seenOn:_:)`).
    /// A connection whose source is nothing of the lab (no pod, external or node has its address) is
    /// left out. `step`/`stepName` stamp the scenario step (or the live lab's state) whose cluster
    /// judged them.
    public func trafficFlows(_ traffic: [ObservedTraffic], cluster: Cluster, step: Int, stepName: String?, time: Date)
        -> [HubbleFlowLine]
    {
        let stamp = Self.timestamp(time)
        let engine = PolicyEngine(cluster)
        var lines: [HubbleFlowLine] = []
        for connection in traffic {
            let from: ObjectKey
            switch cluster.endpoint(at: connection.source) {
            case .pod(let key): from = key
            case .external(let name): from = .external(name)
            case .node(let name): from = .node(name)
            default: continue
            }
            let to = cluster.endpoint(at: connection.destination)
            let verdict = engine.evaluate(fromSource: from, to: to, port: connection.port)
            let dropped = connection.dropPrefix != nil
            let observed: Observation = dropped ? .deny : .allow
            let reason = connection.dropPrefix.map { "dropped: \($0)" } ?? "connection confirmed by conntrack in \(connection.namespace)"
            let confirmed = RuleAttribution.confirmed(verdict, observed: observed, reason: reason)
            var facts = KeycardFlowFacts(
                scenario: scenario, step: step, stepName: stepName, kind: "traffic", cell: "\(from) -> \(to) \(connection.port)",
                attempt: 1, attempts: connection.packets, model: verdict.decision.rawValue, observed: observed.rawValue,
                reason: reason, rule: RuleAttribution(verdict)?.text, confirmed: confirmed, evidence: "kernel")
            facts.origin = connection.prober.map { $0 ? "prober" : "program" }
            lines += events(
                from: from, to: to, port: connection.port, dropped: dropped, verdict: verdict, cluster: cluster, time: stamp,
                sourcePort: connection.sourcePort, facts: facts)
        }
        return lines
    }
}
