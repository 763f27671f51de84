import CNetlinkRoute
import Glibc
import KeycardValues

/// The libnl adapter: builds each `LinkRequest` as an rtnetlink message with libnl-route-3
/// (rtnl_link_veth_alloc / rtnl_link_veth_get_peer / rtnl_link_set_ns_fd, rtnl_link_build_*,
/// rtnl_addr_*, rtnl_route_*) and appends its bytes to a datagram. libnl only builds: keycard's
/// `NetlinkTransport` sends and reads the acks, so the messages are golden-testable without root
/// and the socket is the one opened (and checked) inside the lab namespace.
enum LibnlRouteMessages {
    /// Appends the message for `request` with sequence number `sequence` (NLM_F_REQUEST|NLM_F_ACK
    /// on top of libnl's own flags) to `datagram`, padded to 4 bytes. Throws EINVAL with libnl's
    /// reason when libnl refuses to build it (RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE).
    static func append(_ request: LinkRequest, sequence: UInt32, to datagram: inout [UInt8]) throws(KernelError) {
        var message: OpaquePointer?
        let status: Int32
        switch request {
        case .createVeth(let name, let index, let peerName, let peerIndex, let peerNamespaceFD, let up, let mac, let peerMAC):
            status = buildVeth(name, index, peerName, peerIndex, peerNamespaceFD, up, mac, peerMAC, &message)
        case .setLinkUp(let index):
            status = buildLinkUp(index, &message)
        case .addAddress(let index, let address, let prefixLength):
            status = buildAddress(index, address, prefixLength, &message)
        case .addRoute(let route):
            status = buildRoute(route, &message)
        case .addBlackholeRoute(let destination):
            status = buildBlackhole(destination, &message)
        case .addNeighbour(let index, let address, let mac):
            status = buildNeighbour(index, address, mac, &message)
        }
        guard status >= 0, let message else {
            throw KernelError(
                "libnl build \(request.operation)", subject: "\(request.subject): \(String(cString: nl_geterror(status)))", errno: EINVAL)
        }
        defer { nlmsg_free(message) }
        guard let header = nlmsg_hdr(message) else {
            throw KernelError("libnl build \(request.operation)", subject: "\(request.subject): no message header", errno: EINVAL)
        }
        header.pointee.nlmsg_seq = sequence
        header.pointee.nlmsg_flags |= UInt16(NLM_F_REQUEST | NLM_F_ACK)
        let length = Int(header.pointee.nlmsg_len)
        datagram.append(contentsOf: UnsafeRawBufferPointer(start: header, count: length))
        // libnl pads every attribute, so this is a no-op unless a message ever ends unaligned.
        datagram.append(contentsOf: repeatElement(0, count: (4 - length % 4) % 4))
    }

    /// RTM_NEWLINK kind veth, CREATE|EXCL. The peer's ifinfomsg sits inside VETH_INFO_PEER with its
    /// name and IFLA_NET_NS_FD; it cannot be born up (veth_open: ENOTCONN before the pair is joined).
    private static func buildVeth(
        _ name: String, _ index: Int32, _ peerName: String, _ peerIndex: Int32, _ peerNamespaceFD: Int32, _ up: Bool,
        _ mac: MACAddress?, _ peerMAC: MACAddress?, _ message: inout OpaquePointer?
    ) -> Int32 {
        guard let link = rtnl_link_veth_alloc() else { return -NLE_NOMEM }
        defer { rtnl_link_veth_release(link) }
        rtnl_link_set_name(link, name)
        rtnl_link_set_ifindex(link, index)
        if up { rtnl_link_set_flags(link, UInt32(IFF_UP)) }
        if let mac {
            guard let address = linkLayer(mac) else { return -NLE_NOMEM }
            defer { nl_addr_put(address) }
            rtnl_link_set_addr(link, address)
        }
        guard let peer = rtnl_link_veth_get_peer(link) else { return -NLE_NOMEM }
        defer { rtnl_link_put(peer) }
        rtnl_link_set_name(peer, peerName)
        rtnl_link_set_ifindex(peer, peerIndex)
        rtnl_link_set_ns_fd(peer, peerNamespaceFD)
        if let peerMAC {
            guard let address = linkLayer(peerMAC) else { return -NLE_NOMEM }
            defer { nl_addr_put(address) }
            rtnl_link_set_addr(peer, address)
        }
        return rtnl_link_build_add_request(link, NLM_F_CREATE | NLM_F_EXCL, &message)
    }

    /// RTM_NEWNEIGH, CREATE|REPLACE, AF_INET, NUD_PERMANENT: NDA_DST and NDA_LLADDR on `index`.
    private static func buildNeighbour(_ index: Int32, _ address: IPv4, _ mac: MACAddress, _ message: inout OpaquePointer?) -> Int32 {
        guard let object = rtnl_neigh_alloc() else { return -NLE_NOMEM }
        defer { rtnl_neigh_put(object) }
        guard let destination = ipv4(address, 32) else { return -NLE_NOMEM }
        defer { nl_addr_put(destination) }
        guard let linkAddress = linkLayer(mac) else { return -NLE_NOMEM }
        defer { nl_addr_put(linkAddress) }
        rtnl_neigh_set_family(object, AF_INET)
        rtnl_neigh_set_ifindex(object, index)
        let status = rtnl_neigh_set_dst(object, destination)
        if status < 0 { return status }
        rtnl_neigh_set_lladdr(object, linkAddress)
        rtnl_neigh_set_state(object, Int32(NUD_PERMANENT))
        return rtnl_neigh_build_add_request(object, NLM_F_CREATE | NLM_F_REPLACE, &message)
    }

