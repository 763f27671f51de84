import KeycardValues

/// Turns a `LabSpec` into a `LabPlan`: validates names and addresses, splits the pod CIDR into node
/// slices, places pods on nodes and allocates their addresses. Deterministic: the same spec always
/// gives the same plan.
///
/// Topology (routed, as Calico does, so every pod-to-pod packet crosses a node's forward hook):
/// pod `eth0` (podIP/32, default via 169.254.1.1) <-> node `kcp<k>` (169.254.1.1/32, route podIP/32);
/// node `kcu` <-> router `kcn<i>`; external `eth0` <-> router `kcx<j>`. Router links are /30s carved
/// from 100.64.0.0/16 (link j: router .1, other end .2 of 100.64.0.0 + 4j), which keeps ordinary
/// gateway routes instead of onlink tricks and keeps `ip route` output readable.
public enum TopologyPlanner {
    public static let maxNodes = 1024
    /// Every node and external gets one /30 of `linkNetwork`.
    public static let maxLinks = 16384

    /// `kc-<lab>.`: the prefix that identifies every namespace of one lab.
    public static func namespacePrefix(_ labName: String) -> String { "kc-\(labName)." }

    /// The plan for `spec`, or the first problem found.
    public static func plan(_ spec: LabSpec) throws(TopologyError) -> LabPlan {
        guard Names.labNameIsValid(spec.labName) else { throw .invalidLabName(spec.labName) }
        guard (1...maxNodes).contains(spec.nodes) else { throw .invalidNodeCount(spec.nodes) }
        guard spec.nodes + spec.externals.count <= maxLinks else { throw .tooManyExternals(spec.externals.count) }
        let cidr = try podCIDR(spec.podCIDR)
        let slices = try nodeSlices(cidr, nodes: spec.nodes)
        var ordinary = spec
        ordinary.pods = spec.pods.filter { !$0.hostNetwork }
        let placements = try placePods(ordinary, cidr: cidr, slices: slices)
        let externals = try checkExternals(spec.externals, cidr: cidr, pods: placements)
        var builder = PlanBuilder(labName: spec.labName, podCIDR: cidr)
        builder.addRouterAndNodes(slices: slices)
        for (index, external) in externals.enumerated() {
            builder.addExternal(index: index, spec: external.spec, address: external.address)
        }
        for (index, placement) in placements.enumerated() {
            builder.addPod(index: index, placement: placement)
        }
        var plan = builder.plan
        plan.hostNetworkPods = try hostNetworkPods(spec, plan: plan, placed: placements)
        plan.dns = spec.dns
        return plan
    }

    static func podCIDR(_ cidr: CIDR) throws(TopologyError) -> CIDR {
        guard cidr.family == .ipv4, !cidr.hasHostBits else { throw .invalidCIDR(cidr.description) }
        for range in LabNetwork.reserved where range.overlaps(cidr) {
            throw .reservedRangeOverlap(cidr: cidr.description, reserved: range.description)
        }
        return cidr
    }

    /// Node i gets slice i of 2^ceil(log2(nodes)) equal slices (the whole CIDR for one node).
    static func nodeSlices(_ cidr: CIDR, nodes: Int) throws(TopologyError) -> [CIDR] {
        var bits = 0
        while (1 << bits) < nodes { bits += 1 }
        var slices: [CIDR] = []
        for index in 0..<nodes {
            guard let slice = cidr.subnet(index, extraBits: bits) else {
                throw .tooManyNodesForCIDR(cidr: cidr.description, nodes: nodes)
            }
            slices.append(slice)
        }
        return slices
    }

    struct Placement {
        var spec: PodSpec
        var nodeIndex: Int
        var address: IPv4
        var slice: CIDR
    }

