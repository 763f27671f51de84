import KeycardValues

extension Cluster {
    /// The backend and target port a connection to `endpoint` on `port` reaches when `endpoint`
    /// is a Service's backend (`.service(key, backend:)` on a Service port, `.exposed(key, entry,
    /// backend:)` on its node port or load-balancer port); nil for anything else or a backend the
    /// port does not send to.
    public func backendTarget(_ endpoint: Endpoint, _ port: ProtocolPort) -> ServiceBackend? {
        let servicePort: ServicePort?
        let backend: ObjectKey
        let service: Service
        switch endpoint {
        case .service(let key, let pod?):
            guard let found = services[key] else { return nil }
            (service, backend) = (found, pod)
            servicePort = found.ports.first { $0.protocolPort == port }
        case .exposed(let key, let entry, let pod?):
            guard let found = services[key] else { return nil }
            (service, backend) = (found, pod)
            servicePort = exposedPort(found, entry, port)
        default:
            return nil
        }
        guard let servicePort else { return nil }
        return self.backend(backend, of: service, port: servicePort)
    }

    /// The port NetworkPolicy judges a connection to `endpoint` on `port` by: a Service
    /// backend's target port after translation, else `port` itself.
    public func judgedPort(_ endpoint: Endpoint, _ port: ProtocolPort) -> ProtocolPort {
        backendTarget(endpoint, port)?.target ?? port
    }

    /// The same cluster with no NetworkPolicy and no ClusterNetworkPolicy: what audit mode's
    /// "without enforcement" means.
    public var withoutPolicies: Cluster {
        var open = self
        open.policies = [:]
        open.clusterPolicies = [:]
        return open
    }
}
