import KeycardModel
import KeycardRuleset
import KeycardValues

/// The IPv4 addresses a set of peers stands for, as inclusive ranges.
struct AddressRanges {
    private(set) var ranges: [ClosedRange<UInt32>] = []

    mutating func add(_ address: IPv4) { ranges.append(address.value...address.value) }

    /// Adds an ipBlock: its CIDR minus every except. IPv6 blocks hold no lab address.
    mutating func add(_ block: NetworkPolicy.IPBlock) {
        guard block.cidr.family == .ipv4 else { return }
        var pieces = [block.cidr.network...block.cidr.last]
        for except in block.except where except.family == .ipv4 {
            pieces = pieces.flatMap { Self.subtract(except.network...except.last, from: $0) }
        }
        ranges += pieces
    }

    var elements: [SetElement] { ranges.map { .range(from: $0.lowerBound, to: $0.upperBound) } }

    static func subtract(_ hole: ClosedRange<UInt32>, from range: ClosedRange<UInt32>) -> [ClosedRange<UInt32>] {
        guard hole.overlaps(range) else { return [range] }
        var result: [ClosedRange<UInt32>] = []
        if hole.lowerBound > range.lowerBound { result.append(range.lowerBound...(hole.lowerBound - 1)) }
        if hole.upperBound < range.upperBound { result.append((hole.upperBound + 1)...range.upperBound) }
        return result
    }
}
