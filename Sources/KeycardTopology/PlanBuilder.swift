import KeycardValues

/// Accumulates a `LabPlan`: namespaces, links with per-namespace ifindexes, addresses, routes.
struct PlanBuilder {
    private(set) var plan: LabPlan
    /// The next free ifindex in each namespace (1 is loopback).
    private var nextIndex: [String: Int32] = [:]

    init(labName: String, podCIDR: CIDR) {
        plan = LabPlan(
            labName: labName, podCIDR: podCIDR, namespaces: [], links: [], addresses: [], routes: [],
            sysctls: [], router: Names.router(labName), nodes: [], pods: [], externals: [])
    }

    private var lab: String { plan.labName }

    mutating func addRouterAndNodes(slices: [CIDR]) {
        addNamespace(plan.router, .router)
        plan.sysctls.append(PlannedSysctl(namespace: plan.router, key: "net/ipv4/ip_forward", value: "1"))
        for (index, slice) in slices.enumerated() {
            let namespace = Names.node(lab, index)
            addNamespace(namespace, .node)
            plan.sysctls.append(PlannedSysctl(namespace: namespace, key: "net/ipv4/ip_forward", value: "1"))
            let (routerEnd, nodeEnd) = addRouterLink(
                linkNumber: index, routerName: Names.routerNodeVeth(index), namespace: namespace, name: Names.nodeUplink)
            addRoute(nodeEnd.end, .any, via: routerEnd.address)
            addRoute(routerEnd.end, slice, via: nodeEnd.address)
            plan.blackholes.append(PlannedBlackhole(namespace: namespace, destination: slice))
            plan.nodes.append(
                PlannedNode(
                    index: index, name: "node-\(index)", namespace: namespace, slice: slice,
                    uplinkAddress: nodeEnd.address, uplinkInterface: Names.nodeUplink, podInterfaces: []))
        }
    }

    mutating func addExternal(index: Int, spec: ExternalSpec, address: IPv4) {
        let namespace = Names.external(lab, spec.name)
        addNamespace(namespace, .external)
        let (routerEnd, externalEnd) = addRouterLink(
            linkNumber: plan.nodes.count + index, routerName: Names.routerExternalVeth(index),
            namespace: namespace, name: Names.podSide)
        addAddress(externalEnd.end, address, 32)
        // Traffic the external starts leaves from its own IP, not from its link address.
        addRoute(externalEnd.end, .any, via: routerEnd.address, source: address)
        addRoute(routerEnd.end, .host(address), via: externalEnd.address)
        plan.externals.append(PlannedExternal(name: spec.name, netns: namespace, address: address, ports: spec.ports))
    }

    mutating func addPod(index: Int, placement: TopologyPlanner.Placement) {
        let spec = placement.spec
        let node = plan.nodes[placement.nodeIndex]
        let namespace = Names.pod(lab, spec.namespace, spec.name)
        addNamespace(namespace, .pod)
        var nodeSide = addEnd(node.namespace, Names.nodePodVeth(index))
        var podSide = addEnd(namespace, Names.podSide)
        nodeSide.mac = .nodeSide(of: placement.address)
        podSide.mac = .podSide(of: placement.address)
        plan.links.append(VethLink(end: nodeSide, peer: podSide))
        plan.neighbours.append(
            PlannedNeighbour(
                namespace: nodeSide.namespace, interfaceIndex: nodeSide.index, address: placement.address,
                mac: .podSide(of: placement.address)))
        plan.neighbours.append(
            PlannedNeighbour(
                namespace: podSide.namespace, interfaceIndex: podSide.index, address: LabNetwork.podGateway,
                mac: .nodeSide(of: placement.address)))
        addAddress(nodeSide, LabNetwork.podGateway, 32)
        addAddress(podSide, placement.address, 32)
        // The node's own connections to its pods leave from its address (as a kubelet's do), not
        // from the pod gateway address the veth holds.
        addRoute(nodeSide, .host(placement.address), scope: .link, source: node.uplinkAddress)
        addRoute(podSide, .host(LabNetwork.podGateway), scope: .link)
        addRoute(podSide, .any, via: LabNetwork.podGateway)
        if !placement.slice.contains(placement.address) {
            // Pinned outside its node's slice: the router needs a host route to the right node.
            let routerEnd = LinkEnd(
                namespace: plan.router, name: Names.routerNodeVeth(node.index),
                index: routerIndex(ofNode: node.index))
            addRoute(routerEnd, .host(placement.address), via: routerAddress(ofLink: node.index, end: 2))
            // The node whose slice holds the address blackholes the slice: it needs a host route
            // up to the router for this pod.
            if let owner = plan.nodes.first(where: { $0.slice.contains(placement.address) }),
                let uplink = plan.links.first(where: { $0.peer.namespace == owner.namespace && $0.peer.name == Names.nodeUplink })?.peer
            {
                addRoute(uplink, .host(placement.address), via: routerAddress(ofLink: owner.index, end: 1))
            }
        }
        plan.nodes[placement.nodeIndex].podInterfaces.append(nodeSide.name)
        var planned = PlannedPod(
            namespace: spec.namespace, name: spec.name, netns: namespace, nodeIndex: node.index,
            nodeName: node.name, address: placement.address, gateway: LabNetwork.podGateway,
            interface: podSide.name, nodeInterface: nodeSide.name, ports: spec.ports, command: spec.command)
        planned.resolver = spec.resolver
        planned.context = spec.context
        plan.pods.append(planned)
    }

