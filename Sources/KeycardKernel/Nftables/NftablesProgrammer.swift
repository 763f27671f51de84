import CNetfilter
import Glibc
import KeycardRuleset

/// Programs keycard's nftables tables into one lab namespace over a netlink socket born there.
///
/// Every change is one atomic transaction (BEGIN … END in one sendmsg, NLM_F_ACK on each message);
/// a failure anywhere aborts all of it and is reported with the object and errno. Only tables
/// named `kc-...` are ever touched. Not thread-safe: use one programmer from one thread at a time.
public final class NftablesProgrammer {
    /// Most kernel elements per NEWSETELEM/DELSETELEM message (the nested list has a 16-bit length).
    public static let elementsPerMessage = 1000
    /// At most this many element bytes in one message (the nested list's length is 16 bits).
    static let elementBytesPerMessage = 48 * 1024

    /// The lab namespace (name under /run/netns) the socket lives in, or the transport's label.
    public let namespace: String
    /// The last transaction sent, for tests and benchmarks.
    public internal(set) var lastBatch: NftBatchReport?

    let transport: any NetlinkTransport
    private var sequence: UInt32
    /// Time spent lowering and writing the batch being sent (zero for removals).
    var buildTime: Duration = .zero

    /// Opens a NETLINK_NETFILTER socket inside `namespace` (never the host's) and binds it.
    public convenience init(namespace: String) throws(KernelError) {
        let socket = try NetlinkSocket.open(protocol: NETLINK_NETFILTER, inNamespace: namespace)
        self.init(transport: socket, sequence: UInt32(truncatingIfNeeded: time(nil)))
    }

    /// Programs through `transport` (a `RecordingNetlinkTransport` in tests: the batches are then
    /// deterministic bytes). Transaction N's messages are numbered from `sequence + 1 + N·2²⁴`.
    public init(transport: any NetlinkTransport, sequence: UInt32) {
        self.transport = transport
        namespace = transport.label
        self.sequence = sequence
    }

    /// Moves the kernel from `old` to `new`: nothing, element updates only, a full atomic replace,
    /// or removal (`new == nil`). If an element-only transaction is refused (the kernel was not
    /// in state `old`), it falls back to a full replace. Returns the report of the last transaction
    /// sent, if any.
    @discardableResult
    public func apply(old: Table?, new: Table?) throws(KernelError) -> NftBatchReport? {
        for table in [old, new].compactMap({ $0 }) { try Self.checkOwned(table.name) }
        switch (old, new) {
        case (nil, nil):
            return nil
        case (let old?, nil):
            return try remove(old)
        case (nil, let new?):
            return try send(try replacementBatch(old: nil, new: new))
        case (let old?, let new?):
            switch RulesetDiff(old: old, new: new) {
            case .unchanged: return nil
            case .elementsOnly(let changes):
                do {
                    return try send(try elementBatch(new, changes))
                } catch {
                    // The kernel was not in state `old` (an element to delete was missing, say):
                    // converge with a full replace, which reports any real error itself.
                    return try send(try replacementBatch(old: old, new: new))
                }
            case .fullReplace: return try send(try replacementBatch(old: old, new: new))
            }
        }
    }

    /// Sends element changes computed elsewhere (the incremental compiler) in one transaction;
    /// `table` is the table they apply to (its set declarations say how to encode the elements).
    /// If the kernel refuses (it was not in the state the changes start from), replaces the table
    /// whole with `fallback`, which the caller says is the state to converge to.
    @discardableResult
    public func applyElements(
        _ changes: [SetElementChange], of table: Table, comments: [SetElement: String] = [:], fallback: @autoclosure () -> Table
    ) throws(KernelError) -> NftBatchReport? {
        try Self.checkOwned(table.name)
        let changes = changes.filter { !$0.isEmpty }
        if changes.isEmpty { return nil }
        do {
            return try send(try elementBatch(table, changes, comments: comments))
        } catch {
            return try send(try replacementBatch(old: nil, new: fallback()))
        }
    }

    /// Deletes `table` if present (add-then-delete in one transaction, so absence is not an error).
    @discardableResult
    public func remove(_ table: Table) throws(KernelError) -> NftBatchReport {
        try remove(table: table.name, family: table.family)
    }

    /// Deletes the keycard table `name` of `family` if present.
    @discardableResult
    public func remove(table name: String, family: TableFamily) throws(KernelError) -> NftBatchReport {
        try Self.checkOwned(name)
        let batch = NftBatch(firstSequence: nextSequence())
        try addThenDelete(table: name, family: family, into: batch)
        return try send(batch)
    }

    static func checkOwned(_ name: String) throws(KernelError) {
        guard name.hasPrefix("kc-") else {
            throw KernelError("refusing to touch a table keycard does not own", subject: name, errno: EPERM)
        }
    }

