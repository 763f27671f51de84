import KeycardValues

/// One change to a namespace's links, addresses or routes, built as one netlink message (by libnl,
/// `LibnlRouteMessages`) and acknowledged on its own. Interfaces are named by ifindex in the
/// namespace the socket lives in.
public enum LinkRequest: Sendable, Hashable {
    /// A new veth pair: `name` is created in the socket's namespace, `peerName` is born in the
    /// namespace open as `peerNamespaceFD` (libnl's veth peer with its namespace fd). `up` brings
    /// the first end up at creation; the peer must be set up from its own namespace (the kernel
    /// cannot open it before the pair is joined). An index of 0 lets the kernel choose; a nil MAC
    /// lets the kernel pick a random one (IFLA_ADDRESS otherwise).
    case createVeth(
        name: String, index: Int32, peerName: String, peerIndex: Int32, peerNamespaceFD: Int32, up: Bool,
        mac: MACAddress? = nil, peerMAC: MACAddress? = nil)
    /// IFF_UP on an existing link (ifindex 1 is loopback in every namespace).
    case setLinkUp(index: Int32)
    /// `address/prefixLength` on the link `index` (local and peer address alike).
    case addAddress(index: Int32, address: IPv4, prefixLength: UInt8)
    /// A static unicast route in the main table.
    case addRoute(RouteRequest)
    /// A static blackhole route in the main table (RTN_BLACKHOLE, no nexthop): packets to
    /// `destination` that no more specific route takes are dropped silently.
    case addBlackholeRoute(destination: CIDR)
    /// A permanent IPv4 neighbour entry (RTM_NEWNEIGH, NUD_PERMANENT): `address` on ifindex
    /// `index` is `mac`, with no ARP exchange and exempt from the neighbour table's garbage limit.
    case addNeighbour(index: Int32, address: IPv4, mac: MACAddress)

    /// What the request touches, for error messages ("veth kcp3 (ifindex 3) <-> eth0").
    public var subject: String {
        switch self {
        case .createVeth(let name, let index, let peerName, let peerIndex, _, _, _, _):
            return "veth \(name) (ifindex \(index)) <-> \(peerName) (ifindex \(peerIndex))"
        case .setLinkUp(let index):
            return "link ifindex \(index) up"
        case .addAddress(let index, let address, let length):
            return "address \(address)/\(length) on ifindex \(index)"
        case .addRoute(let route):
            return "route \(route)"
        case .addBlackholeRoute(let destination):
            return "route blackhole \(destination)"
        case .addNeighbour(let index, let address, let mac):
            return "neighbour \(address) lladdr \(mac) on ifindex \(index)"
        }
    }

    /// What the request does, for error messages.
    var operation: String {
        switch self {
        case .createVeth: return "create veth"
        case .setLinkUp: return "set link up"
        case .addAddress: return "add address"
        case .addRoute, .addBlackholeRoute: return "add route"
        case .addNeighbour: return "add neighbour"
        }
    }
}

/// A route: destination prefix, optional gateway, output ifindex, scope, preferred source.
public struct RouteRequest: Sendable, Hashable, CustomStringConvertible {
    /// RT_SCOPE_UNIVERSE or RT_SCOPE_LINK (rtnetlink(7)).
    public enum Scope: Sendable, Hashable { case universe, link }
    /// The destination prefix (`CIDR.any` for the default route).
    public var destination: CIDR
    public var gateway: IPv4?
    public var outputIndex: Int32
    public var scope: Scope
    /// RTNH_F_ONLINK: trust that the gateway is on the link without a route to it.
    public var onlink: Bool
    public var preferredSource: IPv4?

    public init(
        destination: CIDR, gateway: IPv4? = nil, outputIndex: Int32,
        scope: Scope = .universe, onlink: Bool = false, preferredSource: IPv4? = nil
    ) {
        self.destination = destination
        self.gateway = gateway
        self.outputIndex = outputIndex
        self.scope = scope
        self.onlink = onlink
        self.preferredSource = preferredSource
    }

    public var description: String {
        var text = "\(destination)"
        if let gateway { text += " via \(gateway)" }
        text += " dev ifindex \(outputIndex)"
        if scope == .link { text += " scope link" }
        if onlink { text += " onlink" }
        if let preferredSource { text += " src \(preferredSource)" }
        return text
    }
}
