/// How one namespace's table moves from what is installed to its next version, as the
/// incremental compiler computed it (no comparison of whole tables needed).
public struct TableUpdate: Hashable, Sendable {
    /// The table after the update; nil when the namespace no longer gets one.
    public var table: Table?
    public var change: Change

    public enum Change: Hashable, Sendable {
        /// Set elements only. `direct` goes from the old table to the new one in one transaction;
        /// `toMeet` then `fromMeet` go through the meet of the two (what both allow: allow sets
        /// keep what both versions' unions allow, isolating sets and maps hold both), for changes
        /// spanning several namespaces (docs/atomicity.md).
        case elements(direct: [SetElementChange], toMeet: [SetElementChange], fromMeet: [SetElementChange])
        /// The table is replaced whole (or removed): a pod appearing or disappearing in pod placement.
        case replace
    }

    public init(table: Table?, change: Change) {
        self.table = table
        self.change = change
    }
}

extension Table {
    /// The table with `changes` applied to its sets' elements (deletions, then additions at the
    /// end; `comments` gives the additions' comments). Cost: the changed sets, not the table.
    public func applying(_ changes: [SetElementChange], comments: [SetElement: String] = [:]) -> Table {
        var table = self
        var index: [String: Int] = [:]
        for change in changes where !change.isEmpty {
            if index.isEmpty { for (position, set) in sets.enumerated() { index[set.name] = position } }
            guard let position = index[change.set] else { continue }
            table.sets[position].remove(change.delete)
            table.sets[position].elements += change.add
            for element in change.add {
                guard let comment = comments[element] else { continue }
                if table.sets[position].comments == nil { table.sets[position].comments = [:] }
                table.sets[position].comments?[element] = comment
            }
        }
        return table
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