    // MARK: - Pieces

    private mutating func addNamespace(_ name: String, _ role: PlannedNamespace.Role) {
        plan.namespaces.append(PlannedNamespace(name: name, role: role))
        nextIndex[name] = 2
        // The kernel rate-limits ICMP errors (a burst of 6 per peer, then one a second, and 50 a
        // namespace: icmp_ratelimit, icmp_msgs_burst, Documentation/networking/ip-sysctl.rst): a
        // wave of UDP probes to closed ports would lose its port-unreachables and read as drops.
        // No type in the mask is limited at all (icmp.c, icmpv4_mask_allow).
        plan.sysctls.append(PlannedSysctl(namespace: name, key: "net/ipv4/icmp_ratemask", value: "0"))
    }

    private mutating func addEnd(_ namespace: String, _ name: String) -> LinkEnd {
        let index = nextIndex[namespace, default: 2]
        nextIndex[namespace] = index + 1
        return LinkEnd(namespace: namespace, name: name, index: index)
    }

    /// Router links are created first, one per node then one per external, so the router-side
    /// ifindex of link j is j + 2.
    private func routerIndex(ofNode node: Int) -> Int32 { Int32(node) + 2 }

    /// Address `end` (1: router, 2: other side) of /30 number `link` in 100.64.0.0/16.
    private func routerAddress(ofLink link: Int, end: UInt32) -> IPv4 {
        IPv4(LabNetwork.linkNetwork.network + UInt32(link) * 4 + end)
    }

    private mutating func addRouterLink(
        linkNumber: Int, routerName: String, namespace: String, name: String
    ) -> (router: (end: LinkEnd, address: IPv4), other: (end: LinkEnd, address: IPv4)) {
        let routerEnd = addEnd(plan.router, routerName)
        let otherEnd = addEnd(namespace, name)
        plan.links.append(VethLink(end: routerEnd, peer: otherEnd))
        let routerSide = routerAddress(ofLink: linkNumber, end: 1)
        let otherSide = routerAddress(ofLink: linkNumber, end: 2)
        addAddress(routerEnd, routerSide, 30)
        addAddress(otherEnd, otherSide, 30)
        return ((routerEnd, routerSide), (otherEnd, otherSide))
    }

    private mutating func addAddress(_ end: LinkEnd, _ address: IPv4, _ prefixLength: Int) {
        plan.addresses.append(
            PlannedAddress(
                namespace: end.namespace, interface: end.name, interfaceIndex: end.index, address: address,
                prefixLength: prefixLength))
    }

    private mutating func addRoute(
        _ end: LinkEnd, _ destination: CIDR, via gateway: IPv4? = nil,
        scope: PlannedRoute.Scope = .universe, source: IPv4? = nil
    ) {
        plan.routes.append(
            PlannedRoute(
                namespace: end.namespace, destination: destination, gateway: gateway, interface: end.name,
                interfaceIndex: end.index, scope: scope, preferredSource: source))
    }
}
