import KeycardValues

extension ServiceDNSInput {
    /// The DNS inputs of every Service in `cluster`, by the Kubernetes DNS specification
    /// (https://github.com/kubernetes/dns/blob/master/docs/specification.md, sections 2.3 and 2.4):
    /// a Service with a ClusterIP answers with it; a headless Service with the addresses of the pods
    /// it selects; under either, each endpoint answers by name (`DNSRecords`): a pod whose
    /// `subdomain` names the Service under its `hostname` (`<hostname>.<svc>.<ns>.svc`): a bare
    /// pod's as written, a StatefulSet pod's its own name under the governing Service
    /// (`spec.serviceName`), an Indexed Job pod's `<job>-<index>` (the controllers set them; the
    /// endpoints controller names an endpoint only then, headless Service or not:
    /// pkg/controller/util/endpoint `ShouldSetHostname`), any other under its dashed address; an
    /// ExternalName Service with a CNAME to its `spec.externalName` (section 2.4).
    public static func all(in cluster: Cluster) -> [ServiceDNSInput] {
        cluster.sortedServices.compactMap { service in
            if service.kind == .externalName {
                guard let target = service.externalName else { return nil }
                return ServiceDNSInput(namespace: service.namespace, name: service.name, kind: .externalName(target))
            }
            // The endpoints controller names an endpoint only for a pod whose subdomain is this
            // Service and that has a hostname.
            let endpoints = cluster.backendPods(of: service).compactMap { pod -> DNSEndpoint? in
                guard let address = cluster.addresses[pod.key] else { return nil }
                return DNSEndpoint(address: address, hostname: pod.subdomain == service.name ? pod.hostname : nil)
            }
            switch service.address {
            case .ip(let ip):
                return ServiceDNSInput(namespace: service.namespace, name: service.name, kind: .clusterIP(ip, endpoints: endpoints))
            case .headless:
                return ServiceDNSInput(namespace: service.namespace, name: service.name, kind: .headless(endpoints))
            case .unallocated, .none:
                return nil
            }
        }
    }
}
