import KeycardModel
import KeycardValues

/// Every pod's node and address, fixed for the whole scenario: a pod deleted and applied again
/// comes back with the same address, and the model and the lab agree on every address. A
/// host-network pod's address is its node's (`LabNetwork.nodeAddress`), shared by every such pod
/// of the node.
public struct AddressPlan: Sendable {
    public private(set) var addresses: [ObjectKey: IPv4] = [:]
    public private(set) var nodes: [ObjectKey: Int] = [:]
    /// Pods that run in their node's namespace (`hostNetwork: true`): no namespace of their own.
    public private(set) var hostNetwork: Set<ObjectKey> = []
    /// `nodes` without the host-network pods: the pods with a namespace of their own, which the
    /// lab's policy tables know.
    public var podNamespaceNodes: [ObjectKey: Int] { nodes.filter { !hostNetwork.contains($0.key) } }
    /// Node i's slice of the pod CIDR.
    public let slices: [CIDR]
    /// What the API server accepts and the lab places otherwise: a `spec.nodeName` that is no lab
    /// node, a `status.podIP` outside the pod CIDR or, for a host-network pod, not its node's address.
    public private(set) var warnings: [ScenarioWarning] = []

    /// Plans `pods` in order of first appearance (later appearances of a key must agree).
    init(pods: [LoadedObject], settings: LabSettings) throws(ScenarioError) {
        slices = Self.slices(of: settings.podCIDR, nodes: settings.nodes)
        var pinned: [IPv4: ObjectKey] = [:]
        var foreignNodes: [String: Int] = [:]
        var roundRobin = 0
        var claimed: [Int: [HostPort]] = [:]
        var pending: [(key: ObjectKey, node: Int, location: SourceLocation)] = []
        var pendingKeys: Set<ObjectKey> = []
        for loaded in pods {
            guard case .pod(var pod) = loaded.object else { continue }
            // A finished pod (`Pod.terminalPhase`) never runs in the lab: its dumped podIP claims
            // nothing, so a running pod holding that address again keeps it.
            if pod.terminalPhase != nil { pod.podIP = nil }
            let node: Int
            if let nodeName = pod.nodeName, let index = Self.nodeIndex(nodeName), index < settings.nodes {
                node = index
            } else if let nodeName = pod.nodeName {
                // A manifest from a real cluster names real nodes: pods that shared a node share one here.
                if let mapped = foreignNodes[nodeName] {
                    node = mapped
                } else {
                    node = foreignNodes.count % settings.nodes
                    foreignNodes[nodeName] = node
                    warnings.append(
                        ScenarioWarning(
                            location: loaded.location,
                            message:
                                "pod \(pod.key): spec.nodeName \"\(nodeName)\" is not a node of this lab (node-0 ... node-\(settings.nodes - 1)); its pods run on node-\(node)"
                        ))
                }
            } else if let known = nodes[pod.key] {
                node = known
            } else {
                // Round-robin; a pod claiming node ports goes to the first node from there where no
                // pod planned before it claims a conflicting one (the NodePorts filter), so pods
                // without claims keep their nodes.
                node = Self.freeNode(for: pod.nodeClaims, from: roundRobin % settings.nodes, nodes: settings.nodes, claimed: claimed)
                roundRobin += 1
            }
            claimed[node, default: []] += pod.nodeClaims
            if let known = nodes[pod.key], known != node {
                throw ScenarioError(loaded.location, "pod \(pod.key) cannot move from node-\(known) to node-\(node)")
            }
            nodes[pod.key] = node
            if pod.hostNetwork {
                // The kubelet reports the node's address as a host-network pod's podIP.
                let nodeAddress = LabNetwork.nodeAddress(node)
                if let ip = pod.podIP, ip != nodeAddress {
                    warnings.append(
                        ScenarioWarning(
                            location: loaded.location,
                            message:
                                "pod \(pod.key): status.podIP \(ip) is ignored: a hostNetwork pod's address is its node's, \(nodeAddress) (node-\(node))"
                        ))
                }
                if let known = addresses[pod.key], known != nodeAddress {
                    throw ScenarioError(
                        loaded.location, "pod \(pod.key) cannot change its address from \(known) to its node's, \(nodeAddress)")
                }
                if addresses[pod.key] == nil, pendingKeys.contains(pod.key) {
                    throw ScenarioError(loaded.location, "pod \(pod.key) cannot join the host network under the same name")
                }
                addresses[pod.key] = nodeAddress
                hostNetwork.insert(pod.key)
                continue
            }
            if hostNetwork.contains(pod.key) {
                throw ScenarioError(loaded.location, "pod \(pod.key) cannot leave the host network under the same name")
            }
            if let ip = pod.podIP, !settings.podCIDR.contains(ip) {
                // status is the cluster's report, not a request: the API server ignores it on create.
                warnings.append(
                    ScenarioWarning(
                        location: loaded.location,
                        message:
                            "pod \(pod.key): status.podIP \(ip) is outside the lab's pod CIDR \(settings.podCIDR) (set spec.lab.podCIDR to keep it); the pod gets a lab address"
                    ))
                if addresses[pod.key] == nil, pendingKeys.insert(pod.key).inserted {
                    pending.append((pod.key, node, loaded.location))
                }
            } else if let ip = pod.podIP, let owner = pinned[ip], owner != pod.key {
                // Two pods of a dump pinning one address (status is dropped on create, so both
                // load): this one gets another address. A finished pod's pin is dropped above.
                warnings.append(
                    ScenarioWarning(
                        location: loaded.location,
                        message: "pod \(pod.key): status.podIP \(ip) is already pod \(owner)'s address; the pod gets another lab address"))
                if addresses[pod.key] == nil, pendingKeys.insert(pod.key).inserted {
                    pending.append((pod.key, node, loaded.location))
                }
            } else if let ip = pod.podIP {
                if let known = addresses[pod.key], known != ip {
                    throw ScenarioError(loaded.location, "pod \(pod.key) cannot change its address from \(known) to \(ip)")
                }
                pinned[ip] = pod.key
                addresses[pod.key] = ip
            } else if addresses[pod.key] == nil, pendingKeys.insert(pod.key).inserted {
                pending.append((pod.key, node, loaded.location))
            }
        }
        // Allocate after every pinned address is known, so no pinned pod can collide with an allocated one.
        var next = slices.map { $0.network + 1 }
        for (key, node, location) in pending where addresses[key] == nil {
            let slice = slices[node]
            while next[node] < slice.last && pinned[IPv4(next[node])] != nil { next[node] += 1 }
            guard next[node] < slice.last else {
                throw ScenarioError(
                    location, "pod \(key): node-\(node)'s slice \(IPv4(slice.network))/\(slice.prefixLength) has no free address left")
            }
            addresses[key] = IPv4(next[node])
            pinned[IPv4(next[node])] = key
            next[node] += 1
        }
    }

