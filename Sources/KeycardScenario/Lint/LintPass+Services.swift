import KeycardModel

/// The checks about Services.
extension LintPass {
    /// `service-selects-nothing`: a Service with a selector that no pod of its namespace matches
    /// has no endpoints (the EndpointSlice controller lists the pods it selects), so every
    /// connection to it is dropped (docs/kubernetes-fidelity.md); a selector written wrong, or a
    /// pod's labels changed under it. Services without a selector (endpoints by hand) and
    /// ExternalName Services are not judged.
    mutating func checkServiceSelectors() {
        for service in cluster.services.values.sorted(by: { $0.key < $1.key }) {
            guard service.kind != .externalName, let selector = service.selector, !selector.isEmpty else { continue }
            if cluster.pods.values.contains(where: service.selects) { continue }
            let labels = selector.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
            report(
                "service-selects-nothing",
                "Service \(service.key)'s selector \(labels) matches no pod of namespace \(service.namespace): it has no endpoints, and every connection to it is dropped",
                ObjectRef(kind: .service, namespace: service.namespace, name: service.name), [.key("spec"), .key("selector")])
        }
    }
}
