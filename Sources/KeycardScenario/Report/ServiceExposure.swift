import KeycardModel

extension Service {
    /// How a NodePort or LoadBalancer Service is reached from outside, as `kubectl get service`
    /// would show it: `Service ns/web LoadBalancer, externalTrafficPolicy Local: TCP/80 node port
    /// 30000; status.loadBalancer.ingress 192.0.2.1; healthCheckNodePort 30001`. nil for other types.
    public var exposureText: String? {
        guard isExternallyAccessible else { return nil }
        var text = "Service \(key) \(kind.rawValue), externalTrafficPolicy \(externalTrafficPolicy?.rawValue ?? "Cluster"): "
        text += ports.map { port in "\(port.protocolPort) node port \(port.nodePort.map(String.init) ?? "none")" }.joined(
            separator: ", ")
        if kind == .loadBalancer {
            text += "; status.loadBalancer.ingress \(loadBalancerIngress?.description ?? "pending (no spec.lab.loadBalancerCIDR)")"
            if allocateLoadBalancerNodePorts == false { text += "; allocateLoadBalancerNodePorts false" }
        }
        if let healthCheckNodePort { text += "; healthCheckNodePort \(healthCheckNodePort)" }
        return text
    }
}

extension Cluster {
    /// `exposureText` of every NodePort and LoadBalancer Service, in key order.
    public var exposureLines: [String] { sortedServices.compactMap(\.exposureText) }
}
