import KeycardRuleset

/// The flattened allow tuples of one protected pod and direction, deduplicated across every rule of
/// every policy that selects the pod, each with the (policy, rule) contributions that hold it.
///
/// A tuple stays while any contribution holds it (its reference count is the number of
/// contributions); the first contribution, `ns/policy#ingress[i]`, names it for humans.
struct AllowTuples {
    /// One contributing rule: `ns/policy#ingress[i]`.
    typealias Contribution = String

    /// `peer . proto . port` (host-order address), for the exact hash set.
    var exact: [ExactTuple: [Contribution]] = [:]
    /// Peer addresses allowed on every protocol and port, for the peers hash set.
    var any: [UInt32: [Contribution]] = [:]
    /// Boxes (address range × protocol range × port range), possibly overlapping; made disjoint
    /// only when the set's elements are produced.
    var boxes: [TupleBox: [Contribution]] = [:]

    struct ExactTuple: Hashable, Comparable {
        var peer: UInt32
        var proto: UInt8
        var port: UInt16

        static func < (lhs: Self, rhs: Self) -> Bool { (lhs.peer, lhs.proto, lhs.port) < (rhs.peer, rhs.proto, rhs.port) }
    }

    mutating func addExact(peer: UInt32, proto: UInt8, port: UInt16, by contribution: Contribution) {
        exact[ExactTuple(peer: peer, proto: proto, port: port), default: []].append(contribution)
    }

    mutating func addAny(peer: UInt32, by contribution: Contribution) { any[peer, default: []].append(contribution) }

    mutating func addBox(_ box: TupleBox, by contribution: Contribution) { boxes[box, default: []].append(contribution) }

    /// The boxes with their contributions in the order that names a range piece (the first box
    /// holding the piece's lower corner names it): by first address, first port, first protocol,
    /// then last address, last port, last protocol, so that a full compile and an incremental
    /// update name a piece alike, whatever the dictionary's order.
    var boxesInNamingOrder: [(key: TupleBox, value: [Contribution])] {
        boxes.sorted { a, b in
            let (x, y) = (a.key, b.key)
            if x.addresses.lowerBound != y.addresses.lowerBound { return x.addresses.lowerBound < y.addresses.lowerBound }
            if x.ports.lowerBound != y.ports.lowerBound { return x.ports.lowerBound < y.ports.lowerBound }
            if x.protocols.lowerBound != y.protocols.lowerBound { return x.protocols.lowerBound < y.protocols.lowerBound }
            if x.addresses.upperBound != y.addresses.upperBound { return x.addresses.upperBound < y.addresses.upperBound }
            if x.ports.upperBound != y.ports.upperBound { return x.ports.upperBound < y.ports.upperBound }
            return x.protocols.upperBound < y.protocols.upperBound
        }
    }

    /// How many contributions hold `tuple` (0: it is not in the set).
    func referenceCount(_ tuple: ExactTuple) -> Int { exact[tuple]?.count ?? 0 }

    /// The exact set's elements, sorted: `peer . proto . port`.
    var exactElements: [SetElement] {
        exact.keys.sorted().map { .value([.ipv4($0.peer), .proto($0.proto), .port($0.port)]) }
    }

    /// The peers set's elements, sorted.
    var anyElements: [SetElement] { any.keys.sorted().map { .value([.ipv4($0)]) } }

    /// The ranges set's pieces: disjoint boxes covering exactly the union of every box. Costly
    /// for many boxes: computed once per set (`comments(rangePieces:)` takes them).
    var rangePieces: [TupleBox] { TupleBox.disjoint(Array(boxes.keys)) }

    /// Each element's first contribution (for a disjoint piece of boxes, one of `rangePieces`: the
    /// first contribution of the first box, in element order, that holds the piece's lower corner).
    func comments(rangePieces: [TupleBox]) -> [SetElement: String] {
        var result: [SetElement: String] = [:]
        for (tuple, sources) in exact {
            if let first = sources.first { result[.value([.ipv4(tuple.peer), .proto(tuple.proto), .port(tuple.port)])] = first }
        }
        for (peer, sources) in any { if let first = sources.first { result[.value([.ipv4(peer)])] = first } }
        let ordered = boxesInNamingOrder
        let locator = BoxLocator(ordered.map(\.key))
        for piece in rangePieces {
            if let index = locator.first(holding: piece), let first = ordered[index].value.first { result[piece.element] = first }
        }
        return result
    }
}

/// Finds the first of some boxes (in their given order) holding a point, without trying every
/// box for every point: boxes are grouped by address range, and the groups sorted by their first
/// address with the running maximum of their last, so a point meets only the groups that can hold
/// it (one or two for the usual disjoint peers). A rule of 200 ipBlocks × 200 ports made 40,000
/// pieces each tried against 40,000 boxes.
struct BoxLocator {
    private let boxes: [TupleBox]
    /// Address ranges ascending by lower bound, each with its boxes' indices (ascending).
    private let groups: [(addresses: ClosedRange<UInt32>, indices: [Int])]
    /// `reach[j]`: the highest address any of groups 0...j holds.
    private let reach: [UInt32]

    init(_ boxes: [TupleBox]) {
        self.boxes = boxes
        var byRange: [ClosedRange<UInt32>: [Int]] = [:]
        for (index, box) in boxes.enumerated() { byRange[box.addresses, default: []].append(index) }
        groups = byRange.map { ($0.key, $0.value) }.sorted {
            ($0.addresses.lowerBound, $0.addresses.upperBound) < ($1.addresses.lowerBound, $1.addresses.upperBound)
        }
        var reach: [UInt32] = []
        for group in groups { reach.append(max(reach.last ?? 0, group.addresses.upperBound)) }
        self.reach = reach
    }

    /// The index of the first box holding `piece`'s lower corner, or nil.
    func first(holding piece: TupleBox) -> Int? {
        let address = piece.addresses.lowerBound
        var best: Int?
        var index = lastGroup(startingAtOrBefore: address)
        while index >= 0, reach[index] >= address {
            if groups[index].addresses.contains(address) {
                let found = groups[index].indices.first { position in
                    boxes[position].protocols.contains(piece.protocols.lowerBound) && boxes[position].ports.contains(piece.ports.lowerBound)
                }
                if let found, found < (best ?? .max) { best = found }
            }
            index -= 1
        }
        return best
    }

    /// The indices (ascending) of the boxes that share a point with `box`.
    func indices(overlapping box: TupleBox) -> [Int] {
        var found: [Int] = []
        var index = lastGroup(startingAtOrBefore: box.addresses.upperBound)
        while index >= 0, reach[index] >= box.addresses.lowerBound {
            if groups[index].addresses.overlaps(box.addresses) {
                found += groups[index].indices.filter { boxes[$0].protocols.overlaps(box.protocols) && boxes[$0].ports.overlaps(box.ports) }
            }
            index -= 1
        }
        return found.sorted()
    }

    /// The index of the last group whose addresses start at or before `address`, -1 for none.
    private func lastGroup(startingAtOrBefore address: UInt32) -> Int {
        var low = 0
        var high = groups.count
        while low < high {
            let middle = (low + high) / 2
            if groups[middle].addresses.lowerBound <= address { low = middle + 1 } else { high = middle }
        }
        return low - 1
    }
}
