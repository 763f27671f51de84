/// What it takes to turn one table into another in the kernel.
///
/// Element-only changes are cheap (a tenth of a rule each) and leave rules, handles and counters
/// alone; anything else is a full, atomic replace of the table.
public enum RulesetDiff: Hashable, Sendable {
    /// Nothing to do.
    case unchanged
    /// Only set elements differ: per set, the elements to delete and to add.
    case elementsOnly([SetElementChange])
    /// Chains, rules, set declarations, the table's name or family differ.
    case fullReplace

    /// Compares two versions of a table.
    public init(old: Table, new: Table) {
        guard old.name == new.name, old.family == new.family, old.chains == new.chains,
            old.sets.map(\.declaration) == new.sets.map(\.declaration)
        else {
            self = .fullReplace
            return
        }
        var changes: [SetElementChange] = []
        for (before, after) in zip(old.sets, new.sets) {
            let change = SetElementChange(old: before, new: after)
            if !change.isEmpty { changes.append(change) }
        }
        self = changes.isEmpty ? .unchanged : .elementsOnly(changes)
    }
}

/// The element changes of one set, in the kernel's terms (interval sets compare merged ranges).
public struct SetElementChange: Hashable, Sendable {
    public var set: String
    public var delete: [SetElement]
    public var add: [SetElement]

    public init(set: String, delete: [SetElement], add: [SetElement]) {
        self.set = set
        self.delete = delete
        self.add = add
    }

    /// The elements of `old` missing from `new` and the other way round; order follows each side.
    public init(old: NamedSet, new: NamedSet) {
        let before = old.normalizedElements
        let after = new.normalizedElements
        let beforeSet = Set(before)
        let afterSet = Set(after)
        self.init(
            set: new.name,
            delete: before.filter { !afterSet.contains($0) },
            add: after.filter { !beforeSet.contains($0) })
    }

    public var isEmpty: Bool { delete.isEmpty && add.isEmpty }
}
