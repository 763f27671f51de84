import KeycardValues

/// The model's answer for a connection to one backend of a Service port.
public struct ServiceVerdict: Hashable, Sendable {
    public var service: ObjectKey
    /// The Service's own `proto/port` the client connects to.
    public var servicePort: ProtocolPort
    public var backend: ServiceBackend
    /// The verdict of the translated connection: to the backend pod, on its target port.
    public var verdict: Verdict
}

/// How NetworkPolicy is applied to Service traffic (`spec.lab.serviceEnforcement`).
public enum ServiceEnforcement: String, Hashable, Sendable, CaseIterable, Codable {
    /// Kubernetes: policies judge the translated connection (backend pod, target port).
    case postDNAT = "post-dnat"
    /// As some CNIs do: the source's egress judges the ClusterIP and Service port, before
    /// translation; the backend's ingress still sees the translated connection.
    case preDNAT = "pre-dnat"
}

extension PolicyEngine {
    /// A connection from `source` to `service`'s ClusterIP on `port`, judged once per backend.
    ///
    /// Kubernetes evaluates NetworkPolicy on the backend pod and its target port, after Service
    /// translation ("NetworkPolicy ... the traffic is evaluated after the Service VIP has been
    /// resolved", https://kubernetes.io/docs/concepts/services-networking/network-policies/): so the
    /// egress side sees the backend as its peer and the target port as the port. With `.preDNAT`
    /// the egress side sees the ClusterIP (an address no pod selector matches) and the Service port.
    /// A backend that `ClusterIPPath` does not reach from the source (internalTrafficPolicy Local,
    /// another node's endpoint) gets a verdict with no path: denied, no policy to name.
    public func evaluate(
        from source: Endpoint, toService service: Service, port: ServicePort, enforcement: ServiceEnforcement = .postDNAT
    ) -> [ServiceVerdict] {
        cluster.backends(of: service, port: port).map {
            evaluate(from: source, toService: service, port: port, backend: $0, enforcement: enforcement)
        }
    }

    /// The verdict for one backend of `port` of `service` (one of `cluster.backends`).
    func evaluate(
        from source: Endpoint, toService service: Service, port: ServicePort, backend: ServiceBackend, enforcement: ServiceEnforcement
    )
        -> ServiceVerdict
    {
        // internalTrafficPolicy Local: the proxy of the source's node never sends it there.
        guard ClusterIPPath.reaches(cluster, from: source, service, port, backend: backend) else {
            let lost = Self.unroutable(from: source, to: .pod(backend.pod), port: backend.target)
            return ServiceVerdict(service: service.key, servicePort: port.protocolPort, backend: backend, verdict: lost)
        }
        var verdict = evaluate(from: source, to: .pod(backend.pod), port: backend.target)
        // Hairpin through the Service: ClusterNetworkPolicy applies (PolicyEngine+Tiers.swift).
        if source == .pod(backend.pod), let pod = cluster.pods[backend.pod],
            let hairpin = hairpinVerdict(pod, port: backend.target, source: source, destination: .pod(backend.pod))
        {
            verdict = hairpin
        }
        if enforcement == .preDNAT, let clusterIP = service.clusterIP {
            let seen = evaluate(from: source, to: .address(clusterIP), port: port.protocolPort)
            verdict.egress = seen.egress
        }
        return ServiceVerdict(service: service.key, servicePort: port.protocolPort, backend: backend, verdict: verdict)
    }
}

extension PolicyEngine {
    /// The verdict of a probe cell to `svc/ns/name` on the Service port `port`, through `backend`:
    /// the translated connection's verdict (`evaluate(from:toService:port:enforcement:)`, with the
    /// cluster's `serviceEnforcement`), named after the Service. Without a backend (a Service port
    /// with no endpoints, or no such Service or port) the proxy drops the connection: denied, with
    /// no policy to name. `enforcement` replaces the cluster's (a mesh proxy's call is post-DNAT).
    func evaluate(
        from source: Endpoint, toService key: ObjectKey, backend: ObjectKey?, port: ProtocolPort, enforcement: ServiceEnforcement? = nil
    ) -> Verdict {
        let destination = Endpoint.service(key, backend: backend)
        if let service = cluster.services[key], let servicePort = service.ports.first(where: { $0.protocolPort == port }),
            let reached = cluster.backend(backend, of: service, port: servicePort)
        {
            let found = evaluate(
                from: source, toService: service, port: servicePort, backend: reached,
                enforcement: enforcement ?? cluster.serviceEnforcement)
            var verdict = found.verdict
            verdict.to = destination
            verdict.port = port
            return verdict
        }
        let none = DirectionVerdict(outcome: .denied, isolatingPolicies: [], allowingRules: [])
        return Verdict(from: source, to: destination, port: port, egress: none, ingress: none)
    }
}

extension PolicyEngine {
    /// A ClusterIP is a virtual address kube-proxy translates on the cluster's own nodes and pods;
    /// nothing outside the cluster routes to it ("ClusterIP: exposes the Service on a
    /// cluster-internal IP ... only reachable from within the cluster",
    /// https://kubernetes.io/docs/concepts/services-networking/service/#type-clusterip). A
    /// connection from an external to one is lost before any policy sees it: denied, with no
    /// policy to name.
    static func unroutable(from source: Endpoint, to destination: Endpoint, port: ProtocolPort) -> Verdict {
        let none = DirectionVerdict(outcome: .denied, isolatingPolicies: [], allowingRules: [])
        return Verdict(from: source, to: destination, port: port, egress: none, ingress: none)
    }
}
