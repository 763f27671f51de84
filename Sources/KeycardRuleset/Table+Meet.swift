/// The meet of two versions of a table: a table that accepts a packet only when both would.
///
/// The controller installs it between an old and a new ruleset when a change spans several
/// namespaces: while some namespaces still hold the old table and others already the meet, and
/// later while some hold the meet and others the new table, every side of every connection is judged
/// by something at least as strict as the old policy (first phase) or the new one (second phase).
/// So no moment allows traffic that neither policy allows (docs/atomicity.md).
extension Table {
    /// `self` is the old table, `new` the new one.
    public func meet(_ new: Table) -> Table {
        if self == new { return self }
        if RulesetDiff(old: self, new: new) != .fullReplace && !changesSetsOfNeitherPolarity(new) { return meetOfElements(new) }
        return meetOfChains(new)
    }

    /// Whether a set whose elements move traffic both ways (`Polarity.neither`) holds other
    /// elements in `new` (same rules assumed: the sets correspond by position).
    private func changesSetsOfNeitherPolarity(_ new: Table) -> Bool {
        zip(sets, new.sets).contains { before, after in
            after.polarity == .neither && before.normalizedElements != after.normalizedElements
        }
    }

    /// Same rules, different set elements: per set, the elements both allow — the common ones
    /// of a set that allows, all of a set that restricts (a Deny rule's peers of either version).
    private func meetOfElements(_ new: Table) -> Table {
        var result = new
        var unions: [String: [Int]] = [:]
        for index in result.sets.indices where new.sets[index].polarity == .allows {
            if let union = new.sets[index].union { unions[union, default: []].append(index) }
        }
        for indices in unions.values {
            guard let met = AllowUnion.meet(indices.map { sets[$0] }, indices.map { new.sets[$0] }) else { continue }
            for (index, elements) in zip(indices, met) { result.sets[index].elements = elements }
        }
        let united = Set(unions.values.joined())
        for index in result.sets.indices where !united.contains(index) {
            let before = sets[index]
            let after = new.sets[index]
            switch after.polarity {
            case .allows:
                result.sets[index].elements =
                    after.interval
                    ? SetElement.intersection(before.normalizedElements, after.normalizedElements)
                    : after.normalizedElements.filter(Set(before.normalizedElements).contains)
            case .restricts where after.interval && after.key.count > 1:
                // Boxes of either version, cut disjoint again (pipapo refuses overlaps).
                let boxes = (before.elements + after.elements).compactMap(TupleBox.init)
                result.sets[index].elements = TupleBox.disjoint(boxes).map(\.element)
            case .restricts:
                result.sets[index].elements = SetElement.union(before.normalizedElements, after.normalizedElements)
            case .neither:
                // Unchanged (`changesSetsOfNeitherPolarity`): the new elements are the old ones.
                break
            }
        }
        return result
    }

    /// Different rules: the old chains, renamed and made to `return` where they accepted, run first
    /// from each hook; whatever they let through then meets the new chains.
    private func meetOfChains(_ new: Table) -> Table {
        let prefix = "o-"
        var result = new
        result.sets =
            new.sets
            + sets.map { set in
                var renamed = set
                renamed.name = prefix + set.name
                renamed.elements = set.elements.map { element in
                    guard case .mapping(let key, let verdict) = element else { return element }
                    return .mapping(key, verdict.renamed(prefix: prefix))
                }
                return renamed
            }
        var hooked: [BaseChain.Hook: String] = [:]
        for chain in chains {
            var copy = Chain(name: prefix + chain.name)
            copy.rules = chain.rules.map { $0.renamed(prefix: prefix) }
            result.chains.append(copy)
            if let base = chain.base { hooked[base.hook] = copy.name }
        }
        for (hook, oldChain) in hooked.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let jump = Rule(verdict: .jump(oldChain), comment: "meet: the old policy must allow it too")
            if let index = result.chains.firstIndex(where: { $0.base?.hook == hook }) {
                result.chains[index].rules.insert(jump, at: 0)
            } else if let base = chains.first(where: { $0.base?.hook == hook })?.base {
                result.chains.append(Chain(name: "meet-\(hook.rawValue)", base: base, rules: [jump]))
            }
        }
        return result
    }
}

extension Rule {
    /// The same rule inside a renamed copy of its table: sets and chains carry `prefix`, and
    /// `accept` becomes `return` so that evaluation goes on to the other policy.
    func renamed(prefix: String) -> Rule {
        var rule = self
        rule.matches = matches.map { match in
            switch match {
            case .saddrInSet(let name, let negated): .saddrInSet(prefix + name, negated: negated)
            case .daddrInSet(let name, let negated): .daddrInSet(prefix + name, negated: negated)
            case .concatInSet(let fields, let name): .concatInSet(fields, set: prefix + name)
            default: match
            }
        }
        rule.verdict = verdict == .accept ? .return : verdict.renamed(prefix: prefix)
        return rule
    }
}

extension Verdict {
    /// The verdict inside a renamed copy of its table: chains and maps carry `prefix`.
    func renamed(prefix: String) -> Verdict {
        switch self {
        case .jump(let chain): .jump(prefix + chain)
        case .goto(let chain): .goto(prefix + chain)
        case .vmap(let fields, let map): .vmap(fields, map: prefix + map)
        case .accept, .drop, .return, .none, .dnat, .redirect, .setMark, .snat: self
        }
    }
}

extension SetElement {
    /// The elements of either list (a map keeps the old element where both hold a key: one key,
    /// one verdict, as the kernel requires).
    static func union(_ old: [SetElement], _ new: [SetElement]) -> [SetElement] {
        var keys = Set<[KeyValue]>()
        for element in old { if case .mapping(let key, _) = element { keys.insert(key) } }
        return deduplicated(
            old
                + new.filter { element in
                    if case .mapping(let key, _) = element { return !keys.contains(key) }
                    return true
                })
    }

    /// The elements in both lists: range overlap for interval elements, equality otherwise.
    static func intersection(_ lhs: [SetElement], _ rhs: [SetElement]) -> [SetElement] {
        let left = lhs.compactMap(\.ipv4Range)
        let right = rhs.compactMap(\.ipv4Range)
        if left.count == lhs.count && right.count == rhs.count {
            var result: [SetElement] = []
            for a in left {
                for b in right where a.overlaps(b) {
                    result.append(.range(from: max(a.lowerBound, b.lowerBound), to: min(a.upperBound, b.upperBound)))
                }
            }
            return result
        }
        // Boxes: the pairwise overlaps, still disjoint when each list is.
        var boxes: [SetElement] = []
        for case .box(let aFrom, let aTo) in lhs {
            for case .box(let bFrom, let bTo) in rhs where aFrom.count == bFrom.count {
                let from = zip(aFrom, bFrom).map { max($0, $1) }
                let to = zip(aTo, bTo).map { min($0, $1) }
                if zip(from, to).allSatisfy({ $0 <= $1 }) { boxes.append(.box(from: from, to: to)) }
            }
        }
        if !boxes.isEmpty || lhs.contains(where: \.isBox) { return boxes }
        let common = Set(rhs)
        return lhs.filter(common.contains)
    }

    /// Whether the element is a box of a concatenated interval set.
    var isBox: Bool {
        if case .box = self { return true }
        return false
    }
}
