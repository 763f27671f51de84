import KeycardRuleset
import Testing

@testable import KeycardCompiler

/// `BoxLocator` answers what a scan of every box in order answers: the first box holding a point.
@Suite struct BoxLocatorTests {
    @Test(arguments: [1, 2, 3, 4, 5])
    func agreesWithTryingEveryBoxInOrder(seed: UInt64) {
        var random = SeededRandom(seed)
        func range(_ bound: UInt32, _ widest: UInt32) -> ClosedRange<UInt32> {
            let low = random.next(bound)
            return low...min(bound, low + random.next(widest))
        }
        // Overlapping and nested address ranges, shared by several boxes, as rules make them.
        let addresses = (0..<12).map { _ in range(1_000, 200) }
        let boxes = (0..<150).map { _ in
            TupleBox(addresses: addresses[Int(random.next(11))], protocols: range(3, 1), ports: range(50, 10))
        }
        let locator = BoxLocator(boxes)
        for _ in 0..<2_000 {
            let point = TupleBox(addresses: range(1_100, 0), protocols: range(4, 0), ports: range(60, 0))
            let expected = boxes.firstIndex {
                $0.addresses.contains(point.addresses.lowerBound) && $0.protocols.contains(point.protocols.lowerBound)
                    && $0.ports.contains(point.ports.lowerBound)
            }
            #expect(locator.first(holding: point) == expected)
        }
    }
}

/// A small deterministic generator (SplitMix64), so a failure repeats.
private struct SeededRandom {
    private var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next(_ bound: UInt32) -> UInt32 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return UInt32((z ^ (z >> 31)) % (UInt64(bound) + 1))
    }
}
