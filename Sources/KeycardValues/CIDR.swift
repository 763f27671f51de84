/// An address block as Kubernetes' ipBlock takes it: IPv4 or IPv6, in CIDR notation.
///
/// The lab is IPv4 only; an IPv6 block is valid input and simply matches no lab address.
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    /// The address family the block was written in.
    public enum Family: Sendable { case ipv4, ipv6 }

    public let text: String
    public let family: Family
    /// For IPv4: the first address and the prefix length.
    public let network: UInt32
    public let prefixLength: Int
    /// For IPv6: the 128-bit network as two halves.
    let v6: (high: UInt64, low: UInt64)

    public var description: String { text }

    public static func == (lhs: CIDR, rhs: CIDR) -> Bool { lhs.text == rhs.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }

    /// Parses `a.b.c.d/n` or an IPv6 `x::y/n`. Host bits may be set (Kubernetes accepts
    /// `10.0.0.1/24` and uses the block it names); the network is masked.
    public static func parse(_ text: String) -> CIDR? {
        let pieces = text.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count == 2, let length = Int(pieces[1]), !pieces[1].hasPrefix("+"),
            pieces[1].allSatisfy({ $0.isASCII && $0.isNumber }), pieces[1] == "0" || !pieces[1].hasPrefix("0")
        else { return nil }
        if let address = IPv4(String(pieces[0])) {
            guard (0...32).contains(length) else { return nil }
            let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - length)
            return CIDR(text: text, family: .ipv4, network: address.value & mask, prefixLength: length, v6: (0, 0))
        }
        guard let halves = parseIPv6(String(pieces[0])), (0...128).contains(length) else { return nil }
        return CIDR(text: text, family: .ipv6, network: 0, prefixLength: length, v6: masked(halves, length))
    }

    /// Parses an `ipBlock` value as the API server accepts it by default (`netutils.ParseCIDRSloppy`
    /// behind `IsValidCIDRForLegacyField`, while the StrictIPCIDRValidation gate is off): as `parse`,
    /// and also decimal numbers with leading zeros (`010.0.0.0/8` is 10.0.0.0/8, `/08` is /8). Such a
    /// block's `text` is the canonical form; compare it with the input to warn.
    ///
    /// An IPv4-mapped IPv6 block (`::ffff:10.0.0.0/104`) is read as the IPv4 block it maps
    /// (10.0.0.0/8), as Go's `IPNet.Contains` matches IPv4 addresses against it.
    public static func parseLegacy(_ text: String) -> CIDR? {
        let pieces = text.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count == 2, let length = decimal(pieces[1], max: 128) else { return nil }
        if text.contains(":") {
            guard let block = parse("\(pieces[0])/\(length)") else { return nil }
            let mapped = block.v6.high == 0 && block.v6.low >> 32 == 0xffff && length >= 96
            return mapped ? parse("\(IPv4(UInt32(block.v6.low & 0xffff_ffff)))/\(length - 96)") : block
        }
        if let strict = parse(text) { return strict }
        let octets = pieces[0].split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, length <= 32 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard let number = decimal(octet, max: 255) else { return nil }
            value = value << 8 | UInt32(number)
        }
        return parse("\(IPv4(value))/\(length)")
    }

    /// Digits only (any count, leading zeros allowed) with a value up to `max`.
    private static func decimal(_ text: Substring, max: Int) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        let digits = text.drop { $0 == "0" }
        guard digits.count <= 3, let value = digits.isEmpty ? 0 : Int(digits), value <= max else { return nil }
        return value
    }

    /// True when the address written before the `/` is an IPv4-mapped IPv6 address
    /// (`::ffff:10.0.0.0/104`), as Go's `netip.Addr.Is4In6` says. The CEL function `isCIDR`
    /// (k8s.io/apiserver `pkg/cel/library/cidr.go`, `parseCIDR`) refuses such a block.
    public var isIPv4Mapped: Bool {
        guard family == .ipv6, let address = text.split(separator: "/").first,
            let halves = Self.parseIPv6(String(address))
        else { return false }
        return halves.0 == 0 && halves.1 >> 32 == 0xffff
    }

    /// True when an IPv4 block's text names an address that is not the block's first (`10.0.0.1/24`):
    /// valid, and ambiguous (the API server warns since 1.33; KEP-4858). Always false for IPv6,
    /// which the lab does not route.
    public var hasHostBits: Bool {
        guard family == .ipv4, let address = text.split(separator: "/").first.flatMap({ IPv4(String($0)) }) else { return false }
        return address.value != network
    }

    /// The IPv4 block of `length` bits starting at `address` (host bits are masked off).
    public static func ipv4(_ address: IPv4, _ length: Int) -> CIDR {
        let length = max(0, min(32, length))
        let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - length)
        let network = address.value & mask
        return CIDR(text: "\(IPv4(network))/\(length)", family: .ipv4, network: network, prefixLength: length, v6: (0, 0))
    }

    /// An IPv4 block written exactly: nil unless `length` is 0...32 and `network` has no host bits
    /// (what the lab's own plan and settings need; Kubernetes' looser forms go through `parse`).
    public init?(network: IPv4, prefixLength length: Int) {
        guard (0...32).contains(length) else { return nil }
        let block = CIDR.ipv4(network, length)
        guard block.network == network.value else { return nil }
        self = block
    }

    /// Parses an IPv4 block written exactly, for the lab's own settings: `A.B.C.D/N` without host
    /// bits, or a bare address as /32; nil otherwise (IPv6 included).
    public static func parseExact(_ text: String) -> CIDR? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPv4(String(parts[0])) else { return nil }
        guard parts.count == 2 else { return host(address) }
        guard let block = parse(text), !block.hasHostBits else { return nil }
        return CIDR(network: address, prefixLength: block.prefixLength)
    }

    /// The /32 holding exactly `address`.
    public static func host(_ address: IPv4) -> CIDR { ipv4(address, 32) }

    /// The default route's destination, 0.0.0.0/0.
    public static let any = ipv4(IPv4(0), 0)

    /// How many addresses an IPv4 block covers.
    public var size: UInt64 { UInt64(1) << UInt64(32 - prefixLength) }

    /// The first and last addresses of an IPv4 block.
    public var firstAddress: IPv4 { IPv4(network) }
    public var lastAddress: IPv4 { IPv4(last) }

    /// True when two IPv4 blocks share at least one address.
    public func overlaps(_ other: CIDR) -> Bool {
        family == .ipv4 && other.family == .ipv4 && (contains(IPv4(other.network)) || other.contains(IPv4(network)))
    }

    /// The `index`-th of the 2^`extraBits` equal parts of an IPv4 block; nil past /32.
    public func subnet(_ index: Int, extraBits: Int) -> CIDR? {
        let length = prefixLength + extraBits
        guard family == .ipv4, extraBits >= 0, length <= 32, index >= 0, UInt64(index) < (UInt64(1) << UInt64(extraBits)) else {
            return nil
        }
        let offset = length == 32 ? UInt32(index) : UInt32(index) << UInt32(32 - length)
        return CIDR.ipv4(IPv4(network | offset), length)
    }

    /// The last address of an IPv4 block.
    public var last: UInt32 {
        prefixLength == 0 ? UInt32.max : network | ~(~UInt32(0) << (32 - prefixLength))
    }

    /// Whether `address` lies in this block; an IPv6 block contains no IPv4 address.
    public func contains(_ address: IPv4) -> Bool {
        family == .ipv4 && address.value >= network && address.value <= last
    }

    /// True when every address of `other` lies in this block (same family).
    public func contains(_ other: CIDR) -> Bool {
        guard family == other.family, other.prefixLength >= prefixLength else { return false }
        switch family {
        case .ipv4: return other.network >= network && other.last <= last
        case .ipv6:
            let other = CIDR.masked(other.v6, prefixLength)
            return other.0 == v6.high && other.1 == v6.low
        }
    }

    /// Keeps the first `length` bits of a 128-bit address.
    private static func masked(_ address: (UInt64, UInt64), _ length: Int) -> (UInt64, UInt64) {
        let highMask: UInt64 = length >= 64 ? ~0 : (length == 0 ? 0 : ~UInt64(0) << (64 - length))
        let lowMask: UInt64 = length <= 64 ? 0 : (length == 128 ? ~0 : ~UInt64(0) << (128 - length))
        return (address.0 & highMask, address.1 & lowMask)
    }

    private init(text: String, family: Family, network: UInt32, prefixLength: Int, v6: (UInt64, UInt64)) {
        self.text = text
        self.family = family
        self.network = network
        self.prefixLength = prefixLength
        self.v6 = v6
    }

    /// RFC 4291 text form, with at most one `::` and an optional trailing dotted quad.
    private static func parseIPv6(_ text: String) -> (UInt64, UInt64)? {
        guard text.contains(":"), text.count <= 45 else { return nil }
        var groups: [UInt16] = []
        var tail: [UInt16] = []
        let halves = text.split(separator: "::", omittingEmptySubsequences: false).map(String.init)
        guard halves.count <= 2 else { return nil }
        func parseGroups(_ part: String, allowQuad: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let items = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, item) in items.enumerated() {
                if allowQuad && index == items.count - 1 && item.contains(".") {
                    guard let quad = IPv4(String(item)) else { return nil }
                    result.append(UInt16(quad.value >> 16))
                    result.append(UInt16(quad.value & 0xffff))
                } else {
                    guard (1...4).contains(item.count), let group = UInt16(item, radix: 16) else { return nil }
                    result.append(group)
                }
            }
            return result
        }
        guard let head = parseGroups(halves[0], allowQuad: halves.count == 1) else { return nil }
        groups = head
        if halves.count == 2 {
            guard let rest = parseGroups(halves[1], allowQuad: true) else { return nil }
            tail = rest
            guard groups.count + tail.count <= 7 else { return nil }
            groups += Array(repeating: 0, count: 8 - groups.count - tail.count) + tail
        }
        guard groups.count == 8 else { return nil }
        let high = groups[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        let low = groups[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        return (high, low)
    }
}

extension CIDR: Codable {
    /// Decodes the text form (`10.244.0.0/16`), as `parse` reads it.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let cidr = CIDR.parse(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a CIDR: \(text)")
        }
        self = cidr
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}
