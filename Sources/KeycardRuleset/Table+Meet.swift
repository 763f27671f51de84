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
        if RulesetDiff(old: self, new: new) != .fullReplace { return meetOfElements(new) }
        return meetOfChains(new)
    }

    /// Same rules, different set elements: per set, the elements both allow — the common ones
    /// of a set that allows, all of a set that restricts.
    private func meetOfElements(_ new: Table) -> Table {
        var result = new
        for index in result.sets.indices {
            let before = sets[index]
            let after = new.sets[index]
            switch after.polarity {
            case .allows:
                result.sets[index].elements =
                    after.interval
                    ? SetElement.intersection(before.normalizedElements, after.normalizedElements)
                    : after.normalizedElements.filter(Set(before.normalizedElements).contains)
            case .restricts:
                result.sets[index].elements = SetElement.deduplicated(before.elements + after.elements)
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
        switch verdict {
        case .accept: rule.verdict = .return
        case .jump(let chain): rule.verdict = .jump(prefix + chain)
        case .goto(let chain): rule.verdict = .goto(prefix + chain)
        case .drop, .return, .none: break
        }
        return rule
    }
}

extension SetElement {
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
        let common = Set(rhs)
        return lhs.filter(common.contains)
    }
}
