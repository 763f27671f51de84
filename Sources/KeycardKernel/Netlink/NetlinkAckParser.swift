import CNetfilter

/// Reads an NLMSG_ERROR message (an ack or an error) with libmnl's accessors.
enum NetlinkAckParser {
    /// The ack `header` carries, or nil when it is another kind of message or too short.
    static func ack(_ header: UnsafePointer<nlmsghdr>) -> NetlinkAck? {
        guard header.pointee.nlmsg_type == UInt16(NLMSG_ERROR),
            Int(header.pointee.nlmsg_len) >= MemoryLayout<nlmsghdr>.size + MemoryLayout<nlmsgerr>.size,
            let payload = mnl_nlmsg_get_payload(header)
        else { return nil }
        let error = payload.assumingMemoryBound(to: nlmsgerr.self)
        return NetlinkAck(sequence: header.pointee.nlmsg_seq, errno: -error.pointee.error, reason: reason(header, error))
    }

    /// NLMSGERR_ATTR_MSG: the kernel's one-line reason, when NETLINK_EXT_ACK added one. The TLVs
    /// follow the echoed request: only its header when the ack is capped (NLM_F_CAPPED), all of it
    /// otherwise.
    private static func reason(_ header: UnsafePointer<nlmsghdr>, _ error: UnsafePointer<nlmsgerr>) -> String? {
        guard header.pointee.nlmsg_flags & UInt16(NLM_F_ACK_TLVS) != 0 else { return nil }
        var offset = MemoryLayout<nlmsgerr>.size
        if header.pointee.nlmsg_flags & UInt16(NLM_F_CAPPED) == 0 {
            offset += Int(error.pointee.msg.nlmsg_len) - MemoryLayout<nlmsghdr>.size
        }
        let found = FoundReason()
        _ = mnl_attr_parse(
            header, UInt32(offset),
            { attribute, data in
                guard let attribute, let data else { return MNL_CB_OK }
                let found = Unmanaged<FoundReason>.fromOpaque(data).takeUnretainedValue()
                if mnl_attr_get_type(attribute) == UInt16(NLMSGERR_ATTR_MSG.rawValue),
                    mnl_attr_validate(attribute, MNL_TYPE_NUL_STRING) >= 0, let text = mnl_attr_get_str(attribute)
                {
                    found.text = String(cString: text)
                }
                return MNL_CB_OK
            },
            Unmanaged.passUnretained(found).toOpaque())
        return found.text
    }
}

/// mnl_attr_parse's context: the reason found so far.
private final class FoundReason { var text: String? }
