import KeycardValues

extension PolicyEngine {
    /// Judges a source key (a pod, `external/NAME` or `node/NAME`) as the cluster reads it
    /// (`Cluster.source(_:)`).
    public func evaluate(fromSource key: ObjectKey, to destination: Endpoint, port: ProtocolPort) -> Verdict {
        evaluate(from: cluster.source(key), to: destination, port: port)
    }

    /// The local-node rule: with `nodeIngress: allow`, a connection from a pod's own node is
    /// allowed whatever policies (NetworkPolicy or cluster tiers) select the pod — the API's
    /// "OR if the traffic source is the pod's local node", as kube-router, Calico and Cilium
    /// (default) apply it, before any policy chain. A node has no egress side (it is not a pod).
    /// Nil when the rule does not decide.
    func localNodeVerdict(from source: Endpoint, to destination: Endpoint, port: ProtocolPort) -> Verdict? {
        guard cluster.localNodeAdmits(source, destination), case .pod(let key) = destination, let pod = cluster.pods[key]
        else { return nil }
        let egress = DirectionVerdict(outcome: .notApplicable, isolatingPolicies: [], allowingRules: [])
        let isolating = cluster.isolatingPolicies(for: pod, .ingress).map(\.key)
        // Nothing to override: the ordinary path says "not isolated".
        if isolating.isEmpty && cluster.clusterPolicies.isEmpty { return nil }
        let ingress = DirectionVerdict(outcome: .localNode, isolatingPolicies: isolating, allowingRules: [])
        return Verdict(from: source, to: destination, port: port, egress: egress, ingress: ingress)
    }
}