    private func nextSequence() -> UInt32 {
        let first = sequence &+ 1
        // Leave room for BEGIN, every message and END of even a very large batch.
        sequence &+= 1 << 24
        return first
    }

    // MARK: building transactions

    /// add table (idempotent) + delete table: the table is gone after, whether it existed or not.
    private func addThenDelete(table name: String, family: TableFamily, into batch: NftBatch) throws(KernelError) {
        let table = try NftnlTable(name: name, family: family.nfproto)
        table.append(to: batch, .newTable, flags: NLM_F_CREATE, subject: name)
        table.append(to: batch, .deleteTable, flags: 0, subject: name)
    }

    /// One transaction that removes the old table(s) and creates `new` with all its contents.
    private func replacementBatch(old: Table?, new: Table) throws(KernelError) -> NftBatch {
        let start = ContinuousClock.now
        let batch = NftBatch(firstSequence: nextSequence())
        if let old, old.name != new.name || old.family != new.family {
            try addThenDelete(table: old.name, family: old.family, into: batch)
        }
        try addThenDelete(table: new.name, family: new.family, into: batch)
        try NftnlTable(name: new.name, family: new.family.nfproto)
            .append(to: batch, .newTable, flags: NLM_F_CREATE | NLM_F_EXCL, subject: new.name)
        var context = LoweringContext(table: new.name, family: new.family)
        for (index, set) in new.sets.enumerated() {
            let id = UInt32(index + 1)
            context.setIDs[set.name] = id
            try set.loweredDeclaration(context, id: id)
                .append(to: batch, .newSet, flags: NLM_F_CREATE | NLM_F_EXCL, subject: "\(new.name)/\(set.name)")
            // A verdict map's elements name chains: they follow the chains.
            if set.data == nil {
                let elements = try set.kernelElements(set.normalizedElements, table: new.name)
                try appendElements(elements, of: set.name, id: id, context, .newSetElements, to: batch)
            }
        }
        for chain in new.chains {
            try chain.lowered(context).append(to: batch, .newChain, flags: NLM_F_CREATE | NLM_F_EXCL, subject: "\(new.name)/\(chain.name)")
        }
        for set in new.sets where set.data != nil {
            let elements = try set.kernelElements(set.normalizedElements, table: new.name)
            try appendElements(elements, of: set.name, id: context.setIDs[set.name], context, .newSetElements, to: batch)
        }
        for chain in new.chains {
            for (index, rule) in chain.rules.enumerated() {
                let subject = "\(new.name)/\(chain.name) rule \(index) \"\(rule.comment)\""
                try rule.lowered(chain: chain.name, context)
                    .append(to: batch, .newRule, flags: NLM_F_CREATE | NLM_F_APPEND, subject: subject)
            }
        }
        batch.finish()
        buildTime = ContinuousClock.now - start
        return batch
    }

    /// One transaction of element deletions then additions; rules and chains are not touched.
    /// `comments` names added elements the table's sets do not know yet.
    private func elementBatch(_ table: Table, _ changes: [SetElementChange], comments: [SetElement: String] = [:]) throws(KernelError)
        -> NftBatch
    {
        let start = ContinuousClock.now
        let batch = NftBatch(firstSequence: nextSequence())
        let context = LoweringContext(table: table.name, family: table.family)
        for change in changes {
            guard let set = table.set(named: change.set) else { continue }
            let gone = try set.kernelElements(change.delete, table: table.name).map(\.keyOnly)
            try appendElements(gone, of: set.name, id: nil, context, .deleteSetElements, to: batch)
        }
        for change in changes {
            guard let set = table.set(named: change.set) else { continue }
            let added = try set.kernelElements(change.add, table: table.name, comments: comments)
            try appendElements(added, of: set.name, id: nil, context, .newSetElements, to: batch)
        }
        batch.finish()
        buildTime = ContinuousClock.now - start
        return batch
    }

    private func appendElements(
        _ elements: [KernelSetElement], of set: String, id: UInt32?, _ context: LoweringContext,
        _ kind: NftMessageKind, to batch: NftBatch
    ) throws(KernelError) {
        var start = 0
        while start < elements.count {
            var end = min(start + Self.elementsPerMessage, elements.count)
            // The element list's nested attribute has a 16-bit length: keep a chunk's bytes under it.
            var bytes = 0
            for index in start..<end {
                bytes += elements[index].wireSize
                if bytes > Self.elementBytesPerMessage, index > start {
                    end = index
                    break
                }
            }
            // Never split an interval's start from its end element.
            if end < elements.count, elements[end].flags & NFT_SET_ELEM_INTERVAL_END.rawValue != 0 { end += 1 }
            let payload = try setElementPayload(set: set, id: id, context, elements: elements[start..<end])
            payload.appendElements(to: batch, kind, subject: "\(context.table)/\(set) [\(start)..<\(end)]")
            start = end
        }
    }
}
