/// An inclusive range of IPv4 addresses, `first...last`: what an ipBlock minus its `except` blocks
/// becomes, and what an nftables interval set element holds.
public struct IPv4Range: Hashable, Sendable, CustomStringConvertible {
    public var first: IPv4
    public var last: IPv4

    /// The range from the lower to the higher of the two.
    public init(_ a: IPv4, _ b: IPv4) {
        first = min(a, b)
        last = max(a, b)
    }

    /// Every address of an IPv4 block.
    public init(_ block: CIDR) {
        self.init(IPv4(block.network), IPv4(block.last))
    }

    /// The prefix length when the range is exactly one CIDR block, else nil.
    public var prefixLength: Int? {
        let span = last.value &- first.value
        // A block spans 2^k - 1 addresses and starts on a multiple of 2^k.
        guard span & (span &+ 1) == 0, first.value & span == 0 else { return nil }
        return span == .max ? 0 : 32 - (span &+ 1).trailingZeroBitCount
    }

    /// nft's element text: `10.0.0.7`, `10.0.0.0/24` or `10.1.0.1-10.1.0.5`.
    public var description: String {
        if first == last { return first.description }
        if let length = prefixLength { return "\(first)/\(length)" }
        return "\(first)-\(last)"
    }
}
