import KeycardKernel
import KeycardTopology
import KeycardValues

/// How long one stage of bring-up or tear-down took.
public struct LabTiming: Sendable, Hashable, Codable {
    public var stage: String
    public var seconds: Double
}

/// Builds a planned lab in the kernel: namespaces, veth pairs, links up, addresses, routes,
/// sysctls. Nothing is ever created in the host namespace: each request goes through a netlink
/// socket opened inside the lab namespace it changes, and veth peers are born in their namespace.
struct BringUp {
    let plan: LabPlan
    let threads: Int
    private(set) var timings: [LabTiming] = []

    init(plan: LabPlan, threads: Int) {
        self.plan = plan
        self.threads = threads
    }

    mutating func run() throws(LabError) {
        let names = plan.namespaces.map(\.name)
        let (plan, threads) = (self.plan, self.threads)
        try stage("create namespaces") {
            try parallelForEach(names, threads: threads) { try NetworkNamespace.create($0) }
        }
        var sockets: [String: LinkConfigurator] = [:]
        var descriptors: [String: OwnedDescriptor] = [:]
        try stage("open netlink sockets") {
            for name in names {
                sockets[name] = try LinkConfigurator.open(inNamespace: name)
                descriptors[name] = try NetworkNamespace.openDescriptor(name)
            }
        }
        let opened = sockets
        let fds = descriptors.mapValues(\.raw)
        let links = Dictionary(grouping: plan.links, by: \.end.namespace)
        try stage("create veth pairs") {
            // Per creating namespace; rtnl_lock serialises link creation in the kernel anyway.
            for name in names {
                guard let group = links[name], let socket = opened[name] else { continue }
                try socket.apply(
                    group.map { link in
                        .createVeth(
                            name: link.end.name, index: link.end.index, peerName: link.peer.name,
                            peerIndex: link.peer.index, peerNamespaceFD: fds[link.peer.namespace] ?? -1, up: true,
                            mac: link.end.mac, peerMAC: link.peer.mac)
                    })
            }
        }
        let requests = Self.configuration(plan)
        try stage("links up, addresses, routes") {
            try parallelForEach(names, threads: threads) { name in
                guard let socket = opened[name] else { return }
                try socket.apply(requests[name] ?? [])
            }
        }
        try stage("sysctls") {
            try parallelForEach(plan.sysctls, threads: threads) { try Sysctl.write($0.key, $0.value, inNamespace: $0.namespace) }
        }
        withExtendedLifetime(descriptors) {}
    }

    /// Per namespace, in order: loopback up, peer ends up, addresses, routes, permanent neighbours.
    static func configuration(_ plan: LabPlan) -> [String: [LinkRequest]] {
        var requests: [String: [LinkRequest]] = [:]
        for namespace in plan.namespaces { requests[namespace.name] = [.setLinkUp(index: 1)] }
        for link in plan.links { requests[link.peer.namespace, default: []].append(.setLinkUp(index: link.peer.index)) }
        for address in plan.addresses {
            requests[address.namespace, default: []].append(
                .addAddress(index: address.interfaceIndex, address: address.address, prefixLength: UInt8(address.prefixLength)))
        }
        for route in plan.routes {
            requests[route.namespace, default: []].append(
                .addRoute(
                    RouteRequest(
                        destination: route.destination,
                        gateway: route.gateway, outputIndex: route.interfaceIndex,
                        scope: route.scope == .link ? .link : .universe, preferredSource: route.preferredSource)))
        }
        for blackhole in plan.blackholes {
            requests[blackhole.namespace, default: []].append(.addBlackholeRoute(destination: blackhole.destination))
        }
        for neighbour in plan.neighbours {
            requests[neighbour.namespace, default: []].append(
                .addNeighbour(index: neighbour.interfaceIndex, address: neighbour.address, mac: neighbour.mac))
        }
        return requests
    }

    private mutating func stage(_ name: String, _ body: () throws -> Void) throws(LabError) {
        let clock = ContinuousClock()
        let start = clock.now
        do {
            try body()
        } catch let error as KernelError {
            throw .kernel(lab: plan.labName, stage: name, error)
        } catch let error as LabError {
            throw error
        } catch {
            throw .kernel(lab: plan.labName, stage: name, KernelError(name, subject: "\(error)", errno: 5))
        }
        timings.append(LabTiming(stage: name, seconds: (clock.now - start).seconds))
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
