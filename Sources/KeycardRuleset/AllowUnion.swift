/// The exact meet of two versions of an allow union: an exact set `ipv4_addr . inet_proto .
/// inet_service`, a peers set `ipv4_addr` and a concatenated interval set of boxes, looked up one
/// after another (keycard's allow program). What the meet allows is what both versions' unions
/// allow, which per-set intersections would understate (old allows a peer on every port, new the
/// same peer on one port: the meet must allow that port).
enum AllowUnion {
    /// The elements of each set of the meet, in the order of `new`; nil when the sets are not of
    /// those three shapes (the caller then intersects set by set, which is stricter).
    static func meet(_ old: [NamedSet], _ new: [NamedSet]) -> [[SetElement]]? {
        guard let before = Side(old), let after = Side(new) else { return nil }
        var points = before.points.intersection(after.points)
        for point in before.points where after.holds(point) { points.insert(point) }
        for point in after.points where before.holds(point) { points.insert(point) }
        let peers = before.peers.intersection(after.peers)
        var boxes: [TupleBox] = []
        for a in before.boxes { for b in after.boxes { if let both = a.intersection(b) { boxes.append(both) } } }
        boxes += TupleBox.peerBoxes(before.peers, within: after.boxes) + TupleBox.peerBoxes(after.peers, within: before.boxes)
        let ranges = TupleBox.disjoint(boxes).map(\.element)
        return new.map { set in
            switch Side.shape(set) {
            case .exact:
                points.sorted { $0.lexicographicallyPrecedes($1) }.map {
                    .value([.ipv4($0[0]), .proto(UInt8($0[1])), .port(UInt16($0[2]))])
                }
            case .peers: peers.sorted().map { .value([.ipv4($0)]) }
            case .ranges, nil: ranges
            }
        }
    }

    private enum Shape { case exact, peers, ranges }

    /// One version of the union, as points, peers and boxes.
    private struct Side {
        var points = Set<[UInt32]>()
        var peers = Set<UInt32>()
        var boxes: [TupleBox] = []

        static func shape(_ set: NamedSet) -> Shape? {
            let tuple: [KeyField] = [.ipv4Address, .inetProto, .inetService]
            switch (set.key, set.interval, set.data) {
            case (tuple, false, nil): return .exact
            case ([.ipv4Address], false, nil): return .peers
            case (tuple, true, nil): return .ranges
            default: return nil
            }
        }

        init?(_ sets: [NamedSet]) {
            for set in sets {
                guard let shape = Self.shape(set) else { return nil }
                for element in set.elements {
                    switch (shape, element) {
                    case (.exact, .value(let values)): points.insert(values.map(\.number))
                    case (.peers, .value(let values)): peers.insert(values[0].number)
                    case (.ranges, _):
                        guard let box = TupleBox(element) else { return nil }
                        boxes.append(box)
                    default: return nil
                    }
                }
            }
        }

        /// Whether the union holds the point `address . proto . port`.
        func holds(_ point: [UInt32]) -> Bool {
            points.contains(point) || peers.contains(point[0])
                || boxes.contains { $0.addresses.contains(point[0]) && $0.protocols.contains(point[1]) && $0.ports.contains(point[2]) }
        }
    }
}
