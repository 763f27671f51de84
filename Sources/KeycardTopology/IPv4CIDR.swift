/// An IPv4 prefix ("10.244.0.0/16"): a network address whose host bits are zero, and a length.
public struct IPv4CIDR: Hashable, Sendable, CustomStringConvertible {
    public let network: IPv4Address
    public let prefixLength: Int

    /// Nil unless `prefixLength` is 0...32 and `network` has no host bits set.
    public init?(network: IPv4Address, prefixLength: Int) {
        guard (0...32).contains(prefixLength) else { return nil }
        guard network.value & ~Self.mask(prefixLength) == 0 else { return nil }
        self.network = network
        self.prefixLength = prefixLength
    }

    /// Parses "A.B.C.D/N"; a bare address is taken as /32.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPv4Address(String(parts[0])) else { return nil }
        var length = 32
        if parts.count == 2 {
            guard parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let parsed = Int(parts[1]) else { return nil }
            length = parsed
        }
        self.init(network: address, prefixLength: length)
    }

    /// The /32 holding exactly `address`.
    public static func host(_ address: IPv4Address) -> IPv4CIDR {
        IPv4CIDR(unchecked: address, prefixLength: 32)
    }

    /// The default route's destination, 0.0.0.0/0.
    public static let any = IPv4CIDR(unchecked: IPv4Address(0), prefixLength: 0)

    init(unchecked network: IPv4Address, prefixLength: Int) {
        self.network = network
        self.prefixLength = prefixLength
    }

    static func mask(_ length: Int) -> UInt32 { length == 0 ? 0 : UInt32.max << UInt32(32 - length) }

    /// How many addresses the prefix covers.
    public var size: UInt64 { UInt64(1) << UInt64(32 - prefixLength) }

    public var first: IPv4Address { network }
    public var last: IPv4Address { IPv4Address(network.value | ~Self.mask(prefixLength)) }

    public func contains(_ address: IPv4Address) -> Bool {
        address.value & Self.mask(prefixLength) == network.value
    }

    /// True when the two prefixes share at least one address.
    public func overlaps(_ other: IPv4CIDR) -> Bool {
        contains(other.network) || other.contains(network)
    }

    /// The `index`-th of the 2^`extraBits` equal parts; nil when the parts would be longer than /32.
    public func subnet(_ index: Int, extraBits: Int) -> IPv4CIDR? {
        let length = prefixLength + extraBits
        guard extraBits >= 0, length <= 32, index >= 0, UInt64(index) < (UInt64(1) << UInt64(extraBits)) else {
            return nil
        }
        let offset = length == 32 ? UInt32(index) : UInt32(index) << UInt32(32 - length)
        return IPv4CIDR(unchecked: IPv4Address(network.value | offset), prefixLength: length)
    }

    public var description: String { "\(network)/\(prefixLength)" }
}

extension IPv4CIDR: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let cidr = IPv4CIDR(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an IPv4 CIDR: \(text)")
        }
        self = cidr
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
