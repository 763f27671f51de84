import KeycardModel
import KeycardRuleset
import KeycardValues

/// The element changes of one set in the three forms a `TableUpdate` carries.
struct PhasedChange {
    var direct = SetElementChange(set: "", delete: [], add: [])
    var toMeet = SetElementChange(set: "", delete: [], add: [])
    var fromMeet = SetElementChange(set: "", delete: [], add: [])

    init(set: String) {
        direct.set = set
        toMeet.set = set
        fromMeet.set = set
    }

    /// A set that allows (more elements, more allowed): the meet keeps `kept` of the deletions
    /// until the second phase and adds `early` of the additions in the first.
    mutating func allow(delete: [SetElement], add: [SetElement], keptUntilNew: (SetElement) -> Bool, addedEarly: (SetElement) -> Bool) {
        direct.delete += delete
        direct.add += add
        for element in delete {
            if keptUntilNew(element) { fromMeet.delete.append(element) } else { toMeet.delete.append(element) }
        }
        for element in add {
            if addedEarly(element) { toMeet.add.append(element) } else { fromMeet.add.append(element) }
        }
    }

    /// A set that restricts (isolation, dispatch, absent pods): the meet holds both versions.
    mutating func restrict(old: [SetElement], new: [SetElement]) {
        let gone = old.filter { !new.contains($0) }
        let came = new.filter { !old.contains($0) }
        direct.delete += gone
        direct.add += came
        // A map holds one verdict per key: a key that changes its verdict switches in phase two.
        let goneKeys = Set(gone.compactMap(\.mapKey))
        for element in came {
            if let key = element.mapKey, goneKeys.contains(key) { fromMeet.add.append(element) } else { toMeet.add.append(element) }
        }
        fromMeet.delete += gone
    }
}

extension SetElement {
    fileprivate var mapKey: [KeyValue]? {
        if case .mapping(let key, _) = self { return key }
        return nil
    }
}

/// How a touched program's three allow sets change.
struct ProgramDelta {
    var exact: PhasedChange
    var any: PhasedChange
    var ranges: PhasedChange
    var isolatedBefore: Bool
    var isolatedNow: Bool
    var comments: [SetElement: String] = [:]
}

