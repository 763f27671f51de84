import KeycardModel

extension Service {
    /// How a NodePort or LoadBalancer Service is reached from outside, as `kubectl get service`
    /// would show it: `Service ns/web LoadBalancer, externalTrafficPolicy Local: TCP/80 node port
    /// 30086; status.loadBalancer.ingress 192.0.2.1; healthCheckNodePort 30087`. nil for other types.
    public var exposureText: String? { exposureText(pending: Self.scenarioPending) }

    /// Why a LoadBalancer has no address in a scenario: it sets no `spec.lab.loadBalancerCIDR`.
    public static let scenarioPending = "no spec.lab.loadBalancerCIDR"

    /// Why a LoadBalancer has no address in manifests mode, which has no `spec.lab`: how to give it one.
    public static let manifestsPending =
        "no spec.lab.loadBalancerCIDR, which plain manifests cannot set: "
        + ManifestLoader.wrapRemedy.replacingOccurrences(of: "%@", with: "loadBalancerCIDR")

    /// `exposureText`, a LoadBalancer without an address saying `pending (<pending>)`.
    public func exposureText(pending: String) -> String? {
        guard isExternallyAccessible else { return nil }
        var text = "Service \(key) \(kind.rawValue), externalTrafficPolicy \(externalTrafficPolicy?.rawValue ?? "Cluster"): "
        text += ports.map { port in "\(port.protocolPort) node port \(port.nodePort.map(String.init) ?? "none")" }.joined(
            separator: ", ")
        if kind == .loadBalancer {
            text += "; status.loadBalancer.ingress \(loadBalancerIngress?.description ?? "pending (\(pending))")"
            if allocateLoadBalancerNodePorts == false { text += "; allocateLoadBalancerNodePorts false" }
        }
        if let healthCheckNodePort { text += "; healthCheckNodePort \(healthCheckNodePort)" }
        return text
    }
}

extension Timeline {
    /// For an apply step that applies NodePort or LoadBalancer Services, their `exposureText`s
    /// after the step, joined by "; " (node ports and load-balancer addresses are allocated when
    /// applied); nil otherwise.
    public func exposureSummary(ofStep index: Int) -> String? {
        guard let step = scenario.steps.first(where: { $0.index == index }), case .apply(let objects) = step.action else { return nil }
        let after = cluster(afterStep: index)
        let lines = objects.compactMap { loaded -> String? in
            guard case .service(let service) = loaded.object else { return nil }
            return after.services[service.key]?.exposureText
        }
        return lines.isEmpty ? nil : lines.joined(separator: "; ")
    }
}

extension Cluster {
    /// `exposureText` of every NodePort and LoadBalancer Service, in key order.
    public var exposureLines: [String] { sortedServices.compactMap(\.exposureText) }

    /// `exposureLines`, or nil when there are none (a report leaves the field out); `pending` says
    /// why a LoadBalancer has no address (`Service.exposureText(pending:)`).
    public func reportedExposure(pending: String = Service.scenarioPending) -> [String]? {
        let lines = sortedServices.compactMap { $0.exposureText(pending: pending) }
        return lines.isEmpty ? nil : lines
    }
}
