import KeycardValues

extension ServiceDNSInput {
    /// The DNS inputs of every Service in `cluster`, by the Kubernetes DNS specification
    /// (https://github.com/kubernetes/dns/blob/master/docs/specification.md, sections 2.3 and 2.4):
    /// a Service with a ClusterIP answers with it; a headless Service with the addresses of the pods
    /// it selects, each StatefulSet pod also under its own name (`<pod>.<svc>.<ns>.svc`). keycard does
    /// not keep a StatefulSet's `serviceName`, so a StatefulSet pod gets that hostname record under
    /// every headless Service that selects it (Kubernetes: only under its governing Service).
    /// ExternalName Services (a CNAME) are not answered.
    public static func all(in cluster: Cluster) -> [ServiceDNSInput] {
        cluster.sortedServices.compactMap { service in
            switch service.address {
            case .ip(let ip):
                return ServiceDNSInput(namespace: service.namespace, name: service.name, kind: .clusterIP(ip))
            case .headless:
                let endpoints = cluster.backendPods(of: service).compactMap { pod -> HeadlessEndpoint? in
                    guard let address = cluster.addresses[pod.key] else { return nil }
                    let statefulSetPod = pod.owner?.workload.kind == .statefulSet
                    return HeadlessEndpoint(address: address, hostname: statefulSetPod ? pod.name : nil)
                }
                return ServiceDNSInput(namespace: service.namespace, name: service.name, kind: .headless(endpoints))
            case .unallocated, .none:
                return nil
            }
        }
    }
}