    /// Pins nodes (nodeName or round-robin), reserves pinned addresses, then hands out the next free
    /// address of each node's slice in pod order (skipping the slice's first and last address).
    static func placePods(_ spec: LabSpec, cidr: CIDR, slices: [CIDR]) throws(TopologyError) -> [Placement] {
        var seen = Set<String>()
        var owners: [IPv4: String] = [:]
        var nodes: [Int] = []
        var pinned: [IPv4?] = []
        var roundRobin = 0
        for pod in spec.pods {
            let key = "\(pod.namespace)/\(pod.name)"
            guard Names.isDNSLabel(pod.namespace) else { throw .invalidName(kind: "namespace", name: pod.namespace) }
            guard Names.isDNSSubdomain(pod.name), Names.pod(spec.labName, pod.namespace, pod.name).utf8.count <= 255
            else { throw .invalidName(kind: "pod", name: pod.name) }
            guard seen.insert(key).inserted else { throw .duplicatePod(key) }
            if let nodeName = pod.nodeName {
                guard let index = nodeIndex(nodeName), index < spec.nodes else {
                    throw .unknownNode(pod: key, nodeName: nodeName, nodes: spec.nodes)
                }
                nodes.append(index)
            } else {
                nodes.append(roundRobin % spec.nodes)
                roundRobin += 1
            }
            guard let address = pod.pinnedIP else {
                pinned.append(nil)
                continue
            }
            let text = address.description
            guard cidr.contains(address) else { throw .pinnedOutsidePodCIDR(pod: key, ip: text, cidr: cidr.description) }
            if let first = owners[address] { throw .duplicateAddress(ip: text, first: first, second: "pod \(key)") }
            owners[address] = "pod \(key)"
            pinned.append(address)
        }
        var cursors = slices.map { $0.size > 2 ? $0.network + 1 : $0.network }
        var placements: [Placement] = []
        for (offset, pod) in spec.pods.enumerated() {
            let node = nodes[offset]
            let slice = slices[node]
            if let address = pinned[offset] {
                placements.append(Placement(spec: pod, nodeIndex: node, address: address, slice: slice))
                continue
            }
            let end = slice.size > 2 ? slice.last - 1 : slice.last
            while cursors[node] <= end, owners[IPv4(cursors[node])] != nil { cursors[node] += 1 }
            guard cursors[node] <= end else {
                throw .sliceExhausted(node: "node-\(node)", slice: slice.description, pod: "\(pod.namespace)/\(pod.name)")
            }
            let address = IPv4(cursors[node])
            owners[address] = "pod \(pod.namespace)/\(pod.name)"
            cursors[node] += 1
            placements.append(Placement(spec: pod, nodeIndex: node, address: address, slice: slice))
        }
        return placements
    }

    /// "node-3" -> 3; nil for anything else.
    static func nodeIndex(_ name: String) -> Int? {
        guard name.hasPrefix("node-") else { return nil }
        let digits = name.dropFirst(5)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits == "0" || !digits.hasPrefix("0")
        else { return nil }
        return Int(digits)
    }

    static func checkExternals(
        _ externals: [ExternalSpec], cidr: CIDR, pods: [Placement]
    ) throws(TopologyError) -> [(spec: ExternalSpec, address: IPv4)] {
        var names = Set<String>()
        var owners: [IPv4: String] = [:]
        var result: [(spec: ExternalSpec, address: IPv4)] = []
        for external in externals {
            guard Names.isDNSLabel(external.name) else { throw .invalidName(kind: "external", name: external.name) }
            guard names.insert(external.name).inserted else { throw .duplicateExternal(external.name) }
            let address = external.ip
            guard !cidr.contains(address) else {
                throw .externalInPodCIDR(external: external.name, ip: external.ip.description, cidr: cidr.description)
            }
            for range in LabNetwork.reserved where range.contains(address) || address.value == 0 || address.value == UInt32.max {
                throw .externalInReservedRange(external: external.name, ip: external.ip.description, reserved: range.description)
            }
            if let first = owners[address] {
                throw .duplicateAddress(ip: external.ip.description, first: first, second: "external \(external.name)")
            }
            owners[address] = "external \(external.name)"
            result.append((external, address))
        }
        return result
    }
}
