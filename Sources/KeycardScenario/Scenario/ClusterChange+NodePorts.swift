import KeycardModel
import KeycardValues

extension ClusterChange {
    /// `service` with its node ports, health-check node port and load-balancer address settled as
    /// the API server's registry (pkg/registry/core/service/storage, portallocator) and a load
    /// balancer controller settle them:
    /// - a pinned `nodePort` must lie in `NodePorts.range` and be free ("provided port is not in the
    ///   valid range", "provided port is already allocated"); a port number belongs to one Service;
    /// - an unpinned one keeps the port an earlier version of the Service had for the same
    ///   `proto/port`, else gets the lowest free port (keycard's deterministic allocation), never
    ///   one in `avoiding` (the ports other Services of the same batch pin: where the API server's
    ///   random pick rarely collides with a port pinned a moment later, the lowest free one would);
    /// - `healthCheckNodePort` likewise for a LoadBalancer with the Local policy;
    /// - a LoadBalancer keeps its address, else gets the lowest free one of
    ///   `Cluster.loadBalancerCIDR` (pending, nil, without one).
    func exposed(_ service: Service, in cluster: Cluster, avoiding: Set<Int> = [], at location: SourceLocation) throws(ScenarioError)
        -> Service
    {
        var service = service
        let previous = cluster.services[service.key]
        let others = cluster.services.values.filter { $0.key != service.key }
        var taken = others.reduce(into: Set<Int>()) { $0.formUnion($1.heldNodePorts) }
        func check(_ number: Int, _ field: String) throws(ScenarioError) {
            guard NodePorts.range.contains(number) else {
                throw ScenarioError(
                    location,
                    "Service \(service.key): \(field): Invalid value: \(number): provided port is not in the valid range. The range of valid ports is \(NodePorts.range.lowerBound)-\(NodePorts.range.upperBound)"
                )
            }
            guard !taken.contains(number) else {
                throw ScenarioError(
                    location, "Service \(service.key): \(field): Invalid value: \(number): provided port is already allocated")
            }
        }
        func allocate(_ field: String) throws(ScenarioError) -> Int {
            guard let number = NodePorts.allocate(taken: taken.union(avoiding)) else {
                throw ScenarioError(location, "Service \(service.key): \(field): no free node port left in \(NodePorts.range)")
            }
            return number
        }
        // Pinned ports first, so an allocated one never takes a number pinned later in the list.
        for (index, port) in service.ports.enumerated() {
            if let number = port.nodePort { try check(number, "spec.ports[\(index)].nodePort") }
        }
        taken.formUnion(service.ports.compactMap(\.nodePort))
        for index in service.ports.indices where service.ports[index].nodePort == nil && service.hasNodePorts {
            let port = service.ports[index]
            // The same number for another protocol of the same Service port number is allowed; an
            // update keeps what was allocated (the registry's patchAllocatedValues).
            let number: Int
            if let kept = previous?.ports.first(where: { $0.protocolPort == port.protocolPort })?.nodePort,
                !taken.contains(kept) || service.ports.contains(where: { $0.nodePort == kept && $0.proto != port.proto })
            {
                number = kept
            } else {
                number = try allocate("spec.ports[\(index)].nodePort")
            }
            service.ports[index].nodePort = number
            taken.insert(number)
        }
        if service.needsHealthCheckNodePort {
            if let number = service.healthCheckNodePort {
                try check(number, "spec.healthCheckNodePort")
            } else if let kept = previous?.healthCheckNodePort, !taken.contains(kept) {
                service.healthCheckNodePort = kept
            } else {
                service.healthCheckNodePort = try allocate("spec.healthCheckNodePort")
            }
        }
        if service.kind == .loadBalancer {
            if let kept = previous?.loadBalancerIngress {
                service.loadBalancerIngress = kept
            } else if let cidr = cluster.loadBalancerCIDR {
                service.loadBalancerIngress = LoadBalancerAddresses.allocate(
                    in: cidr, taken: Set(others.compactMap(\.loadBalancerIngress)))
            }
        }
        return service
    }

    /// The node ports the Services of `objects` pin (each Service's own, for `exposed`'s `avoiding`).
    static func pinnedNodePorts(_ objects: [LoadedObject]) -> [ObjectKey: Set<Int>] {
        var pinned: [ObjectKey: Set<Int>] = [:]
        for loaded in objects {
            guard case .service(let service) = loaded.object else { continue }
            pinned[service.key] = Set(service.ports.compactMap(\.nodePort) + (service.healthCheckNodePort.map { [$0] } ?? []))
        }
        return pinned
    }
}
