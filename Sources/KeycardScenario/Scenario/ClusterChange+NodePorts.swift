import KeycardModel
import KeycardValues

extension ClusterChange {
    /// `service` with its node ports, health-check node port and load-balancer address settled as
    /// the API server's registry (pkg/registry/core/service/storage, portallocator) and a load
    /// balancer controller settle them:
    /// - a pinned `nodePort` must lie in `NodePorts.range` and be free ("provided port is not in the
    ///   valid range", "provided port is already allocated"); a port number belongs to one Service;
    /// - a new Service's ports with the same `port` number share one node port (`createNodePorts`);
    /// - an updated Service's unpinned one keeps the port an earlier version of the Service had for the same
    ///   `proto/port`, else gets the lowest free port above the static subrange (keycard's deterministic
    ///   allocation, `NodePorts.allocate`), never
    ///   one in `avoiding` (the ports other Services of the same batch pin: where the API server's
    ///   random pick rarely collides with a port pinned a moment later, the lowest free one would);
    /// - `healthCheckNodePort` likewise for a LoadBalancer with the Local policy;
    /// - a LoadBalancer keeps its address, else gets the lowest free one of
    ///   `Cluster.loadBalancerCIDR` (pending, nil, without one).
    /// Errors point at the field's own line where `fields` has it (`spec.ports[i].nodePort`,
    /// `spec.healthCheckNodePort`: `ObjectDecoder.locatingFields`), else at the Service.
    func exposed(
        _ service: Service, in cluster: Cluster, avoiding: Set<Int> = [], at location: SourceLocation,
        fields: [String: SourceLocation] = [:]
    ) throws(ScenarioError) -> Service {
        // Nothing to settle (a ClusterIP Service pinning no node port): skip the scan of every
        // other Service's node ports.
        guard service.settlesNodePorts else { return service }
        var service = service
        let previous = cluster.services[service.key]
        let others = cluster.services.values.filter { $0.key != service.key }
        var ledger = NodePortLedger(
            taken: others.reduce(into: Set<Int>()) { $0.formUnion($1.heldNodePorts) }, avoiding: avoiding, service: service.key,
            location: location, fields: fields)
        if previous == nil {
            try Self.createNodePorts(&service, &ledger)
        } else {
            try Self.updateNodePorts(&service, previous: previous, &ledger)
        }
        if service.needsHealthCheckNodePort {
            if let number = service.healthCheckNodePort {
                try ledger.check(number, "spec.healthCheckNodePort")
            } else if let kept = previous?.healthCheckNodePort, !ledger.taken.contains(kept) {
                service.healthCheckNodePort = kept
            } else {
                service.healthCheckNodePort = try ledger.allocate("spec.healthCheckNodePort")
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

    /// A new Service's node ports, as the registry's `initNodePorts` (pkg/registry/core/service/storage
    /// alloc.go) settles them: ports with the same `port` number (TCP/53 and UDP/53 of a DNS
    /// Service) share one node port. The first port of a number takes the node port pinned on any
    /// port of that number (the first such in the list), else the next free one; a later port of
    /// the number without one gets the same, one pinned to a different number holds that number as
    /// well. Every pinned number must be free (`check`), so one number pinned on two different
    /// `port` numbers is "already allocated". Unpinned ports never take a number pinned anywhere
    /// in the Service (keycard's lowest-free pick would; the API server's random one rarely does).
    private static func createNodePorts(_ service: inout Service, _ ledger: inout NodePortLedger) throws(ScenarioError) {
        let pinnedHere = Set(service.ports.compactMap(\.nodePort))
        var byPort: [Int: Int] = [:]
        for index in service.ports.indices where service.ports[index].nodePort != nil || service.hasNodePorts {
            let port = service.ports[index]
            let field = "spec.ports[\(index)].nodePort"
            if let shared = byPort[port.port] {
                guard let pinned = port.nodePort else {
                    service.ports[index].nodePort = shared
                    continue
                }
                if pinned != shared { try ledger.hold(pinned, field) }
            } else if let requested = service.ports.first(where: { $0.port == port.port && $0.nodePort != nil })?.nodePort {
                try ledger.hold(requested, field)
                service.ports[index].nodePort = requested
                byPort[port.port] = requested
            } else {
                let number = try ledger.allocate(field, besides: pinnedHere)
                service.ports[index].nodePort = number
                byPort[port.port] = number
            }
        }
    }

    /// An updated Service's node ports, as the registry's `updateNodePorts` settles them: a pinned
    /// number the Service did not hold before must be free; an unpinned port keeps the node port
    /// the previous version had for the same `proto/port` (the registry's patchAllocatedValues),
    /// else gets the next free one (an update does not share numbers between protocols).
    private static func updateNodePorts(_ service: inout Service, previous: Service?, _ ledger: inout NodePortLedger)
        throws(ScenarioError)
    {
        // Pinned ports first, so an allocated one never takes a number pinned later in the list.
        for (index, port) in service.ports.enumerated() {
            if let number = port.nodePort { try ledger.check(number, "spec.ports[\(index)].nodePort") }
        }
        ledger.taken.formUnion(service.ports.compactMap(\.nodePort))
        for index in service.ports.indices where service.ports[index].nodePort == nil && service.hasNodePorts {
            let port = service.ports[index]
            // The same number for another protocol of the same Service port number is allowed; an
            // update keeps what was allocated (the registry's patchAllocatedValues).
            let number: Int
            if let kept = previous?.ports.first(where: { $0.protocolPort == port.protocolPort })?.nodePort,
                !ledger.taken.contains(kept) || service.ports.contains(where: { $0.nodePort == kept && $0.proto != port.proto })
            {
                number = kept
            } else {
                number = try ledger.allocate("spec.ports[\(index)].nodePort")
            }
            service.ports[index].nodePort = number
            ledger.taken.insert(number)
        }
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

extension Service {
    /// Whether `ClusterChange.exposed` has anything to settle: node ports to allocate, a pinned
    /// one to check, a health-check node port or a load-balancer address.
    var settlesNodePorts: Bool {
        hasNodePorts || needsHealthCheckNodePort || kind == .loadBalancer || ports.contains { $0.nodePort != nil }
    }
}

/// The node ports taken while one Service's are settled: other Services' and the ones this Service
/// already holds, with the errors of the registry's port allocator (pkg/registry/core/service/portallocator).
private struct NodePortLedger {
    /// Node ports held: other Services' and the ones settled so far.
    var taken: Set<Int>
    /// Ports other Services of the same batch pin: never allocated.
    let avoiding: Set<Int>
    /// The Service being settled, for error messages.
    let service: ObjectKey
    /// Where the Service was written, for error messages.
    let location: SourceLocation
    /// Where each of its node-port fields was written (by path), for error messages.
    var fields: [String: SourceLocation] = [:]

    /// Throws when a pinned `number` lies outside `NodePorts.range` ("provided port is not in the
    /// valid range") or is taken ("provided port is already allocated").
    func check(_ number: Int, _ field: String) throws(ScenarioError) {
        guard NodePorts.range.contains(number) else {
            throw ScenarioError(
                fields[field] ?? location,
                "Service \(service): \(field): Invalid value: \(number): provided port is not in the valid range. The range of valid ports is \(NodePorts.range.lowerBound)-\(NodePorts.range.upperBound)"
            )
        }
        guard !taken.contains(number) else {
            throw ScenarioError(
                fields[field] ?? location, "Service \(service): \(field): Invalid value: \(number): provided port is already allocated")
        }
    }

    /// `check`s a pinned `number`, then takes it (the allocator's `Allocate`).
    mutating func hold(_ number: Int, _ field: String) throws(ScenarioError) {
        try check(number, field)
        taken.insert(number)
    }

    /// Takes the lowest free node port not in `avoiding` nor `besides` (the allocator's
    /// `AllocateNext`, made deterministic); throws when the range is full.
    mutating func allocate(_ field: String, besides: Set<Int> = []) throws(ScenarioError) -> Int {
        guard let number = NodePorts.allocate(taken: taken.union(avoiding).union(besides)) else {
            throw ScenarioError(location, "Service \(service): \(field): no free node port left in \(NodePorts.range)")
        }
        taken.insert(number)
        return number
    }
}
