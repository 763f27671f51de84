/// How one namespace's table moves from what is installed to its next version, as the
/// incremental compiler computed it (no comparison of whole tables needed).
public enum TableUpdate: Hashable, Sendable {
    /// Set elements only, applied to the table installed now.
    case elements(ElementChanges)
    /// The table is replaced whole, or removed (nil): a pod appearing or disappearing in pod placement.
    case replace(Table?)
}

/// Element changes of one table. `direct` goes from the old table to the new one in one
/// transaction; `toMeet` then `fromMeet` go through the meet of the two (allow sets keep what both
/// versions' unions allow, isolating sets and maps hold both), for changes spanning several
/// namespaces (docs/atomicity.md).
public struct ElementChanges: Hashable, Sendable {
    public var direct: [SetElementChange]
    public var toMeet: [SetElementChange]
    public var fromMeet: [SetElementChange]
    /// The first contribution of each added element, shown as its comment.
    public var comments: [SetElement: String]

    public init(direct: [SetElementChange], toMeet: [SetElementChange], fromMeet: [SetElementChange], comments: [SetElement: String] = [:])
    {
        self.direct = direct
        self.toMeet = toMeet
        self.fromMeet = fromMeet
        self.comments = comments
    }
}

extension Table {
    /// The table with `changes` applied to its sets' elements (deletions, then additions at the
    /// end; `comments` gives the additions' comments). Cost: the changed sets, not the table.
    public func applying(_ changes: [SetElementChange], comments: [SetElement: String] = [:]) -> Table {
        var table = self
        table.apply(changes, comments: comments)
        return table
    }

    /// Applies `changes` in place: when the table's storage is not shared, the cost is the
    /// changes (and a scan of each set for its deletions), not a copy of the table.
    public mutating func apply(_ changes: [SetElementChange], comments: [SetElement: String] = [:]) {
        for change in changes where !change.isEmpty {
            guard let position = sets.firstIndex(where: { $0.name == change.set }) else { continue }
            sets[position].remove(change.delete)
            sets[position].elements += change.add
            for element in change.add {
                guard let comment = comments[element] else { continue }
                if sets[position].comments == nil { sets[position].comments = [:] }
                sets[position].comments?[element] = comment
            }
        }
    }
}

extension Table {
    /// Where each element of each set sits, for `apply(_:comments:positions:)`.
    public typealias ElementPositions = [String: [SetElement: Int]]

    /// Applies `changes` in place, finding deleted elements through `positions` (built for a set
    /// the first time it loses an element, kept up to date after): the cost is the changes, not
    /// the sets (a deleted element's place is taken by the set's last element).
    public mutating func apply(_ changes: [SetElementChange], comments: [SetElement: String], positions: inout ElementPositions) {
        for change in changes where !change.isEmpty {
            guard let position = sets.firstIndex(where: { $0.name == change.set }) else { continue }
            if !change.delete.isEmpty, positions[change.set] == nil {
                var index: [SetElement: Int] = [:]
                for (offset, element) in sets[position].elements.enumerated() { index[element] = offset }
                positions[change.set] = index
            }
            for element in change.delete {
                guard let offset = positions[change.set]?.removeValue(forKey: element) else { continue }
                let last = sets[position].elements.count - 1
                if offset != last {
                    let moved = sets[position].elements[last]
                    sets[position].elements[offset] = moved
                    positions[change.set]?[moved] = offset
                }
                sets[position].elements.removeLast()
                sets[position].comments?[element] = nil
            }
            if sets[position].comments?.isEmpty == true { sets[position].comments = nil }
            for element in change.add {
                if positions[change.set] != nil { positions[change.set]?[element] = sets[position].elements.count }
                sets[position].elements.append(element)
                guard let comment = comments[element] else { continue }
                if sets[position].comments == nil { sets[position].comments = [:] }
                sets[position].comments?[element] = comment
            }
        }
    }
}

extension NamedSet {
    /// Removes `elements` (and their comments).
    mutating func remove(_ gone: [SetElement]) {
        if gone.isEmpty { return }
        if gone.count <= 8 {
            for element in gone { if let position = elements.firstIndex(of: element) { elements.remove(at: position) } }
        } else {
            let doomed = Set(gone)
            elements.removeAll { doomed.contains($0) }
        }
        if comments != nil { for element in gone { comments?[element] = nil } }
        if comments?.isEmpty == true { comments = nil }
    }
}
