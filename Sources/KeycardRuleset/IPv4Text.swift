/// Dotted-quad text for host-order IPv4 values, as nft prints and parses them.
public enum IPv4Text {
    /// `0x0A000001` → `"10.0.0.1"`.
    public static func format(_ address: UInt32) -> String {
        "\(address >> 24).\((address >> 16) & 0xff).\((address >> 8) & 0xff).\(address & 0xff)"
    }

    /// `"10.0.0.1"` → `0x0A000001`, or nil if it is not a dotted quad.
    public static func parse(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard part.count <= 3, let octet = UInt8(part) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        return value
    }

    /// An inclusive range as nft element text: `10.0.0.7`, `10.0.0.0/24` or `10.1.0.1-10.1.0.5`.
    public static func format(range from: UInt32, _ to: UInt32) -> String {
        if from == to { return format(from) }
        if let length = prefixLength(from, to) { return "\(format(from))/\(length)" }
        return "\(format(from))-\(format(to))"
    }

    /// The prefix length if `from...to` is exactly one CIDR block.
    public static func prefixLength(_ from: UInt32, _ to: UInt32) -> Int? {
        let span = to &- from
        // A block spans 2^k - 1 and starts on a multiple of 2^k.
        guard span & (span &+ 1) == 0, from & span == 0 else { return nil }
        return span == .max ? 0 : 32 - (span &+ 1).trailingZeroBitCount
    }
}
