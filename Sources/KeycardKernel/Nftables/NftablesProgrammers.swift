import KeycardRuleset

/// What a namespace holds of one keycard table, as far as its owner knows.
public enum InstalledTable: Sendable, Hashable {
    /// Exactly this table (nil: none): the next change can be a diff from it.
    case known(Table?)
    /// Anything or nothing (a change stopped half-way, another process's state): the next change
    /// replaces the table whole, or removes it by name.
    case unknown
}

/// One `NftablesProgrammer` per lab namespace, opened on first use and kept (each holds a netlink
/// socket born in its namespace, `NftablesProgrammer.init(namespace:)`), and the one way a
/// namespace moves from the table it holds to the table wanted. Not thread-safe, as the
/// programmers it holds.
public final class NftablesProgrammers {
    private var programmers: [String: NftablesProgrammer] = [:]

    public init() {}

    /// The programmer of namespace `namespace`, opened on first use.
    /// - Throws: `KernelError` when the namespace cannot be entered or the socket not opened.
    public func programmer(_ namespace: String) throws(KernelError) -> NftablesProgrammer {
        if let existing = programmers[namespace] { return existing }
        let created = try NftablesProgrammer(namespace: namespace)
        programmers[namespace] = created
        return created
    }

    /// Closes the programmer of a namespace that is gone (its tables died with it).
    public func forget(_ namespace: String) { programmers[namespace] = nil }

    /// Closes every programmer.
    public func forgetAll() { programmers = [:] }

    /// Moves `namespace` to `new` in one transaction: from a `.known` table by
    /// `NftablesProgrammer.apply(old:new:)` (element updates where they suffice); from `.unknown`
    /// by replacing `new` whole, or, `new` being nil, by removing table `name` of `family`
    /// (add-then-delete: absent is fine). Returns the report of the transaction sent, if any.
    /// - Throws: `KernelError` when the kernel refuses; the namespace then holds what it held.
    @discardableResult
    public func move(
        _ namespace: String, from installed: InstalledTable, to new: Table?, name: String, family: TableFamily
    ) throws(KernelError) -> NftBatchReport? {
        let programmer = try programmer(namespace)
        switch installed {
        case .known(let old):
            return try programmer.apply(old: old, new: new)
        case .unknown:
            guard let new else { return try programmer.remove(table: name, family: family) }
            return try programmer.apply(old: nil, new: new)
        }
    }
}
