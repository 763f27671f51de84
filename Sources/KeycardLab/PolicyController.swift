import KeycardKernel
import KeycardRuleset

/// Keeps keycard's nftables tables in the lab's namespaces equal to the compiled intent.
///
/// Each reconcile sends, per namespace, one netlink transaction holding only what changed:
/// set elements when only memberships changed (a relabel), otherwise the table replaced whole inside
/// the same transaction. Either way the kernel switches from the old ruleset to the new one at once,
/// so no packet is ever judged by a mix of the two (see docs/atomicity.md).
public final class PolicyController {
    private var programmers: [String: NftablesProgrammer] = [:]
    /// What each namespace holds now.
    public private(set) var installed: [String: Table] = [:]
    /// Messages sent by the last reconcile, per namespace (for tests and figures).
    public private(set) var lastReports: [String: NftBatchReport] = [:]

    public init() {}

    /// Programs `tables` (keyed by namespace name); namespaces missing from `tables` lose their table.
    public func reconcile(_ tables: [String: Table]) throws(KernelError) {
        lastReports = [:]
        for (namespace, table) in tables.sorted(by: { $0.key < $1.key }) {
            let old = installed[namespace]
            guard old != table else { continue }
            if let report = try programmer(namespace).apply(old: old, new: table) { lastReports[namespace] = report }
            installed[namespace] = table
        }
        for (namespace, table) in installed where tables[namespace] == nil {
            lastReports[namespace] = try programmer(namespace).remove(table)
            installed[namespace] = nil
        }
    }

    /// Removes every table this controller installed (before tear-down, or for `--keep` cleanups).
    public func removeAll() throws(KernelError) {
        try reconcile([:])
        programmers = [:]
    }

    /// Forgets a namespace that no longer exists (its tables died with it).
    public func forget(namespace: String) {
        installed[namespace] = nil
        programmers[namespace] = nil
    }

    private func programmer(_ namespace: String) throws(KernelError) -> NftablesProgrammer {
        if let existing = programmers[namespace] { return existing }
        let created = try NftablesProgrammer(namespace: namespace)
        programmers[namespace] = created
        return created
    }
}
