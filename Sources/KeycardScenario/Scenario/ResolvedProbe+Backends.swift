import KeycardModel
import KeycardValues

extension ResolvedProbe {
    /// A destination steered to one backend (`svc/ns/name>ns/pod`, `svc/ns/name@entry>ns/pod`) on
    /// a probed port of the Service where that pod is no endpoint: refused at the step, as a pod
    /// that is no backend at all is. The EndpointSlice controller lists a named `targetPort` only
    /// for a pod whose containers declare that name (`podutil.FindPort`, pkg/controller/endpointslice
    /// `getEndpointPorts`), and kube-proxy keeps one endpoint per `IP:port` (endpointslicecache.go
    /// `addEndpoints`), so a second host-network pod of a node is none, and sends to a terminating
    /// pod only when the port has no ready endpoint (`Cluster.backends(of:port:)`); a connection
    /// aimed at such a pod has no endpoint to reach (the lab finds no source port for it). A port
    /// the Service lacks is left to the checks that name it.
    func checkSteeredBackends(_ step: Step, _ cluster: Cluster) throws(ScenarioError) {
        for destination in destinations {
            let written: String
            let key: ObjectKey
            let backend: ObjectKey
            let servicePort: (ProtocolPort) -> ServicePort?
            switch destination {
            case .service(let serviceKey, let pod?):
                (written, key, backend) = ("svc/\(serviceKey)>\(pod)", serviceKey, pod)
                servicePort = { port in cluster.services[serviceKey]?.ports.first { $0.protocolPort == port } }
            case .exposed(let serviceKey, let entry, let pod?):
                (written, key, backend) = ("svc/\(serviceKey)@\(entry)>\(pod)", serviceKey, pod)
                servicePort = { port in cluster.services[serviceKey].flatMap { cluster.exposedPort($0, entry, port) } }
            default:
                continue
            }
            guard let service = cluster.services[key], let pod = cluster.pods[backend] else { continue }
            for port in ports {
                guard let servicePort = servicePort(port), cluster.backend(backend, of: service, port: servicePort) == nil else { continue }
                throw ScenarioError(
                    step.location,
                    "probe.to: \(written): pod \(backend) is not a backend of Service \(key) on \(port) at this step (\(Self.noEndpointReason(pod, service, servicePort, cluster)))"
                )
            }
        }
    }

    /// Whether pod `key` is an endpoint of `service` on some port: a ready one, or a terminating
    /// one still serving (kube-proxy's fallback when a port has no ready endpoint).
    static func isBackendPod(_ key: ObjectKey, of service: Service, _ cluster: Cluster) -> Bool {
        guard let pod = cluster.pods[key] else { return false }
        return Cluster.isReadyEndpoint(pod, of: service) || Cluster.isServingTerminatingEndpoint(pod, of: service)
    }

    /// Why `pod`, a backend of `service`, is no endpoint of `servicePort` (`checkSteeredBackends`).
    private static func noEndpointReason(_ pod: Pod, _ service: Service, _ servicePort: ServicePort, _ cluster: Cluster) -> String {
        guard let target = service.target(servicePort, on: pod) else {
            if service.retainedEndpoints == nil, case .name(let name) = servicePort.target {
                return "targetPort \(name) names no \(servicePort.proto.rawValue) container port of the pod"
            }
            return "the Service's endpoints list no port \(servicePort.target) for it"
        }
        if Cluster.isServingTerminatingEndpoint(pod, of: service) {
            return
                "it is terminating (metadata.deletionTimestamp) and the port has ready endpoints; kube-proxy sends to a terminating one only when none is ready"
        }
        if pod.hostNetwork, let address = cluster.addresses[pod.key] {
            return
                "another host-network pod of its node is the endpoint \(address):\(target) (kube-proxy keeps one endpoint per address and port)"
        }
        return "it has no endpoint on that port"
    }
}
