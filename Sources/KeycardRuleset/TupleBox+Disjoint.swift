/// Disjoint boxes for a concatenated interval (pipapo) set, which refuses an element whose corner
/// lies inside another.
extension TupleBox {
    /// Boxes covering exactly the union of `boxes`, pairwise disjoint, in a deterministic order.
    ///
    /// Protocols and ports are cut at every boundary any box uses; per (protocol piece, port
    /// piece) the covering boxes' address ranges are merged; neighbouring port pieces, then
    /// protocol pieces, with the same addresses are joined again. The port pieces are swept in
    /// order, the covering boxes kept as they start and end: a rule of 140 ipBlocks × 140 ports
    /// (19,600 boxes) is not filtered once per piece.
    public static func disjoint(_ boxes: [TupleBox]) -> [TupleBox] {
        if boxes.count <= 1 { return boxes }
        var byProtocol: [(protocols: ClosedRange<UInt32>, rows: [(ports: ClosedRange<UInt32>, addresses: [ClosedRange<UInt32>])])] = []
        for protocols in pieces(boxes.map(\.protocols)) {
            let covering = boxes.filter { $0.protocols.contains(protocols.lowerBound) }
            var rows: [(ports: ClosedRange<UInt32>, addresses: [ClosedRange<UInt32>])] = []
            for (ports, addresses) in portPieces(covering) {
                if let last = rows.last, last.addresses == addresses, last.ports.upperBound + 1 == ports.lowerBound {
                    rows[rows.count - 1].ports = last.ports.lowerBound...ports.upperBound
                } else {
                    rows.append((ports, addresses))
                }
            }
            if rows.isEmpty { continue }
            if let last = byProtocol.last, last.protocols.upperBound + 1 == protocols.lowerBound,
                last.rows.map(\.ports) == rows.map(\.ports), last.rows.map(\.addresses) == rows.map(\.addresses)
            {
                byProtocol[byProtocol.count - 1].protocols = last.protocols.lowerBound...protocols.upperBound
            } else {
                byProtocol.append((protocols, rows))
            }
        }
        return byProtocol.flatMap { group in
            group.rows.flatMap { row in row.addresses.map { TupleBox(addresses: $0, protocols: group.protocols, ports: row.ports) } }
        }
    }

    /// The elementary port pieces that `boxes` cut the port line into, ascending, each that some
    /// box covers with the merged address ranges of the boxes covering it.
    private static func portPieces(_ boxes: [TupleBox]) -> [(ports: ClosedRange<UInt32>, addresses: [ClosedRange<UInt32>])] {
        let starting = boxes.sorted { $0.ports.lowerBound < $1.ports.lowerBound }
        let ending = boxes.sorted { $0.ports.upperBound < $1.ports.upperBound }
        var cuts = Set<UInt64>()
        for box in boxes {
            cuts.insert(UInt64(box.ports.lowerBound))
            cuts.insert(UInt64(box.ports.upperBound) + 1)
        }
        let sorted = cuts.sorted()
        // The address ranges of the boxes covering the current piece, with how many hold each.
        var active: [ClosedRange<UInt32>: Int] = [:]
        var started = 0
        var ended = 0
        var result: [(ports: ClosedRange<UInt32>, addresses: [ClosedRange<UInt32>])] = []
        for (start, end) in zip(sorted, sorted.dropFirst()) {
            while started < starting.count, UInt64(starting[started].ports.lowerBound) <= start {
                active[starting[started].addresses, default: 0] += 1
                started += 1
            }
            while ended < ending.count, UInt64(ending[ended].ports.upperBound) < start {
                let addresses = ending[ended].addresses
                active[addresses] = active[addresses].flatMap { $0 > 1 ? $0 - 1 : nil }
                ended += 1
            }
            if active.isEmpty { continue }
            result.append((UInt32(start)...UInt32(end - 1), merged(Array(active.keys))))
        }
        return result
    }

    /// The elementary pieces that `ranges` cut the line into, only those some range covers.
    private static func pieces(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var cuts = Set<UInt64>()
        for range in ranges {
            cuts.insert(UInt64(range.lowerBound))
            cuts.insert(UInt64(range.upperBound) + 1)
        }
        let sorted = cuts.sorted()
        var result: [ClosedRange<UInt32>] = []
        for (start, end) in zip(sorted, sorted.dropFirst()) {
            let piece = UInt32(start)...UInt32(end - 1)
            if ranges.contains(where: { $0.contains(piece.lowerBound) }) { result.append(piece) }
        }
        return result
    }

    /// Sorted ranges with overlapping or adjacent ones joined.
    static func merged(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var result: [ClosedRange<UInt32>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = result.last, last.upperBound == .max || range.lowerBound <= last.upperBound + 1 {
                result[result.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                result.append(range)
            }
        }
        return result
    }
}