extension IncrementalCompiler {
    /// Settles a touched program (its ranges pieces) and returns its element changes, with set
    /// names relative to the program's prefix.
    func settle(_ key: ProgramKey, _ work: UpdateWork) -> ProgramDelta {
        let before = work.before[key] ?? ProgramSnapshot(isolated: false, pieces: [Self.everything])
        let crossings = work.crossings[key] ?? TupleCrossings()
        let state = programs[key] ?? ProgramState()
        let isolated = !state.selecting.isEmpty
        let pieces: [TupleBox]
        if !isolated {
            pieces = [Self.everything]
        } else if crossings.boxesChanged || !before.isolated {
            pieces = TupleBox.disjoint(Array(state.tuples.boxes.keys))
        } else {
            pieces = before.pieces
        }
        programs[key, default: ProgramState()].pieces = pieces
        let tuples = state.tuples
        let oldAny = { (peer: UInt32) in
            (tuples.any[peer] != nil && !crossings.anyAdded.contains(peer)) || crossings.anyRemoved.contains(peer)
        }
        // An exact element changed is looked up in the pieces through a locator, not by trying
        // every piece: a rule of many ipBlocks × ports has tens of thousands of them.
        lazy var newLocator = BoxLocator(pieces)
        lazy var oldLocator = BoxLocator(before.pieces)
        func contains(_ locator: BoxLocator, _ values: [UInt32]) -> Bool {
            locator.first(
                holding: TupleBox(addresses: values[0]...values[0], protocols: values[1]...values[1], ports: values[2]...values[2]))
                != nil
        }
        func numbers(_ element: SetElement) -> [UInt32] {
            if case .value(let values) = element { return values.map(\.number) }
            return []
        }
        let newHolds = { (element: SetElement) -> Bool in
            let p = numbers(element)
            let tuple = AllowTuples.ExactTuple(peer: p[0], proto: UInt8(p[1]), port: UInt16(p[2]))
            return tuples.exact[tuple] != nil || tuples.any[p[0]] != nil || contains(newLocator, p)
        }
        let oldHolds = { (element: SetElement) -> Bool in
            let p = numbers(element)
            let tuple = AllowTuples.ExactTuple(peer: p[0], proto: UInt8(p[1]), port: UInt16(p[2]))
            return (tuples.exact[tuple] != nil && !crossings.exactAdded.contains(tuple)) || crossings.exactRemoved.contains(tuple)
                || oldAny(p[0]) || contains(oldLocator, p)
        }
        var delta = ProgramDelta(
            exact: PhasedChange(set: "exact"), any: PhasedChange(set: "any"), ranges: PhasedChange(set: "ranges"),
            isolatedBefore: before.isolated, isolatedNow: isolated)
        let exactAdded = crossings.exactAdded.sorted().map(AllowTuples.element)
        delta.exact.allow(
            delete: crossings.exactRemoved.sorted().map(AllowTuples.element), add: exactAdded, keptUntilNew: newHolds, addedEarly: oldHolds)
        let anyAdded = crossings.anyAdded.sorted().map { SetElement.value([.ipv4($0)]) }
        delta.any.allow(
            delete: crossings.anyRemoved.sorted().map { .value([.ipv4($0)]) }, add: anyAdded, keptUntilNew: { _ in false },
            addedEarly: { _ in false })
        if isolated {
            for (tuple, element) in zip(crossings.exactAdded.sorted(), exactAdded) { delta.comments[element] = tuples.exact[tuple]?.first }
            for (peer, element) in zip(crossings.anyAdded.sorted(), anyAdded) { delta.comments[element] = tuples.any[peer]?.first }
        }
        if pieces != before.pieces {
            let newPieces = Set(pieces)
            let oldPieces = Set(before.pieces)
            // The meet of the ranges: what both versions' boxes hold, and each version's any-port
            // peers within the other's boxes.
            // Each old piece meets only the new pieces the locator finds (all pairs: quadratic, 71 s
            // for a rule of 140 ipBlocks × 140 ports).
            var both: [TupleBox] = []
            let newLocator = BoxLocator(pieces)
            for a in before.pieces {
                for index in newLocator.indices(overlapping: a) { if let common = a.intersection(pieces[index]) { both.append(common) } }
            }
            var oldPeers = Set(tuples.any.keys).subtracting(crossings.anyAdded)
            oldPeers.formUnion(crossings.anyRemoved)
            both += TupleBox.peerBoxes(oldPeers, within: pieces) + TupleBox.peerBoxes(Set(tuples.any.keys), within: before.pieces)
            let meet = Set(TupleBox.disjoint(both))
            let added = pieces.filter { !oldPieces.contains($0) }
            delta.ranges.direct.delete = before.pieces.filter { !newPieces.contains($0) }.map(\.element)
            delta.ranges.direct.add = added.map(\.element)
            delta.ranges.toMeet.delete = before.pieces.filter { !meet.contains($0) }.map(\.element)
            delta.ranges.toMeet.add = meet.filter { !oldPieces.contains($0) }.sorted(by: Self.boxOrder).map(\.element)
            delta.ranges.fromMeet.delete = meet.filter { !newPieces.contains($0) }.sorted(by: Self.boxOrder).map(\.element)
            delta.ranges.fromMeet.add = pieces.filter { !meet.contains($0) }.map(\.element)
            if isolated {
                let ordered = tuples.boxesInNamingOrder
                let locator = BoxLocator(ordered.map(\.key))
                for piece in added {
                    if let index = locator.first(holding: piece), let first = ordered[index].value.first {
                        delta.comments[piece.element] = first
                    }
                }
            }
        }
        return delta
    }

    static func boxOrder(_ a: TupleBox, _ b: TupleBox) -> Bool {
        (a.addresses.lowerBound, a.protocols.lowerBound, a.ports.lowerBound) < (
            b.addresses.lowerBound, b.protocols.lowerBound, b.ports.lowerBound
        )
    }

