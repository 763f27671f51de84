import KeycardValues

/// What a lab should hold: its name, how many nodes, the pod network, the pods and the externals.
public struct LabSpec: Hashable, Sendable, Codable {
    /// [a-z0-9-]{1,24}; becomes the `kc-<labName>.` prefix of every namespace.
    public var labName: String
    public var nodes: Int
    /// An IPv4 block without host bits, /8 to /30.
    public var podCIDR: CIDR
    public var pods: [PodSpec]
    public var externals: [ExternalSpec]
    /// Cluster DNS: which pod runs the server and the address pods query; nil when off.
    public var dns: LabDNS? = nil

    /// 10.244.0.0/16, as kubeadm's flannel setup uses.
    public static let defaultPodCIDR = CIDR.ipv4(IPv4(0x0AF4_0000), 16)

    public init(
        labName: String, nodes: Int = 1, podCIDR: CIDR = LabSpec.defaultPodCIDR,
        pods: [PodSpec] = [], externals: [ExternalSpec] = []
    ) {
        self.labName = labName
        self.nodes = nodes
        self.podCIDR = podCIDR
        self.pods = pods
        self.externals = externals
    }
}

/// One pod: a network namespace on a node, with an address and the ports it serves.
public struct PodSpec: Hashable, Sendable, Codable {
    public var namespace: String
    public var name: String
    /// "node-0", "node-1", ...; nil spreads pods round-robin.
    public var nodeName: String?
    /// A fixed address inside the pod CIDR (it may lie in another node's slice).
    public var pinnedIP: IPv4?
    public var ports: [ServedPort]
    /// argv (command and args combined) to run inside the pod's namespace, if any.
    public var command: [String]?
    /// `hostNetwork: true`: no namespace, veth or address of its own; its ports and program live in
    /// its node's namespace on the node's address (`LabPlan.hostNetworkPods`).
    public var hostNetwork = false
    /// What its program reads as resolv.conf when the lab runs cluster DNS.
    public var resolver = PodResolver.cluster(ResolvConf())
    /// What its program gets from the kubelet besides its network: environment, host name, hosts file.
    public var context = ProgramContext()

    public init(
        namespace: String, name: String, nodeName: String? = nil, pinnedIP: IPv4? = nil,
        ports: [ServedPort] = [], command: [String]? = nil
    ) {
        self.namespace = namespace
        self.name = name
        self.nodeName = nodeName
        self.pinnedIP = pinnedIP
        self.ports = ports
        self.command = command
    }
}

/// A port a pod or external listens on.
public struct ServedPort: Hashable, Sendable, Codable {
    public var proto: TransportProtocol
    public var port: UInt16

    public init(_ proto: TransportProtocol, _ port: UInt16) {
        self.proto = proto
        self.port = port
    }
}

/// A host outside the cluster (an IP outside the pod CIDR), reachable from every pod via the router.
public struct ExternalSpec: Hashable, Sendable, Codable {
    public var name: String
    public var ip: IPv4
    public var ports: [ServedPort]

    public init(name: String, ip: IPv4, ports: [ServedPort] = []) {
        self.name = name
        self.ip = ip
        self.ports = ports
    }
}

/// Cluster DNS in a lab: the pod whose `command` is the DNS server, and what the other pods'
/// programs get as their resolv.conf.
public struct LabDNS: Hashable, Sendable, Codable {
    /// "namespace/name" of the pod running the server.
    public var serverPod: String
    /// The address pods query (the DNS pod's own until Services give it a ClusterIP).
    public var nameserver: IPv4
    /// The cluster domain, `cluster.local`.
    public var domain: String

    public init(serverPod: String, nameserver: IPv4, domain: String = "cluster.local") {
        self.serverPod = serverPod
        self.nameserver = nameserver
        self.domain = domain
    }

    /// The resolv.conf the kubelet writes for a pod of `namespace` whose programs use `resolver`
    /// (https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-dns-config):
    /// for cluster DNS the nameserver, `<ns>.svc.<domain> svc.<domain> <domain>` and the node's
    /// search domains (`generateSearchesForDNSClusterFirst`), `ndots:5`, then the pod's own lines;
    /// for `.node` the node's file `nodeFile` as the kubelet parses it, then the pod's own lines
    /// (`GetPodDNS`, pkg/kubelet/network/dns/dns.go).
    public func resolvConf(namespace: String, resolver: PodResolver, nodeFile: String) -> String {
        let (base, dnsConfig): (ResolvConf.PodBase, ResolvConf)
        switch resolver {
        case .node(let lines): (base, dnsConfig) = (.node, lines)
        case .own(let lines): (base, dnsConfig) = (.none, lines)
        case .cluster(let lines): (base, dnsConfig) = (.cluster, lines)
        }
        return ResolvConf.pod(
            base, clusterNameservers: [nameserver.description], namespace: namespace, domain: domain,
            node: ResolvConf(kubeletParsing: nodeFile), dnsConfig: dnsConfig
        ).text
    }
}

/// What a pod's program gets from the kubelet besides its network namespace
/// (`ProgramEnvironment` builds it from the pod).
public struct ProgramContext: Hashable, Sendable, Codable {
    /// `NAME=value` strings, added to keycard's own environment (PATH and the like: the lab runs
    /// no images).
    public var environment: [String] = []
    /// The host name the program sees, in a UTS namespace of its own; nil: the machine's.
    public var hostname: String?
    /// The `/etc/hosts` the program reads; nil: the machine's.
    public var hostsFile: HostsFile?

    public init() {}
}

/// The `/etc/hosts` the kubelet mounts into a pod's containers (`ensureHostsFile`, pkg/kubelet).
public enum HostsFile: Hashable, Sendable, Codable {
    /// Off the host network: the whole file (`managedHostsFileContent`).
    case managed(String)
    /// On the host network: the node's own `/etc/hosts` under the kubelet's header, then these
    /// `hostAliases` lines (`nodeHostsFileContent`). The lab's nodes are this machine, so the
    /// node's file is the machine's, read when the program starts.
    case node(appending: String)

    /// The kubelet's first line of a host-network pod's file (`managedHostsHeaderWithHostNetwork`).
    public static let hostNetworkHeader = "# Kubernetes-managed hosts file (host network).\n"

    /// The file's text, given the node's `/etc/hosts`.
    public func text(nodeHosts: String) -> String {
        switch self {
        case .managed(let text): text
        case .node(let appendix): Self.hostNetworkHeader + nodeHosts + appendix
        }
    }
}
