import KeycardValues

extension ServiceDNSInput {
    /// The DNS inputs of every Service in `cluster`, by the Kubernetes DNS specification
    /// (https://github.com/kubernetes/dns/blob/master/docs/specification.md, sections 2.3 and 2.4):
    /// a Service with a ClusterIP answers with it; a headless Service with the addresses of the pods
    /// it selects, and each StatefulSet pod also under its own name (`<pod>.<svc>.<ns>.svc`) when
    /// the Service is its governing Service (the StatefulSet's `spec.serviceName`, which the
    /// controller sets as the pod's `subdomain`; the endpoints controller gives an endpoint a
    /// hostname only when the pod's subdomain names the Service). ExternalName Services (a CNAME)
    /// are not answered.
    public static func all(in cluster: Cluster) -> [ServiceDNSInput] {
        cluster.sortedServices.compactMap { service in
            switch service.address {
            case .ip(let ip):
                return ServiceDNSInput(namespace: service.namespace, name: service.name, kind: .clusterIP(ip))
            case .headless:
                let endpoints = cluster.backendPods(of: service).compactMap { pod -> HeadlessEndpoint? in
                    guard let address = cluster.addresses[pod.key] else { return nil }
                    let governed = pod.owner.flatMap { cluster.workloads[$0.workload]?.workload.serviceName } == service.name
                    return HeadlessEndpoint(address: address, hostname: governed ? pod.name : nil)
                }
                return ServiceDNSInput(namespace: service.namespace, name: service.name, kind: .headless(endpoints))
            case .unallocated, .none:
                return nil
            }
        }
    }
}
