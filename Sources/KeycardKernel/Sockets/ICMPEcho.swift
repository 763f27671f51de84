/// ICMP echo over a raw socket (`SOCK_RAW`, `IPPROTO_ICMP`, root): the prober writes the echo
/// request and reads the replies itself. A raw socket created inside the source's namespace and
/// connected to the destination sends from that namespace and receives only the ICMP packets that
/// come from the destination (the kernel filters raw sockets on the connected address), IPv4 header
/// included; the identifier tells this probe's reply from another's.
enum ICMPEcho {
    static let echoRequest: UInt8 = 8
    static let echoReply: UInt8 = 0

    /// An echo request: type 8, code 0, checksum, `identifier`, sequence 1, `payload`.
    static func request(identifier: UInt16, payload: [UInt8]) -> [UInt8] {
        var packet: [UInt8] = [echoRequest, 0, 0, 0, UInt8(identifier >> 8), UInt8(identifier & 0xFF), 0, 1] + payload
        let sum = checksum(packet)
        packet[2] = UInt8(sum >> 8)
        packet[3] = UInt8(sum & 0xFF)
        return packet
    }

    /// Whether `datagram` (an IPv4 packet as a raw socket reads it) is the echo reply to `identifier`.
    static func isReply(_ datagram: ArraySlice<UInt8>, identifier: UInt16) -> Bool {
        guard let first = datagram.first else { return false }
        let start = datagram.startIndex + Int(first & 0x0F) * 4
        guard first >> 4 == 4, datagram.endIndex >= start + 8 else { return false }
        let id = UInt16(datagram[start + 4]) << 8 | UInt16(datagram[start + 5])
        return datagram[start] == echoReply && datagram[start + 1] == 0 && id == identifier
    }

    /// The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of the
    /// 16-bit words, an odd last byte padded with zero.
    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index + 1 < bytes.count {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index < bytes.count { sum += UInt32(bytes[index]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }
}
