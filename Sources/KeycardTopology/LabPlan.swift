import KeycardValues

/// Everything a lab consists of, in the order it must be built: namespaces, veth pairs, addresses,
/// routes and sysctls, plus per-pod, per-node and per-external summaries. A pure value: the kernel
/// adapter turns it into netlink requests; the nftables placement reads `nodes[].podInterfaces`.
public struct LabPlan: Hashable, Sendable, Codable {
    public var labName: String
    public var podCIDR: CIDR
    /// Router first, then nodes, externals and pods.
    public var namespaces: [PlannedNamespace]
    /// Every veth pair; the first end is created from its namespace, the peer is born in its own.
    public var links: [VethLink]
    public var addresses: [PlannedAddress]
    /// In dependency order within each namespace (a gateway's link route before routes via it).
    public var routes: [PlannedRoute]
    /// Permanent neighbour (ARP) entries for both ends of every pod veth, written once at bring-up.
    public var neighbours: [PlannedNeighbour] = []
    /// One per node: its slice (`PlannedBlackhole`).
    public var blackholes: [PlannedBlackhole] = []
    public var sysctls: [PlannedSysctl]
    public var router: String
    public var nodes: [PlannedNode]
    public var pods: [PlannedPod]
    public var externals: [PlannedExternal]
    /// Host-network pods: `netns` is their node's namespace and `address` the node's; they have no
    /// veth (`interface` and `nodeInterface` are empty) and are not in `pods`, whose consumers
    /// (policy tables, traffic capture) concern pods with a namespace of their own.
    public var hostNetworkPods: [PlannedPod] = []
    /// Cluster DNS, when the lab runs it.
    public var dns: LabDNS? = nil

    /// Every pod whose ports are served and whose program runs: `pods`, then `hostNetworkPods`.
    public var servingPods: [PlannedPod] { pods + hostNetworkPods }

    /// `kc-<lab>.`: the prefix that identifies every namespace of this lab and no other.
    public var namespacePrefix: String { TopologyPlanner.namespacePrefix(labName) }
}

/// One network namespace, mounted at /run/netns/<name>.
public struct PlannedNamespace: Hashable, Sendable, Codable {
    /// What the namespace stands for: the lab's router, a node, an external host or a pod.
    public enum Role: String, Hashable, Sendable, Codable { case router, node, external, pod }
    public var name: String
    public var role: Role
}

/// One end of a veth pair: the namespace it lives in, its name (≤ 15 characters) and the ifindex
/// requested at creation (unique within that namespace; 1 is loopback).
public struct LinkEnd: Hashable, Sendable, Codable {
    public var namespace: String
    public var name: String
    public var index: Int32
    /// The link-layer address set at creation (pod veths), or nil for the kernel's random one.
    public var mac: MACAddress? = nil
}

/// A veth pair; both ends live in lab namespaces, never in the host's.
public struct VethLink: Hashable, Sendable, Codable {
    public var end: LinkEnd
    public var peer: LinkEnd
}

/// An address on an interface: `address/prefixLength`.
public struct PlannedAddress: Hashable, Sendable, Codable {
    public var namespace: String
    public var interface: String
    public var interfaceIndex: Int32
    public var address: IPv4
    public var prefixLength: Int
}

/// A route in a namespace's main table.
public struct PlannedRoute: Hashable, Sendable, Codable {
    /// RT_SCOPE_UNIVERSE (via a gateway) or RT_SCOPE_LINK (directly on the link), rtnetlink(7).
    public enum Scope: String, Hashable, Sendable, Codable { case universe, link }
    public var namespace: String
    public var destination: CIDR
    public var gateway: IPv4?
    public var interface: String
    public var interfaceIndex: Int32
    public var scope: Scope
    /// The source address the namespace picks for traffic it originates on this route.
    public var preferredSource: IPv4?
}

/// A blackhole route in a node's namespace for the node's pod slice: an address of the slice
/// that no pod holds (a scan of the pod CIDR knocks on all of them) is dropped at the node, as
/// Calico's blackhole route for a node's IPAM block does. Without it the packet would go up the
/// node's default route, come back down the router's route for the slice, and bounce between
/// the two until its TTL ran out, flooding the links while a scan runs. A pod's host route is
/// more specific and wins.
public struct PlannedBlackhole: Hashable, Sendable, Codable {
    public var namespace: String
    public var destination: CIDR
}

/// A permanent neighbour entry: in `namespace`, `address` on ifindex `interfaceIndex` is `mac`.
/// The kernel's ARP table is one for all namespaces and holds `gc_thresh3` (1,024 by default)
/// entries that can be collected; permanent entries are exempt (Linux 4.20, "neighbor: Improve
/// garbage collection"), so a lab of a thousand pods never overflows it and never sends an ARP
/// request on a pod link.
public struct PlannedNeighbour: Hashable, Sendable, Codable {
    public var namespace: String
    public var interfaceIndex: Int32
    public var address: IPv4
    public var mac: MACAddress
}

/// A sysctl written inside a namespace: `key` is the path under /proc/sys ("net/ipv4/ip_forward").
public struct PlannedSysctl: Hashable, Sendable, Codable {
    public var namespace: String
    public var key: String
    public var value: String
}

/// A node: its namespace, its slice of the pod CIDR and the node-side names of its pods' veths.
public struct PlannedNode: Hashable, Sendable, Codable {
    public var index: Int
    public var name: String
    public var namespace: String
    public var slice: CIDR
    /// The node's address on its link to the router.
    public var uplinkAddress: IPv4
    public var uplinkInterface: String
    /// Node-side interface names of this node's pod veths, in pod order (for the node nftables placement).
    public var podInterfaces: [String]
}

/// A pod: where it lives and how it is addressed.
public struct PlannedPod: Hashable, Sendable, Codable {
    public var namespace: String
    public var name: String
    /// Its network namespace, `kc-<lab>.pod.<namespace>.<name>`.
    public var netns: String
    public var nodeIndex: Int
    public var nodeName: String
    public var address: IPv4
    public var gateway: IPv4
    /// The pod-side interface ("eth0") and the node-side peer's name.
    public var interface: String
    public var nodeInterface: String
    public var ports: [ServedPort]
    public var command: [String]?
    /// Runs in its node's namespace on the node's address (`LabPlan.hostNetworkPods`).
    public var hostNetwork = false
    /// What its program reads as resolv.conf when the lab runs cluster DNS (`PodSpec.resolver`).
    public var resolver = PodResolver.cluster(ResolvConf())
    /// What its program gets besides its network (`PodSpec.context`).
    public var context = ProgramContext()

    /// "namespace/name".
    public var key: String { "\(namespace)/\(name)" }
}

/// An external host: its namespace and address.
public struct PlannedExternal: Hashable, Sendable, Codable {
    public var name: String
    public var netns: String
    public var address: IPv4
    public var ports: [ServedPort]
}
