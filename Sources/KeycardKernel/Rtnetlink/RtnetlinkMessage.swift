import CNetfilter
import Glibc

/// Writes one `RtnetlinkRequest` as a netlink message with libmnl, at `buffer`.
enum RtnetlinkMessage {
    /// Room one message may take; every message here is far below it.
    static let maximumSize = 512

    /// Builds the message for `request` with sequence number `sequence`; returns its length.
    static func build(_ request: RtnetlinkRequest, sequence: UInt32, at buffer: UnsafeMutableRawPointer) -> Int {
        guard let nlh = mnl_nlmsg_put_header(buffer) else { return 0 }
        nlh.pointee.nlmsg_seq = sequence
        nlh.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST | NLM_F_ACK)
        switch request {
        case .createVeth(let name, let index, let peerName, let peerIndex, let peerNamespaceFD, let up):
            nlh.pointee.nlmsg_type = UInt16(RTM_NEWLINK)
            nlh.pointee.nlmsg_flags |= UInt16(NLM_F_CREATE | NLM_F_EXCL)
            putLinkHeader(nlh, index: index, up: up)
            mnl_attr_put_strz(nlh, UInt16(IFLA_IFNAME), name)
            let info = mnl_attr_nest_start(nlh, UInt16(IFLA_LINKINFO))
            mnl_attr_put_strz(nlh, UInt16(IFLA_INFO_KIND), "veth")
            let data = mnl_attr_nest_start(nlh, UInt16(IFLA_INFO_DATA))
            let peer = mnl_attr_nest_start(nlh, UInt16(VETH_INFO_PEER))
            // The peer's attributes follow its own ifinfomsg inside VETH_INFO_PEER. The peer cannot
            // be born up: the kernel configures it before the pair is joined (veth_open: ENOTCONN).
            putLinkHeader(nlh, index: peerIndex, up: false)
            mnl_attr_put_strz(nlh, UInt16(IFLA_IFNAME), peerName)
            mnl_attr_put_u32(nlh, UInt16(IFLA_NET_NS_FD), UInt32(bitPattern: peerNamespaceFD))
            mnl_attr_nest_end(nlh, peer)
            mnl_attr_nest_end(nlh, data)
            mnl_attr_nest_end(nlh, info)
        case .setLinkUp(let index):
            nlh.pointee.nlmsg_type = UInt16(RTM_NEWLINK)
            putLinkHeader(nlh, index: index, up: true)
        case .addAddress(let index, let address, let prefixLength):
            nlh.pointee.nlmsg_type = UInt16(RTM_NEWADDR)
            nlh.pointee.nlmsg_flags |= UInt16(NLM_F_CREATE | NLM_F_EXCL)
            let header = mnl_nlmsg_put_extra_header(nlh, MemoryLayout<ifaddrmsg>.size)
                .bindMemory(to: ifaddrmsg.self, capacity: 1)
            header.pointee.ifa_family = UInt8(AF_INET)
            header.pointee.ifa_prefixlen = prefixLength
            header.pointee.ifa_scope = UInt8(RT_SCOPE_UNIVERSE.rawValue)
            header.pointee.ifa_index = UInt32(bitPattern: index)
            mnl_attr_put_u32(nlh, UInt16(IFA_LOCAL), address.bigEndian)
            mnl_attr_put_u32(nlh, UInt16(IFA_ADDRESS), address.bigEndian)
        case .addRoute(let route):
            nlh.pointee.nlmsg_type = UInt16(RTM_NEWROUTE)
            nlh.pointee.nlmsg_flags |= UInt16(NLM_F_CREATE | NLM_F_EXCL)
            let header = mnl_nlmsg_put_extra_header(nlh, MemoryLayout<rtmsg>.size)
                .bindMemory(to: rtmsg.self, capacity: 1)
            header.pointee.rtm_family = UInt8(AF_INET)
            header.pointee.rtm_dst_len = route.prefixLength
            header.pointee.rtm_table = UInt8(RT_TABLE_MAIN.rawValue)
            header.pointee.rtm_protocol = UInt8(RTPROT_STATIC)
            header.pointee.rtm_scope = UInt8(route.scope == .link ? RT_SCOPE_LINK.rawValue : RT_SCOPE_UNIVERSE.rawValue)
            header.pointee.rtm_type = UInt8(RTN_UNICAST)
            header.pointee.rtm_flags = route.onlink ? UInt32(RTNH_F_ONLINK) : 0
            if route.prefixLength > 0 { mnl_attr_put_u32(nlh, UInt16(RTA_DST.rawValue), route.destination.bigEndian) }
            if let gateway = route.gateway { mnl_attr_put_u32(nlh, UInt16(RTA_GATEWAY.rawValue), gateway.bigEndian) }
            if let source = route.preferredSource {
                mnl_attr_put_u32(nlh, UInt16(RTA_PREFSRC.rawValue), source.bigEndian)
            }
            mnl_attr_put_u32(nlh, UInt16(RTA_OIF.rawValue), UInt32(bitPattern: route.outputIndex))
        }
        return Int(nlh.pointee.nlmsg_len)
    }

    /// An ifinfomsg at the message's tail; `up` sets IFF_UP (and only that flag is changed).
    private static func putLinkHeader(_ nlh: UnsafeMutablePointer<nlmsghdr>, index: Int32, up: Bool) {
        let header = mnl_nlmsg_put_extra_header(nlh, MemoryLayout<ifinfomsg>.size)
            .bindMemory(to: ifinfomsg.self, capacity: 1)
        header.pointee.ifi_family = UInt8(AF_UNSPEC)
        header.pointee.ifi_index = index
        header.pointee.ifi_flags = up ? UInt32(IFF_UP) : 0
        header.pointee.ifi_change = UInt32(IFF_UP)
    }
}
