import KeycardValues

/// One rtnetlink change, built as one message and acknowledged on its own. Addresses are IPv4 in
/// host order (`0x0A_F4_00_01` is 10.244.0.1); interfaces are named by ifindex in the namespace the
/// socket lives in.
public enum RtnetlinkRequest: Sendable, Hashable {
    /// RTM_NEWLINK kind "veth": `name` is created in the socket's namespace, `peerName` is born in
    /// the namespace open as `peerNamespaceFD` (IFLA_NET_NS_FD inside VETH_INFO_PEER). `up` brings
    /// the first end up at creation; the peer must be set up from its own namespace (the kernel
    /// cannot open it before the pair is joined). An index of 0 lets the kernel choose.
    case createVeth(name: String, index: Int32, peerName: String, peerIndex: Int32, peerNamespaceFD: Int32, up: Bool)
    /// RTM_NEWLINK with IFF_UP on an existing link (ifindex 1 is loopback in every namespace).
    case setLinkUp(index: Int32)
    /// RTM_NEWADDR: `address/prefixLength` on the link `index` (IFA_LOCAL and IFA_ADDRESS).
    case addAddress(index: Int32, address: UInt32, prefixLength: UInt8)
    /// RTM_NEWROUTE in the main table.
    case addRoute(RouteRequest)

    /// What the request touches, for error messages ("veth kcp3 (ifindex 3) <-> eth0").
    public var subject: String {
        switch self {
        case .createVeth(let name, let index, let peerName, let peerIndex, _, _):
            return "veth \(name) (ifindex \(index)) <-> \(peerName) (ifindex \(peerIndex))"
        case .setLinkUp(let index):
            return "link ifindex \(index) up"
        case .addAddress(let index, let address, let length):
            return "address \(IPv4(address))/\(length) on ifindex \(index)"
        case .addRoute(let route):
            return "route \(route)"
        }
    }

    var operation: String {
        switch self {
        case .createVeth, .setLinkUp: return "rtnetlink RTM_NEWLINK"
        case .addAddress: return "rtnetlink RTM_NEWADDR"
        case .addRoute: return "rtnetlink RTM_NEWROUTE"
        }
    }
}

/// A route: destination prefix, optional gateway, output interface, scope, preferred source.
public struct RouteRequest: Sendable, Hashable, CustomStringConvertible {
    public enum Scope: Sendable, Hashable { case universe, link }
    public var destination: UInt32
    public var prefixLength: UInt8
    public var gateway: UInt32?
    public var outputIndex: Int32
    public var scope: Scope
    /// RTNH_F_ONLINK: trust that the gateway is on the link without a route to it.
    public var onlink: Bool
    public var preferredSource: UInt32?

    public init(
        destination: UInt32, prefixLength: UInt8, gateway: UInt32? = nil, outputIndex: Int32,
        scope: Scope = .universe, onlink: Bool = false, preferredSource: UInt32? = nil
    ) {
        self.destination = destination
        self.prefixLength = prefixLength
        self.gateway = gateway
        self.outputIndex = outputIndex
        self.scope = scope
        self.onlink = onlink
        self.preferredSource = preferredSource
    }

    public var description: String {
        var text = "\(IPv4(destination))/\(prefixLength)"
        if let gateway { text += " via \(IPv4(gateway))" }
        text += " dev ifindex \(outputIndex)"
        if scope == .link { text += " scope link" }
        if onlink { text += " onlink" }
        if let preferredSource { text += " src \(IPv4(preferredSource))" }
        return text
    }
}
