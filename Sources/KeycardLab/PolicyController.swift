import KeycardKernel
import KeycardRuleset

/// Keeps keycard's nftables tables in the lab's namespaces equal to the compiled intent.
///
/// Each change sends, per namespace, one netlink transaction holding only what changed. Policy
/// changes and relabels are set and map elements only (`apply`, with the element changes the
/// incremental compiler computed, so nothing is compared table by table); a pod appearing or
/// disappearing in pod placement, or a table this process did not program itself (adopted), is
/// replaced whole inside one transaction (`reconcile` compares each namespace's table with what it
/// installed). Either way the kernel switches from the old ruleset to the new one at once, so no
/// packet is ever judged by a mix of the two; a change spanning several namespaces goes through the
/// meet of old and new first (see docs/atomicity.md).
public final class PolicyController {
    private let programmers = NftablesProgrammers()
    /// What each namespace holds now.
    public private(set) var installed: [String: Table] = [:]
    /// Messages sent by the last reconcile, per namespace (for tests and figures).
    public private(set) var lastReports: [String: NftBatchReport] = [:]
    /// Where each element of each installed set sits, per namespace (for element deletions in
    /// place; dropped whenever a table is replaced).
    private var positions: [String: Table.ElementPositions] = [:]
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
            lastReports[namespace] = try programmers.programmer(namespace).remove(table)
            installed[namespace] = nil
            positions[namespace] = nil
        }
    }

    /// Programs the updates of an incremental compilation (keyed by namespace): element changes
    /// as computed, tables marked `.replace` (or adopted, not yet verified) whole. With more than one
    /// namespace, every one first gets the meet of its old and new table, then the new one.
    public func apply(_ updates: [String: TableUpdate]) throws(KernelError) {
        do {
            try applyInPhases(updates)
        } catch {
            // Some namespace may hold the meet or an unknown state: rewrite them whole next time.
            for namespace in updates.keys where installed[namespace] != nil { unverified.insert(namespace) }
            throw error
        }
    }

    private func applyInPhases(_ updates: [String: TableUpdate]) throws(KernelError) {
        lastReports = [:]
        let ordered = updates.sorted { $0.key < $1.key }
        for (namespace, update) in ordered {
            if case .elements = update, installed[namespace] == nil || unverified.contains(namespace) {
                throw KernelError("element changes for a table this controller did not program", subject: namespace, errno: 22)  // EINVAL
            }
        }
        if ordered.count > 1 {
            for (namespace, update) in ordered {
                guard let old = installed[namespace] else { continue }
                switch update {
                case .elements(let changes):
                    try sendElements(namespace, changes, toMeet: true)
                case .replace(let new?):
                    try program(namespace, old.meet(new))
                case .replace(nil):
                    continue
                }
            }
        }
        for (namespace, update) in ordered {
            switch update {
            case .replace(let new?):
                try program(namespace, new)
            case .replace(nil):
                if let table = installed[namespace] { lastReports[namespace] = try programmers.programmer(namespace).remove(table) }
                installed[namespace] = nil
                positions[namespace] = nil
                unverified.remove(namespace)
            case .elements(let changes):
                try sendElements(namespace, changes, fromMeet: ordered.count > 1)
                // In place: the controller holds the only copy, so this costs the changes.
                installed[namespace]?.apply(changes.direct, comments: changes.comments, positions: &positions[namespace, default: [:]])
            }
        }
    }

    /// Sends one phase of element changes to the installed table of `namespace`; if the kernel
    /// refuses, the table is replaced whole by what that phase ends in (the meet, or the new table).
    /// (A function of its own, so that no copy of the installed table outlives it: the in-place
    /// update that follows must not copy the table.)
    private func sendElements(_ namespace: String, _ changes: ElementChanges, toMeet: Bool = false, fromMeet: Bool = false)
        throws(KernelError)
    {
        guard let old = installed[namespace] else { return }
        let sent = toMeet ? changes.toMeet : fromMeet ? changes.fromMeet : changes.direct
        let report = try programmers.programmer(namespace).applyElements(
            sent, of: old, comments: changes.comments,
            fallback: toMeet
                ? old.meet(old.applying(changes.direct, comments: changes.comments))
                : old.applying(changes.direct, comments: changes.comments))
        record(namespace, report)
    }

    /// Whether some namespace holds a table this controller has not programmed itself (adopted):
    /// the next change must go through `reconcile` with every table, which rewrites those whole.
    public var hasUnverified: Bool { !unverified.isEmpty }

    private func record(_ namespace: String, _ report: NftBatchReport?) {
        guard let report else { return }
        lastReports[namespace] = lastReports[namespace].map { $0.merged(with: report) } ?? report
    }

    /// Takes `tables` as installed by an earlier process, without touching the kernel: the next
    /// reconcile replaces each of them whole, since nothing here vouches for their contents, and
    /// removes those it no longer wants.
    public func adopt(_ tables: [String: Table]) {
        for (namespace, table) in tables where installed[namespace] == nil {
            installed[namespace] = table
            positions[namespace] = nil
            unverified.insert(namespace)
        }
    }

    private func program(_ namespace: String, _ table: Table) throws(KernelError) {
        // An adopted table is replaced whole: a diff against what we only assume would be unsafe.
        let old = unverified.remove(namespace) != nil ? nil : installed[namespace]
        guard old != table else { return }
        record(namespace, try programmers.programmer(namespace).apply(old: old, new: table))
        installed[namespace] = table
        positions[namespace] = nil
    }

    /// Removes every table this controller installed (before tear-down, or for `--keep` cleanups).
    public func removeAll() throws(KernelError) {
        try reconcile([:])
        programmers.forgetAll()
    }

    /// Forgets a namespace that no longer exists (its tables died with it).
    public func forget(namespace: String) {
        installed[namespace] = nil
        positions[namespace] = nil
        unverified.remove(namespace)
        programmers.forget(namespace)
    }
}
