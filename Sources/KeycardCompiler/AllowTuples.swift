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

    /// How many contributions hold `tuple` (0: it is not in the set).
    func referenceCount(_ tuple: ExactTuple) -> Int { exact[tuple]?.count ?? 0 }

    /// The exact set's elements, sorted: `peer . proto . port`.
    var exactElements: [SetElement] {
        exact.keys.sorted().map { .value([.ipv4($0.peer), .proto($0.proto), .port($0.port)]) }
    }

    /// The peers set's elements, sorted.
    var anyElements: [SetElement] { any.keys.sorted().map { .value([.ipv4($0)]) } }

    /// The ranges set's elements: disjoint boxes covering exactly the union of every box.
    var rangeElements: [SetElement] { TupleBox.disjoint(Array(boxes.keys)).map(\.element) }

    /// Each element's first contribution (for a disjoint piece of boxes: the first contribution
    /// of the first box, in element order, that holds the piece's lower corner).
    var comments: [SetElement: String] {
        var result: [SetElement: String] = [:]
        for (tuple, sources) in exact {
            if let first = sources.first { result[.value([.ipv4(tuple.peer), .proto(tuple.proto), .port(tuple.port)])] = first }
        }
        for (peer, sources) in any { if let first = sources.first { result[.value([.ipv4(peer)])] = first } }
        let ordered = boxes.sorted {
            ($0.key.addresses.lowerBound, $0.key.ports.lowerBound) < ($1.key.addresses.lowerBound, $1.key.ports.lowerBound)
        }
        for piece in TupleBox.disjoint(Array(boxes.keys)) {
            let source = ordered.first { box, _ in
                box.addresses.contains(piece.addresses.lowerBound) && box.protocols.contains(piece.protocols.lowerBound)
                    && box.ports.contains(piece.ports.lowerBound)
            }
            if let first = source?.value.first { result[piece.element] = first }
        }
        return result
    }
}
