import KeycardModel
import KeycardValues

extension ClusterChange {
    /// `service` with its ClusterIP settled as the API server settles it: a pinned address must lie
    /// in the service CIDR (not its network or broadcast address) and be free; an update keeps the
    /// address already allocated (`spec.clusterIP` is immutable) and may not change a pinned one,
    /// unless the old or new type is ExternalName (`validateUpgradeDowngradeClusterIPs`);
    /// otherwise the next free address is allocated (`ServiceAddresses`). Errors about a written
    /// `spec.clusterIP` point at `field` (where it was written) when given, else at `location`.
    /// `owners` holds every stored Service's ClusterIP (kept by `apply` as it stores Services, so
    /// settling a batch of n Services is not n scans of all of them).
    func addressed(
        _ service: Service, in cluster: Cluster, owners: ClusterIPOwners, at objectLocation: SourceLocation,
        field: SourceLocation? = nil
    ) throws(ScenarioError) -> Service {
        let location = service.address == .unallocated ? objectLocation : field ?? objectLocation
        var service = service
        let previous = cluster.services[service.key]
        switch service.address {
        case .ip(let ip):
            guard serviceCIDR.contains(ip), ip.value != serviceCIDR.network, ip.value != serviceCIDR.last else {
                // The network and broadcast addresses lie inside the CIDR but are never allocated
                // (the allocator: "provided IP is not in the valid range").
                guard serviceCIDR.contains(ip) else {
                    throw ScenarioError(location, "Service \(service.key): clusterIP \(ip) is not inside the service CIDR \(serviceCIDR)")
                }
                let which = ip.value == serviceCIDR.network ? "network" : "broadcast"
                throw ScenarioError(
                    location,
                    "Service \(service.key): clusterIP \(ip) is the \(which) address of the service CIDR \(serviceCIDR), which is never allocated (provided IP is not in the valid range)"
                )
            }
            // The first address is default/kubernetes's in every cluster (the API server's own
            // Service), so pinning it is "provided IP is already allocated".
            if ip.value == serviceCIDR.network &+ 1, service.key != ObjectKey("default", "kubernetes") {
                throw ScenarioError(
                    location, "Service \(service.key): clusterIP \(ip) is already allocated to Service default/kubernetes")
            }
            if let owner = owners.owner[ip], owner != service.key {
                throw ScenarioError(location, "Service \(service.key): clusterIP \(ip) is already allocated to Service \(owner)")
            }
            // validateUpgradeDowngradeClusterIPs bails out when either side is ExternalName: the
            // old address was released, so a new one may be pinned.
            if let previous, previous.kind != .externalName, previous.address != service.address,
                previous.address != .unallocated
            {
                let old = previous.address
                throw ScenarioError(location, "Service \(service.key): spec.clusterIP is immutable (was \(Self.text(old)))")
            }
        case .unallocated:
            // patchAllocatedValues: an update that leaves clusterIP empty keeps the old one, an
            // address or None, when neither side is ExternalName (a headless Service stays so).
            if let old = previous?.address, case .ip = old {
                service.address = old
            } else if let previous, previous.address == .headless, previous.kind != .externalName, service.kind != .externalName {
                // Then validated as if written: None is no address for node ports (ValidateService).
                if service.kind == .nodePort || service.kind == .loadBalancer {
                    throw ScenarioError(
                        location,
                        "Service \(service.key): spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for \(service.kind.rawValue) services (kept from the headless Service this updates)"
                    )
                }
                service.address = .headless
            } else {
                // The Service holds no ClusterIP here (an earlier address was kept above), so
                // every address in `owners` is another Service's.
                guard let ip = ServiceAddresses.allocate(in: serviceCIDR, taken: owners.taken) else {
                    throw ScenarioError(location, "Service \(service.key): no free ClusterIP left in \(serviceCIDR)")
                }
                service.address = .ip(ip)
            }
        case .headless, .none:
            if let old = previous?.address, case .ip = old, service.kind != .externalName {
                throw ScenarioError(location, "Service \(service.key): spec.clusterIP is immutable (was \(Self.text(old)))")
            }
        }
        return service
    }

    /// The rules `ValidateServiceUpdate` adds for an update of `previous` (nil: a create) to `service`
    /// as written (pkg/apis/core/validation/validation.go):
    /// - `validateServiceExternalTrafficFieldsUpdate`: while the old and the new Service both need a
    ///   health-check node port (LoadBalancer, Local), it may not change (left out, the old one is
    ///   kept: `patchAllocatedValues`); it may when the Service stops needing one;
    /// - `validateLoadBalancerClassField`: from a LoadBalancer to a LoadBalancer `loadBalancerClass`
    ///   may not change, nor be set or removed; a change of type to LoadBalancer may set it.
    /// Errors point at the field where it was written (`fields`), else at `location`.
    static func checkServiceUpdate(
        _ service: Service, of previous: Service?, at location: SourceLocation, fields: [String: SourceLocation]
    ) throws(ScenarioError) {
        guard let previous else { return }
        if previous.needsHealthCheckNodePort, service.needsHealthCheckNodePort, let written = service.healthCheckNodePort,
            written != previous.healthCheckNodePort
        {
            throw ScenarioError(
                fields["spec.healthCheckNodePort"] ?? location,
                "Service \(service.key): spec.healthCheckNodePort: Forbidden: field is immutable (was \(previous.healthCheckNodePort.map { "\($0)" } ?? "unset"))"
            )
        }
        if previous.kind == .loadBalancer, service.kind == .loadBalancer, service.loadBalancerClass != previous.loadBalancerClass {
            throw ScenarioError(
                fields["spec.loadBalancerClass"] ?? location,
                "Service \(service.key): spec.loadBalancerClass: Invalid value: \"\(service.loadBalancerClass ?? "null")\": may not change once set (was \(previous.loadBalancerClass.map { "\"\($0)\"" } ?? "unset"))"
            )
        }
    }

    private static func text(_ address: Service.Address) -> String {
        switch address {
        case .ip(let ip): ip.description
        case .headless: "None"
        case .none, .unallocated: "\"\""
        }
    }
}

/// The ClusterIPs stored Services hold, and which Service holds each: built once per batch and
/// kept as `ClusterChange.apply` stores Services.
struct ClusterIPOwners {
    /// The Service holding each address.
    private(set) var owner: [IPv4: ObjectKey] = [:]
    /// Every address held (`owner`'s keys, as the set `ServiceAddresses.allocate` takes).
    private(set) var taken: Set<IPv4> = []

    init(_ services: some Sequence<Service>) {
        for service in services { record(nil, service) }
    }

    /// Moves the entry of a Service from its `old` version's address to its `new` one's.
    mutating func record(_ old: Service?, _ new: Service) {
        if let ip = old?.clusterIP, owner[ip] == old?.key {
            owner[ip] = nil
            taken.remove(ip)
        }
        if let ip = new.clusterIP {
            owner[ip] = new.key
            taken.insert(ip)
        }
    }
}