    /// The first node from `start` (wrapping around) where none of `claims` conflicts with a
    /// claim in `claimed`; `start` when every node has a conflict (the pod may still run there
    /// if the other claimant is gone by then: `NodePortsScheduler` decides).
    static func freeNode(for claims: [HostPort], from start: Int, nodes: Int, claimed: [Int: [HostPort]]) -> Int {
        if claims.isEmpty { return start }
        return (0..<nodes).map { (start + $0) % nodes }.first { node in
            !claims.contains { claim in claimed[node, default: []].contains { $0.conflicts(with: claim) } }
        } ?? start
    }

    /// `node-3` → 3.
    public static func nodeIndex(_ name: String) -> Int? {
        guard name.hasPrefix("node-"), let index = Int(name.dropFirst(5)), index >= 0, name == "node-\(index)" else { return nil }
        return index
    }

    /// Splits `cidr` into the smallest power of two of equal slices that gives every node one.
    public static func slices(of cidr: CIDR, nodes: Int) -> [CIDR] {
        var bits = 0
        while (1 << bits) < nodes { bits += 1 }
        let length = min(32, cidr.prefixLength + bits)
        let size = length == 32 ? UInt32(1) : UInt32(1) << (32 - length)
        return (0..<nodes).map { CIDR.ipv4(IPv4(cidr.network &+ UInt32($0) &* size), length) }
    }
}
