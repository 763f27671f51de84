import KeycardModel
import KeycardValues

extension ClusterChange {
    /// `service` with its node ports, health-check node port and load-balancer address settled as
    /// the API server's registry (pkg/registry/core/service/storage, portallocator) and a load
    /// balancer controller settle them:
    /// - a pinned `nodePort` must lie in `NodePorts.range` and be free ("provided port is not in the
    ///   valid range", "provided port is already allocated"); a port number belongs to one Service;
    /// - a new Service's ports with the same `port` number share one node port (`createNodePorts`);
    /// - an updated Service's unpinned port keeps the node port the previous version had for a
    ///   port of the same name (`updateNodePorts`), else gets the lowest free port above the static
    ///   subrange (keycard's deterministic allocation, `NodePorts.allocate`), never one the Service
    ///   held (the registry's update runs on one allocator and releases the old ports only once it
    ///   is done) nor one in `avoiding` (the ports other Services of the same batch pin: where the
    ///   API server's random pick rarely collides with a port pinned a moment later, the lowest free
    ///   one would);
    /// - `healthCheckNodePort` for a LoadBalancer with the Local policy: pinned or allocated when the
    ///   Service comes to need one (`updateHealthCheckNodePort`), else the old one is kept
    ///   (`patchAllocatedValues`);
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
        // What the Service held stays allocated until the update is done.
        let held = others.reduce(into: previous?.heldNodePorts ?? []) { $0.formUnion($1.heldNodePorts) }
        var ledger = NodePortLedger(taken: held, avoiding: avoiding, service: service.key, location: location, fields: fields)
        if let previous {
            try Self.updateNodePorts(&service, previous: previous, &ledger)
        } else {
            try Self.createNodePorts(&service, &ledger)
        }
        if service.needsHealthCheckNodePort {
            if let previous, previous.needsHealthCheckNodePort, let kept = previous.healthCheckNodePort {
                service.healthCheckNodePort = service.healthCheckNodePort ?? kept
            } else if let number = service.healthCheckNodePort {
                try ledger.hold(number, "spec.healthCheckNodePort")
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
        for index in service.ports.indices where service.ports[index].nodePort != nil || service.allocatesNodePorts {
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

    /// An updated Service's node ports, as the registry settles them (pkg/registry/core/service/storage):
    /// - `patchAllocatedValues`, when the old and the new type both have node ports (NodePort,
    ///   LoadBalancer): an unpinned port takes the node port the previous version gave the port of
    ///   the same `name` (an unnamed single port is the port named ""; its protocol and number may
    ///   have changed), unless the new version pins that number on a port the old one had it on;
    /// - `updateNodePorts`: a pinned (or so kept) number the old ports did not hold must be free;
    ///   any other port is allocated the next free one when the type allocates node ports.
    /// One number twice for one protocol is the registry's "duplicate nodePort".
    private static func updateNodePorts(_ service: inout Service, previous: Service, _ ledger: inout NodePortLedger)
        throws(ScenarioError)
    {
        let oldNumbers = Set(previous.ports.compactMap(\.nodePort))
        if previous.isExternallyAccessible && service.isExternallyAccessible {
            let pinnedAgain = oldNumbers.intersection(service.ports.compactMap(\.nodePort))
            let byName = Dictionary(previous.ports.map { ($0.name ?? "", $0.nodePort) }, uniquingKeysWith: { first, _ in first })
            for index in service.ports.indices where service.ports[index].nodePort == nil {
                if let kept = byName[service.ports[index].name ?? ""] ?? nil, !pinnedAgain.contains(kept) {
                    service.ports[index].nodePort = kept
                }
            }
        }
        // Pinned ports first, so an allocated one never takes a number pinned later in the list.
        var settled: Set<ProtocolPort> = []
        for (index, port) in service.ports.enumerated() {
            guard let number = port.nodePort else { continue }
            let field = "spec.ports[\(index)].nodePort"
            if !oldNumbers.contains(number) && !ledger.heldHere.contains(number) { try ledger.hold(number, field) }
            ledger.heldHere.insert(number)
            guard settled.insert(ProtocolPort(port.proto, number)).inserted else {
                throw ScenarioError(
                    ledger.fields[field] ?? ledger.location,
                    "Service \(service.key): Internal error occurred: duplicate nodePort: {\(port.proto.rawValue) \(number)}")
            }
        }
        for index in service.ports.indices where service.ports[index].nodePort == nil && service.allocatesNodePorts {
            service.ports[index].nodePort = try ledger.allocate("spec.ports[\(index)].nodePort")
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
        allocatesNodePorts || needsHealthCheckNodePort || kind == .loadBalancer || ports.contains { $0.nodePort != nil }
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
    /// The numbers this Service's pinned ports hold (one may serve two protocols).
    var heldHere: Set<Int> = []

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