    /// RTM_NEWLINK on ifindex `index` changing only IFF_UP.
    private static func buildLinkUp(_ index: Int32, _ message: inout OpaquePointer?) -> Int32 {
        guard let original = rtnl_link_alloc() else { return -NLE_NOMEM }
        defer { rtnl_link_put(original) }
        guard let change = rtnl_link_alloc() else { return -NLE_NOMEM }
        defer { rtnl_link_put(change) }
        rtnl_link_set_ifindex(original, index)
        rtnl_link_set_flags(change, UInt32(IFF_UP))
        return rtnl_link_build_change_request(original, change, 0, &message)
    }

    /// RTM_NEWADDR, CREATE|EXCL: IFA_LOCAL (libnl adds IFA_ADDRESS alike), scope universe.
    private static func buildAddress(_ index: Int32, _ address: IPv4, _ prefixLength: UInt8, _ message: inout OpaquePointer?) -> Int32 {
        guard let object = rtnl_addr_alloc() else { return -NLE_NOMEM }
        defer { rtnl_addr_put(object) }
        guard let local = ipv4(address, prefixLength) else { return -NLE_NOMEM }
        defer { nl_addr_put(local) }
        rtnl_addr_set_family(object, AF_INET)
        rtnl_addr_set_ifindex(object, index)
        let status = rtnl_addr_set_local(object, local)
        if status < 0 { return status }
        return rtnl_addr_build_add_request(object, NLM_F_CREATE | NLM_F_EXCL, &message)
    }

    /// RTM_NEWROUTE, CREATE|EXCL, main table, protocol static, unicast; one nexthop (gateway,
    /// output ifindex); onlink as RTNH_F_ONLINK in rtm_flags.
    private static func buildRoute(_ route: RouteRequest, _ message: inout OpaquePointer?) -> Int32 {
        let scope = route.scope == .link ? RT_SCOPE_LINK.rawValue : RT_SCOPE_UNIVERSE.rawValue
        return buildRouteMessage(route.destination, type: Int32(RTN_UNICAST), scope: scope, &message) { object in
            if route.onlink { rtnl_route_set_flags(object, UInt32(RTNH_F_ONLINK)) }
            if let source = route.preferredSource {
                guard let address = ipv4(source, 32) else { return -NLE_NOMEM }
                defer { nl_addr_put(address) }
                let status = rtnl_route_set_pref_src(object, address)
                if status < 0 { return status }
            }
            // The route owns the nexthop once added (freed with it); the nexthop takes its own
            // reference to the gateway address. The address first: nothing to free if it fails.
            var gatewayAddress: OpaquePointer?
            if let gateway = route.gateway {
                guard let address = ipv4(gateway, 32) else { return -NLE_NOMEM }
                gatewayAddress = address
            }
            defer { if let gatewayAddress { nl_addr_put(gatewayAddress) } }
            guard let hop = rtnl_route_nh_alloc() else { return -NLE_NOMEM }
            rtnl_route_nh_set_ifindex(hop, route.outputIndex)
            if let gatewayAddress { rtnl_route_nh_set_gateway(hop, gatewayAddress) }
            rtnl_route_add_nexthop(object, hop)
            return 0
        }
    }

    /// RTM_NEWROUTE, CREATE|EXCL, main table, protocol static, type blackhole, no nexthop.
    private static func buildBlackhole(_ destination: CIDR, _ message: inout OpaquePointer?) -> Int32 {
        buildRouteMessage(destination, type: Int32(RTN_BLACKHOLE), scope: RT_SCOPE_UNIVERSE.rawValue, &message) { _ in 0 }
    }

    /// An IPv4 route to `destination` in the main table, protocol static, of `type` and `scope`;
    /// `details` sets the rest (a negative libnl error stops the build), then the RTM_NEWROUTE
    /// CREATE|EXCL request is built into `message`.
    private static func buildRouteMessage(
        _ destination: CIDR, type: Int32, scope: UInt32, _ message: inout OpaquePointer?, details: (OpaquePointer) -> Int32
    ) -> Int32 {
        guard let object = rtnl_route_alloc() else { return -NLE_NOMEM }
        defer { rtnl_route_put(object) }
        guard let address = ipv4(destination.firstAddress, UInt8(destination.prefixLength)) else { return -NLE_NOMEM }
        defer { nl_addr_put(address) }
        rtnl_route_set_family(object, UInt8(AF_INET))
        var status = rtnl_route_set_dst(object, address)
        if status < 0 { return status }
        rtnl_route_set_table(object, UInt32(RT_TABLE_MAIN.rawValue))
        rtnl_route_set_protocol(object, UInt8(RTPROT_STATIC))
        rtnl_route_set_scope(object, UInt8(scope))
        rtnl_route_set_type(object, UInt8(type))
        status = details(object)
        if status < 0 { return status }
        return rtnl_route_build_add_request(object, NLM_F_CREATE | NLM_F_EXCL, &message)
    }

    /// An AF_LLC nl_addr (what libnl uses for link-layer addresses) for `mac` (caller puts it).
    private static func linkLayer(_ mac: MACAddress) -> OpaquePointer? {
        var octets = mac.octets
        return nl_addr_build(AF_LLC, &octets, octets.count)
    }

    /// An AF_INET nl_addr for `address` and a prefix length (caller puts it).
    private static func ipv4(_ address: IPv4, _ prefixLength: UInt8) -> OpaquePointer? {
        var network = address.value.bigEndian
        guard let object = nl_addr_build(AF_INET, &network, 4) else { return nil }
        nl_addr_set_prefixlen(object, Int32(prefixLength))
        return object
    }
}
