extension Verdict {
    /// True when the connection is lost before any policy judges it: both sides denied with no
    /// policy or tier to name. Only Service cells are (`PolicyEngine+Service.swift`): a Service port
    /// without an endpoint (the proxy drops it), a backend the path cannot reach (a node port or
    /// load balancer under externalTrafficPolicy Local, a ClusterIP under internalTrafficPolicy Local), or a ClusterIP
    /// probed from outside the cluster (nothing routes to it).
    public var hasNoPath: Bool {
        [egress, ingress].allSatisfy { $0.outcome == .denied && $0.isolatingPolicies.isEmpty && $0.tiers.isEmpty }
    }
}
