/// Disjoint boxes for a concatenated interval (pipapo) set, which refuses an element whose corner
/// lies inside another.
extension TupleBox {
    /// Boxes covering exactly the union of `boxes`, pairwise disjoint, in a deterministic order.
    ///
    /// Protocols and ports are cut at every boundary any box uses; per (protocol piece, port
    /// piece) the covering boxes' address ranges are merged; neighbouring port pieces, then
    /// protocol pieces, with the same addresses are joined again.
    public static func disjoint(_ boxes: [TupleBox]) -> [TupleBox] {
        if boxes.count <= 1 { return boxes }
        var byProtocol: [(protocols: ClosedRange<UInt32>, rows: [(ports: ClosedRange<UInt32>, addresses: [ClosedRange<UInt32>])])] = []
        for protocols in pieces(boxes.map(\.protocols)) {
            let covering = boxes.filter { $0.protocols.contains(protocols.lowerBound) }
            var rows: [(ports: ClosedRange<UInt32>, addresses: [ClosedRange<UInt32>])] = []
            for ports in pieces(covering.map(\.ports)) {
                let addresses = merged(covering.filter { $0.ports.contains(ports.lowerBound) }.map(\.addresses))
                if addresses.isEmpty { continue }
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
