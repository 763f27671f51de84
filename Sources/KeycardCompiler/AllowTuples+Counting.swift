import KeycardRuleset

/// Which tuples of one program crossed zero during one update: added are now held and were not
/// before, removed the other way round (a tuple that went away and came back is in neither).
struct TupleCrossings {
    var exactAdded = Set<AllowTuples.ExactTuple>()
    var exactRemoved = Set<AllowTuples.ExactTuple>()
    var anyAdded = Set<UInt32>()
    var anyRemoved = Set<UInt32>()
    /// Some box crossed zero: the ranges set's disjoint pieces must be recomputed.
    var boxesChanged = false

    static func cross<T: Hashable>(_ value: T, up: Bool, _ added: inout Set<T>, _ removed: inout Set<T>) {
        if up {
            if removed.remove(value) == nil { added.insert(value) }
        } else {
            if added.remove(value) == nil { removed.insert(value) }
        }
    }
}

extension AllowTuples {
    /// No tuple at all.
    var isEmpty: Bool { exact.isEmpty && any.isEmpty && boxes.isEmpty }

    /// Adds every contribution of `other` (one rule's tuples), noting the tuples that go 0 → 1.
    mutating func add(_ other: AllowTuples, _ crossings: inout TupleCrossings) {
        for (tuple, sources) in other.exact {
            if exact[tuple] == nil { TupleCrossings.cross(tuple, up: true, &crossings.exactAdded, &crossings.exactRemoved) }
            exact[tuple, default: []].append(contentsOf: sources)
        }
        for (peer, sources) in other.any {
            if any[peer] == nil { TupleCrossings.cross(peer, up: true, &crossings.anyAdded, &crossings.anyRemoved) }
            any[peer, default: []].append(contentsOf: sources)
        }
        for (box, sources) in other.boxes {
            if boxes[box] == nil { crossings.boxesChanged = true }
            boxes[box, default: []].append(contentsOf: sources)
        }
    }

    /// Takes back every contribution of `other` (added earlier), noting the tuples that go 1 → 0.
    mutating func remove(_ other: AllowTuples, _ crossings: inout TupleCrossings) {
        for (tuple, sources) in other.exact {
            if Self.take(sources, from: &exact[tuple]) {
                TupleCrossings.cross(tuple, up: false, &crossings.exactAdded, &crossings.exactRemoved)
            }
        }
        for (peer, sources) in other.any {
            if Self.take(sources, from: &any[peer]) { TupleCrossings.cross(peer, up: false, &crossings.anyAdded, &crossings.anyRemoved) }
        }
        for (box, sources) in other.boxes where Self.take(sources, from: &boxes[box]) { crossings.boxesChanged = true }
    }

    /// Removes one occurrence of each of `sources` from `list`; true when the list became empty
    /// (and is then set to nil, so that the tuple is gone).
    private static func take(_ sources: [Contribution], from list: inout [Contribution]?) -> Bool {
        guard var remaining = list else { return false }
        for source in sources {
            if let index = remaining.lastIndex(of: source) { remaining.remove(at: index) }
        }
        list = remaining.isEmpty ? nil : remaining
        return remaining.isEmpty
    }

    /// The exact set's element for `tuple`.
    static func element(_ tuple: ExactTuple) -> SetElement { .value([.ipv4(tuple.peer), .proto(tuple.proto), .port(tuple.port)]) }
}