    /// Turns the collected work into table updates and keeps the new tables.
    func emit(_ work: UpdateWork) -> [RulesetTarget: TableUpdate] {
        var replaced = Set<RulesetTarget>()
        var updates: [RulesetTarget: TableUpdate] = [:]
        if compiler.placement == .pod {
            for pod in work.changedPods where (work.old.pods[pod] == nil) != (cluster.pods[pod] == nil) {
                let target = RulesetTarget.pod(pod)
                replaced.insert(target)
                updates[target] = .replace(buildTable(target))
            }
        }
        var changes: [RulesetTarget: [String: PhasedChange]] = [:]
        var comments: [RulesetTarget: [SetElement: String]] = [:]
        func record(_ target: RulesetTarget, _ change: PhasedChange) {
            changes[target, default: [:]][change.direct.set] = changes[target]?[change.direct.set].map { $0.merged(change) } ?? change
        }
        for key in work.before.keys.sorted(by: { ($0.pod, $0.direction.rawValue) < ($1.pod, $1.direction.rawValue) }) {
            var delta = settle(key, work)
            let short = key.direction == .ingress ? "in" : "eg"
            let oldAddress = work.old.addresses[key.pod]?.value
            let newAddress = cluster.addresses[key.pod]?.value
            let target: RulesetTarget
            let prefix: String
            var gate: PhasedChange
            switch compiler.placement {
            case .pod:
                target = .pod(key.pod)
                guard !replaced.contains(target), cluster.pods[key.pod] != nil else { continue }
                prefix = "\(short)-"
                gate = PhasedChange(set: "\(short)-isolated")
                gate.restrict(
                    old: delta.isolatedBefore ? oldAddress.map { [.value([.ipv4($0)])] } ?? [] : [],
                    new: delta.isolatedNow ? newAddress.map { [.value([.ipv4($0)])] } ?? [] : [])
            case .node:
                guard let node = nodes[key.pod] else { continue }
                target = .node(node)
                let chain = RuleText.objectName("\(short)-\(key.pod)")
                prefix = chain + "-"
                let verdict: KeycardRuleset.Verdict = key.direction == .egress ? .jump(chain) : .goto(chain)
                gate = PhasedChange(set: "\(short)-pods")
                let existed = work.old.pods[key.pod] != nil
                let exists = cluster.pods[key.pod] != nil
                gate.restrict(
                    old: delta.isolatedBefore && existed ? oldAddress.map { [.mapping([.ipv4($0)], verdict)] } ?? [] : [],
                    new: delta.isolatedNow && exists ? newAddress.map { [.mapping([.ipv4($0)], verdict)] } ?? [] : [])
            }
            for index in [\ProgramDelta.exact, \.any, \.ranges] {
                delta[keyPath: index].rename(prefix: prefix)
                record(target, delta[keyPath: index])
            }
            record(target, gate)
            comments[target, default: [:]].merge(delta.comments) { $1 }
        }
        if compiler.placement == .node {
            // Every node drops traffic to and from the lab's pods that do not exist now.
            for pod in work.changedPods where nodes[pod] != nil {
                var absent = PhasedChange(set: "absent-pods")
                absent.restrict(
                    old: work.old.pods[pod] == nil ? work.old.addresses[pod].map { [.value([.ipv4($0.value)])] } ?? [] : [],
                    new: cluster.pods[pod] == nil ? cluster.addresses[pod].map { [.value([.ipv4($0.value)])] } ?? [] : [])
                for node in 0..<nodeCount { record(.node(node), absent) }
            }
        }
        for (target, sets) in changes {
            let ordered = sets.keys.sorted().compactMap { sets[$0] }
            let direct = ordered.map(\.direct).filter { !$0.isEmpty }
            guard !direct.isEmpty else { continue }
            updates[target] = .elements(
                ElementChanges(
                    direct: direct, toMeet: ordered.map(\.toMeet).filter { !$0.isEmpty },
                    fromMeet: ordered.map(\.fromMeet).filter { !$0.isEmpty }, comments: comments[target] ?? [:]))
        }
        return updates
    }
}

extension PhasedChange {
    mutating func rename(prefix: String) {
        direct.set = prefix + direct.set
        toMeet.set = prefix + toMeet.set
        fromMeet.set = prefix + fromMeet.set
    }

    /// Both changes of one set (the absent-pods set of a node, say), one after the other.
    func merged(_ other: PhasedChange) -> PhasedChange {
        var result = self
        result.direct.delete += other.direct.delete
        result.direct.add += other.direct.add
        result.toMeet.delete += other.toMeet.delete
        result.toMeet.add += other.toMeet.add
        result.fromMeet.delete += other.fromMeet.delete
        result.fromMeet.add += other.fromMeet.add
        return result
    }
}
