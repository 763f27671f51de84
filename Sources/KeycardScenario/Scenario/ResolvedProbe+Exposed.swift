import KeycardModel
import KeycardValues

extension ResolvedProbe {
    /// Destinations `svc/ns/name@node-N` and `svc/ns/name@lb`: the Service exists with node ports
    /// (`Service.servesNodePorts`: NodePort or LoadBalancer with a port holding one, allocated or
    /// pinned, whatever `allocateLoadBalancerNodePorts` says), node N is a lab node, the
    /// load balancer has its address, every probe port is one the path listens on (a node port on
    /// a node, a Service port on the load balancer), and only externals probe them (a pod's
    /// connection to a node port is not built: its policies would judge the node's address before
    /// the node translates it, which depends on the placement).
    func checkExposed(_ step: Step, _ cluster: Cluster, portsDefaulted: Bool) throws(ScenarioError) {
        // A host-network pod shares its node's address: a node port there is the Service's
        // (`Cluster.nodePortService`), so a cell to the pod on it would be answered by another.
        for case .pod(let key) in destinations {
            guard cluster.pods[key]?.hostNetwork == true, let node = cluster.podNodes[key] else { continue }
            for port in ports {
                guard let service = cluster.nodePortService(port) else { continue }
                throw ScenarioError(
                    step.location,
                    "probe.to: \(key) is a host-network pod of node-\(node), where \(port) is Service \(service.key)'s node port: kube-proxy sends every connection to it to the Service, never to the pod; probe svc/\(service.key)@node-\(node)"
                        + (portsDefaulted ? ", or name ports" : "")
                )
            }
        }
        for case .exposed(let key, let entry, let backend) in destinations {
            guard let service = cluster.services[key] else {
                throw ScenarioError(step.location, "probe.to: Service \(key) does not exist at this step")
            }
            if let backend, !Self.isBackendPod(backend, of: service, cluster) {
                throw ScenarioError(
                    step.location,
                    "probe.to: svc/\(key)@\(entry)>\(backend): pod \(backend) is not a backend of Service \(key) at this step")
            }
            guard service.servesNodePorts else {
                throw ScenarioError(
                    step.location,
                    service.kind == .loadBalancer
                        ? "probe.to: svc/\(key)@\(entry): LoadBalancer Service \(key) has no node port (allocateLoadBalancerNodePorts: false and none pinned); the lab's load balancer forwards to node ports only"
                        : "probe.to: svc/\(key)@\(entry): Service \(key) is \(service.kind.rawValue) without node ports; only NodePort and LoadBalancer Services are reached from outside"
                )
            }
            switch entry {
            case .node(let index):
                guard index < cluster.nodeCount else {
                    throw ScenarioError(
                        step.location, "probe.to: svc/\(key)@\(entry): the lab has nodes node-0 ... node-\(cluster.nodeCount - 1)")
                }
            case .loadBalancer:
                guard service.kind == .loadBalancer else {
                    throw ScenarioError(
                        step.location, "probe.to: svc/\(key)@lb: Service \(key) is \(service.kind.rawValue), not LoadBalancer")
                }
                guard service.loadBalancerIngress != nil else {
                    throw ScenarioError(
                        step.location, "probe.to: svc/\(key)@lb: the load balancer has no address (set spec.lab.loadBalancerCIDR)")
                }
            }
            let listening = cluster.servedPorts(of: .exposed(key, entry))
            for port in ports where !listening.contains(port) {
                // Default ports are every port some destination serves: another destination's.
                throw ScenarioError(
                    step.location,
                    "probe.to: svc/\(key)@\(entry) does not listen on \(port) (it listens on \(listening.map(\.description).joined(separator: ", ")); a node is probed on the node port)"
                        + (portsDefaulted
                            ? "; without ports the step probes every destination on every port some destination serves: split the node, load-balancer and pod destinations into steps of their own, or name ports"
                            : "")
                )
            }
            for source in sources {
                guard case .external = cluster.source(source) else {
                    throw ScenarioError(
                        step.location, "probe.to: svc/\(key)@\(entry) is probed from externals only; \(source) is not an external")
                }
            }
        }
    }
}
