import CNetfilter
import Glibc

/// nfnetlink_log wire messages: the one config request keycard sends and the packet messages it reads.
/// Public for golden-byte tests; `NflogListener` is what sends and reads them.
public enum NflogMessages {
    /// nlmsg_type of nfnetlink_log messages: subsystem NFNL_SUBSYS_ULOG in the high byte.
    static func messageType(_ type: nfulnl_msg_types) -> UInt16 { UInt16(NFNL_SUBSYS_ULOG << 8) | UInt16(type.rawValue) }

    /// NFULNL_MSG_CONFIG for `group`, acknowledged: NFULA_CFG_CMD bind (this socket becomes the group's
    /// listener), NFULA_CFG_MODE copy-packet with `copyRange` bytes, NFULA_CFG_QTHRESH 1 and
    /// NFULA_CFG_TIMEOUT 1 (1/100 s) so every packet is sent on its own, at once.
    /// No PF_BIND: nftables' `log group N` names its logger type, so no per-family binding is needed.
    public static func bind(group: UInt16, copyRange: UInt32, sequence: UInt32) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 128)
        let length = buffer.withUnsafeMutableBytes { raw -> Int in
            guard let header = mnl_nlmsg_put_header(raw.baseAddress) else { return 0 }
            header.pointee.nlmsg_type = messageType(NFULNL_MSG_CONFIG)
            header.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST | NLM_F_ACK)
            header.pointee.nlmsg_seq = sequence
            let extra = mnl_nlmsg_put_extra_header(header, MemoryLayout<nfgenmsg>.size)
            let family = extra?.assumingMemoryBound(to: nfgenmsg.self)
            family?.pointee.nfgen_family = UInt8(AF_UNSPEC)
            family?.pointee.version = UInt8(NFNETLINK_V0)
            family?.pointee.res_id = group.bigEndian
            var command = UInt8(NFULNL_CFG_CMD_BIND.rawValue)
            mnl_attr_put(header, UInt16(NFULA_CFG_CMD.rawValue), 1, &command)
            // struct nfulnl_msg_config_mode is packed: be32 copy_range, u8 copy_mode, u8 pad.
            var mode: [UInt8] = [
                UInt8(copyRange >> 24), UInt8((copyRange >> 16) & 0xff), UInt8((copyRange >> 8) & 0xff),
                UInt8(copyRange & 0xff), UInt8(NFULNL_COPY_PACKET), 0,
            ]
            mnl_attr_put(header, UInt16(NFULA_CFG_MODE.rawValue), mode.count, &mode)
            mnl_attr_put_u32(header, UInt16(NFULA_CFG_QTHRESH.rawValue), UInt32(1).bigEndian)
            mnl_attr_put_u32(header, UInt16(NFULA_CFG_TIMEOUT.rawValue), UInt32(1).bigEndian)
            return Int(header.pointee.nlmsg_len)
        }
        return Array(buffer.prefix(length))
    }

    /// The NFULNL_MSG_PACKET messages of one received datagram (mnl_cb_run + mnl_attr_parse); other
    /// messages are skipped. Nil when the datagram is malformed or carries an error: its evidence is
    /// lost, not guessed.
    public static func packets(in datagram: [UInt8], portID: UInt32 = 0) -> [LoggedPacket]? {
        datagram.withUnsafeBytes { packets(in: $0, portID: portID) }
    }

    static func packets(in bytes: UnsafeRawBufferPointer, portID: UInt32) -> [LoggedPacket]? {
        // mnl_cb_run stops quietly at a truncated message; a datagram must be whole messages.
        var remaining = Int32(clamping: bytes.count)
        var header = bytes.baseAddress?.assumingMemoryBound(to: nlmsghdr.self)
        while let current = header, mnl_nlmsg_ok(current, remaining) {
            header = UnsafePointer(mnl_nlmsg_next(current, &remaining))
        }
        guard remaining <= 0 else { return nil }
        let collector = PacketCollector()
        let result = mnl_cb_run(
            bytes.baseAddress, bytes.count, 0, portID,
            { header, data in
                guard let header, let data else { return MNL_CB_OK }
                Unmanaged<PacketCollector>.fromOpaque(data).takeUnretainedValue().collect(header)
                return MNL_CB_OK
            },
            Unmanaged.passUnretained(collector).toOpaque())
        return result < 0 ? nil : collector.packets
    }
}

/// mnl_cb_run's context for one datagram: the packets so far and the attributes of the message at hand.
private final class PacketCollector {
    var packets: [LoggedPacket] = []
    /// NFULA_* attribute → its nlattr in the current message (NFULA_L2HDR is 21; room to spare).
    var attributes = [UnsafePointer<nlattr>?](repeating: nil, count: 32)

    func collect(_ header: UnsafePointer<nlmsghdr>) {
        guard header.pointee.nlmsg_type == NflogMessages.messageType(NFULNL_MSG_PACKET),
            Int(header.pointee.nlmsg_len) >= MemoryLayout<nlmsghdr>.size + MemoryLayout<nfgenmsg>.size,
            let family = mnl_nlmsg_get_payload(header)?.assumingMemoryBound(to: nfgenmsg.self)
        else { return }
        for index in attributes.indices { attributes[index] = nil }
        let parsed = mnl_attr_parse(
            header, UInt32(MemoryLayout<nfgenmsg>.size),
            { attribute, data in
                guard let attribute, let data else { return MNL_CB_OK }
                let collector = Unmanaged<PacketCollector>.fromOpaque(data).takeUnretainedValue()
                let type = Int(mnl_attr_get_type(attribute))
                if type < collector.attributes.count { collector.attributes[type] = attribute }
                return MNL_CB_OK
            },
            Unmanaged.passUnretained(self).toOpaque())
        guard parsed >= 0 else { return }
        packets.append(
            LoggedPacket(
                group: UInt16(bigEndian: family.pointee.res_id), prefix: prefix(), hook: hook(), flow: payload().flatMap(PacketFlow.parse)))
    }

    private func attribute(_ type: nfulnl_attr_type) -> UnsafePointer<nlattr>? { attributes[Int(type.rawValue)] }

    private func prefix() -> String {
        guard let attribute = attribute(NFULA_PREFIX), mnl_attr_validate(attribute, MNL_TYPE_NUL_STRING) >= 0,
            let text = mnl_attr_get_str(attribute)
        else { return "" }
        return String(cString: text)
    }

    private func hook() -> UInt8 {
        guard let attribute = attribute(NFULA_PACKET_HDR),
            mnl_attr_get_payload_len(attribute) >= MemoryLayout<nfulnl_msg_packet_hdr>.size,
            let payload = mnl_attr_get_payload(attribute)
        else { return 0 }
        // struct nfulnl_msg_packet_hdr (packed): be16 hw_protocol, u8 hook, u8 pad.
        return payload.assumingMemoryBound(to: nfulnl_msg_packet_hdr.self).pointee.hook
    }

    private func payload() -> [UInt8]? {
        guard let attribute = attribute(NFULA_PAYLOAD), let payload = mnl_attr_get_payload(attribute) else { return nil }
        return Array(UnsafeRawBufferPointer(start: payload, count: Int(mnl_attr_get_payload_len(attribute))))
    }
}
