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
    /// Adopted namespaces whose tables have not been programmed by this controller yet.
    private var unverified: Set<String> = []

    public init() {}

    /// Programs `tables` (keyed by namespace name); namespaces missing from `tables` lose their table.
    ///
    /// A change confined to one namespace is one transaction. A change spanning several goes in two
    /// phases: first every changed namespace gets the meet of its old and new table (what both
    /// allow), then the new table — so that, whatever the order in which namespaces switch, each
    /// side of a connection is judged by something at least as strict as the old or the new policy.
    public func reconcile(_ tables: [String: Table]) throws(KernelError) {
        lastReports = [:]
        let removed = installed.keys.filter { tables[$0] == nil }.sorted()
        // Adopted tables are rewritten even when they look unchanged: what an earlier process left
        // (an interrupted verb, a meet never followed by its table) is not taken on trust.
        let changed = tables.filter { unverified.contains($0.key) || installed[$0.key] != $0.value }.sorted { $0.key < $1.key }
        if changed.count + removed.count > 1 {
            for (namespace, table) in changed {
                guard let old = installed[namespace] else { continue }
                try program(namespace, old.meet(table))
            }
        }
        for (namespace, table) in changed { try program(namespace, table) }
        for namespace in removed {
            guard let table = installed[namespace] else { continue }
            lastReports[namespace] = try programmer(namespace).remove(table)
            installed[namespace] = nil
        }
    }

    /// Takes `tables` as installed by an earlier process, without touching the kernel: the next
    /// reconcile replaces each of them whole, since nothing here vouches for their contents, and
    /// removes those it no longer wants.
    public func adopt(_ tables: [String: Table]) {
        for (namespace, table) in tables where installed[namespace] == nil {
            installed[namespace] = table
            unverified.insert(namespace)
        }
    }

    private func program(_ namespace: String, _ table: Table) throws(KernelError) {
        // An adopted table is replaced whole: a diff against what we only assume would be unsafe.
        let old = unverified.remove(namespace) != nil ? nil : installed[namespace]
        guard old != table else { return }
        if let report = try programmer(namespace).apply(old: old, new: table) {
            if let earlier = lastReports[namespace] {
                lastReports[namespace] = earlier.merged(with: report)
            } else {
                lastReports[namespace] = report
            }
        }
        installed[namespace] = table
    }

    /// Removes every table this controller installed (before tear-down, or for `--keep` cleanups).
    public func removeAll() throws(KernelError) {
        try reconcile([:])
        programmers = [:]
    }

    /// Forgets a namespace that no longer exists (its tables died with it).
    public func forget(namespace: String) {
        installed[namespace] = nil
        unverified.remove(namespace)
        programmers[namespace] = nil
    }

    private func programmer(_ namespace: String) throws(KernelError) -> NftablesProgrammer {
        if let existing = programmers[namespace] { return existing }
        let created = try NftablesProgrammer(namespace: namespace)
        programmers[namespace] = created
        return created
    }
}
