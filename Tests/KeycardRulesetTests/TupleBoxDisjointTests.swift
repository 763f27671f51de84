import KeycardRuleset
import KeycardTestSupport
import Testing

/// `TupleBox.disjoint`, which the ranges sets (pipapo, no overlapping elements) are made of:
/// pairwise disjoint boxes covering exactly the union of the given ones, on random boxes of a
/// small space (every corner of every box checked), and the same output whatever the input order.
struct TupleBoxDisjointTests {
    static func range(_ limit: UInt32, _ rng: inout SeededGenerator) -> ClosedRange<UInt32> {
        let a = UInt32.random(in: 0...limit, using: &rng)
        let b = UInt32.random(in: 0...limit, using: &rng)
        return min(a, b)...max(a, b)
    }

    /// The coordinates where membership can change along one axis: every bound and its neighbours.
    static func probes(_ ranges: [ClosedRange<UInt32>]) -> [UInt32] {
        Array(Set(ranges.flatMap { [$0.lowerBound, $0.upperBound, $0.upperBound + 1, $0.lowerBound == 0 ? 0 : $0.lowerBound - 1] }))
            .sorted()
    }

    @Test(arguments: UInt64(1)...60)
    func disjointBoxesCoverExactlyTheUnion(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        let boxes = (0..<Int.random(in: 2...8, using: &rng)).map { _ in
            TupleBox(addresses: Self.range(40, &rng), protocols: Self.range(4, &rng), ports: Self.range(40, &rng))
        }
        let pieces = TupleBox.disjoint(boxes)
        for (i, a) in pieces.enumerated() {
            for b in pieces[(i + 1)...] { #expect(a.intersection(b) == nil, "seed \(seed): \(a) overlaps \(b)") }
        }
        for address in Self.probes(boxes.map(\.addresses)) {
            for proto in Self.probes(boxes.map(\.protocols)) {
                for port in Self.probes(boxes.map(\.ports)) {
                    func holds(_ box: TupleBox) -> Bool {
                        box.addresses.contains(address) && box.protocols.contains(proto) && box.ports.contains(port)
                    }
                    #expect(boxes.contains(where: holds) == pieces.contains(where: holds), "seed \(seed): \(address) \(proto) \(port)")
                }
            }
        }
        #expect(TupleBox.disjoint(boxes.reversed()) == pieces, "seed \(seed): the order of the boxes changed the pieces")
    }

    /// 140 adjacent address blocks × 140 single ports (not adjacent), as one ipBlock-per-CIDR rule
    /// makes: per port the blocks merge into one address range, so one piece per port.
    @Test func adjacentBlocksMergeIntoOnePiecePerPort() {
        let base: UInt32 = 0x0A64_0000
        let blocks: [ClosedRange<UInt32>] = (UInt32(0)..<140).map { index in
            let first = base + index * 256
            return first...(first + 255)
        }
        let ports: [UInt32] = (UInt32(0)..<140).map { 1000 + 2 * $0 }
        let boxes = blocks.flatMap { block in ports.map { TupleBox(addresses: block, protocols: 6...6, ports: $0...$0) } }
        let pieces = TupleBox.disjoint(boxes)
        // Neighbouring blocks are adjacent: each port's addresses merge into one range.
        #expect(pieces.count == 140)
        let whole: ClosedRange<UInt32> = base...(base + 140 * 256 - 1)
        #expect(pieces.first == TupleBox(addresses: whole, protocols: 6...6, ports: 1000...1000))
    }
}
