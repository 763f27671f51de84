import KeycardModel
import KeycardRuleset
import KeycardValues

/// What one update collects before it emits element changes.
struct UpdateWork {
    var old = Cluster()
    /// Each touched program as it was before the update.
    var before: [ProgramKey: ProgramSnapshot] = [:]
    var crossings: [ProgramKey: TupleCrossings] = [:]
    /// (protected pod, rule) pairs to flatten again.
    var pending = Set<PendingPair>()
    /// Pods added, removed, or whose address changed.
    var changedPods = Set<ObjectKey>()
}

struct PendingPair: Hashable {
    var pod: ObjectKey
    var rule: RuleKey
}

/// A program's state before an update, to compute gates and the meet.
struct ProgramSnapshot {
    var isolated: Bool
    var pieces: [TupleBox]
}

extension IncrementalCompiler {
    /// The whole space `0.0.0.0/0 . 0-255 . 0-65535`: the ranges of a program nothing isolates.
    static let everything = TupleBox(addresses: 0...UInt32.max, protocols: TupleBox.anyProtocol, ports: TupleBox.anyPort)

    /// Brings the kept state from `cluster` to `new`, collecting what crossed zero in `work`.
    func apply(_ new: Cluster, _ change: ChangedObjects, _ work: inout UpdateWork) {
        let old = cluster
        work.old = old
        for key in change.pods {
            if old.pods[key] != nil { podsByNamespace[key.namespace]?.remove(key) }
            if new.pods[key] != nil { podsByNamespace[key.namespace, default: []].insert(key) }
            if (old.pods[key] == nil) != (new.pods[key] == nil) || old.addresses[key] != new.addresses[key] {
                work.changedPods.insert(key)
            }
        }
        for key in change.policies.sorted() { if let policy = old.policies[key] { unregister(policy, &work) } }
        cluster = new
        for key in change.policies.sorted() { if let policy = new.policies[key] { register(policy, &work) } }

        // Pods as protected: selected again by their namespace's policies.
        for key in change.pods { reselect(key, &work) }
        // Pods as peers: every clause that flips on them, or that holds them while their ports or
        // address change.
        var peerChanges = change.pods
        for namespace in change.namespaces {
            peerChanges.formUnion(old.pods.keys.filter { $0.namespace == namespace })
            peerChanges.formUnion(podsByNamespace[namespace] ?? [])
        }
        let engine = PolicyEngine(new)
        for key in peerChanges {
            let details = old.pods[key]?.ports != new.pods[key]?.ports || old.addresses[key] != new.addresses[key]
            for (clause, ruleKeys) in clauses {
                let was = clausePods[clause]?.contains(key) ?? false
                let now = Self.matches(clause, key, new, engine)
                guard was != now || ((was || now) && details) else { continue }
                if now { clausePods[clause, default: []].insert(key) } else { clausePods[clause]?.remove(key) }
                for rule in ruleKeys { peerChanged(rule, key, &work) }
            }
            if details || (old.pods[key] == nil) != (new.pods[key] == nil) {
                for rule in allPeerNamedRules { peerChanged(rule, nil, &work) }
            }
        }
        for pair in work.pending { reflatten(pair, &work) }
    }

    /// Whether the clause selects pod `key` of `cluster`.
    static func matches(_ clause: Clause, _ key: ObjectKey, _ cluster: Cluster, _ engine: PolicyEngine) -> Bool {
        guard cluster.pods[key] != nil else { return false }
        return engine.matches(clause.peer, of: NetworkPolicy(namespace: clause.namespace, name: ""), .pod(key))
    }

    /// Records the program's state the first time the update touches it.
    func touch(_ key: ProgramKey, _ work: inout UpdateWork) {
        guard work.before[key] == nil else { return }
        let state = programs[key]
        work.before[key] = ProgramSnapshot(isolated: !(state?.selecting.isEmpty ?? true), pieces: state?.pieces ?? [Self.everything])
    }

    private func register(_ policy: NetworkPolicy, _ work: inout UpdateWork) {
        selectors[policy.namespace, default: [:]][policy.podSelector, default: []].insert(policy.key)
        let engine = PolicyEngine(cluster)
        for direction in [NetworkPolicy.PolicyType.ingress, .egress] {
            for (index, rule) in policy.rules(direction).enumerated() {
                let key = RuleKey(policy: policy.key, direction: direction, index: index)
                var pods = Set<ObjectKey>()
                let peers = rule.peers ?? []
                if peers.isEmpty {
                    if direction == .egress, rule.ports?.contains(where: { if case .name = $0.port { true } else { false } }) == true {
                        allPeerNamedRules.insert(key)
                    }
                } else {
                    for peer in peers {
                        let clause = Clause(peer: peer, namespace: policy.namespace)
                        if clauses[clause] == nil {
                            clausePods[clause] = Set(cluster.pods.keys.filter { Self.matches(clause, $0, cluster, engine) })
                        }
                        clauses[clause, default: []].insert(key)
                        pods.formUnion(clausePods[clause] ?? [])
                    }
                }
                rules[key] = RuleState(policy: policy, rule: rule, pods: pods)
            }
        }
        selectedPods[policy.key] = []
        for pod in podsByNamespace[policy.namespace] ?? [] {
            if let labels = cluster.pods[pod]?.labels, policy.podSelector.matches(labels) { select(policy, pod, &work) }
        }
    }

    private func unregister(_ policy: NetworkPolicy, _ work: inout UpdateWork) {
        selectors[policy.namespace]?[policy.podSelector]?.remove(policy.key)
        if selectors[policy.namespace]?[policy.podSelector]?.isEmpty == true { selectors[policy.namespace]?[policy.podSelector] = nil }
        for pod in selectedPods[policy.key] ?? [] {
            for direction in policy.effectivePolicyTypes {
                let program = ProgramKey(pod: pod, direction: direction)
                touch(program, &work)
                programs[program, default: ProgramState()].selecting.remove(policy.key)
                for index in policy.rules(direction).indices {
                    take(RuleKey(policy: policy.key, direction: direction, index: index), from: program, &work)
                }
            }
        }
        selectedPods[policy.key] = nil
        for direction in [NetworkPolicy.PolicyType.ingress, .egress] {
            for (index, rule) in policy.rules(direction).enumerated() {
                let key = RuleKey(policy: policy.key, direction: direction, index: index)
                rules[key] = nil
                allPeerNamedRules.remove(key)
                for peer in rule.peers ?? [] {
                    let clause = Clause(peer: peer, namespace: policy.namespace)
                    clauses[clause]?.remove(key)
                    if clauses[clause]?.isEmpty == true {
                        clauses[clause] = nil
                        clausePods[clause] = nil
                    }
                }
            }
        }
    }

    /// `policy` selects `pod`: the pod's programs of its directions are isolated by it and get its rules.
    private func select(_ policy: NetworkPolicy, _ pod: ObjectKey, _ work: inout UpdateWork) {
        selectedPods[policy.key, default: []].insert(pod)
        for direction in policy.effectivePolicyTypes {
            let program = ProgramKey(pod: pod, direction: direction)
            touch(program, &work)
            programs[program, default: ProgramState()].selecting.insert(policy.key)
            for index in policy.rules(direction).indices {
                work.pending.insert(PendingPair(pod: pod, rule: RuleKey(policy: policy.key, direction: direction, index: index)))
            }
        }
    }

    /// The pod changed: drop what its programs hold and select it again.
    private func reselect(_ pod: ObjectKey, _ work: inout UpdateWork) {
        for direction in [NetworkPolicy.PolicyType.ingress, .egress] {
            let program = ProgramKey(pod: pod, direction: direction)
            touch(program, &work)
            for policy in programs[program]?.selecting ?? [] { selectedPods[policy]?.remove(pod) }
            for rule in Array(programs[program]?.contributions.keys ?? [:].keys) { take(rule, from: program, &work) }
            programs[program]?.selecting = []
        }
        guard let labels = cluster.pods[pod]?.labels else { return }
        for (selector, policies) in selectors[pod.namespace] ?? [:] where selector.matches(labels) {
            for key in policies { if let policy = cluster.policies[key] { select(policy, pod, &work) } }
        }
    }

    /// Takes back a rule's contribution from a program.
    private func take(_ rule: RuleKey, from program: ProgramKey, _ work: inout UpdateWork) {
        guard let contribution = programs[program]?.contributions.removeValue(forKey: rule) else { return }
        programs[program, default: ProgramState()].tuples.remove(contribution, &work.crossings[program, default: TupleCrossings()])
    }

    /// Pod `pod` (nil: some pod) may have joined or left the rule's peers: update them and flatten
    /// the rule again for every pod it protects.
    private func peerChanged(_ rule: RuleKey, _ pod: ObjectKey?, _ work: inout UpdateWork) {
        guard let state = rules[rule] else { return }
        if let pod {
            let member = (state.rule.peers ?? []).contains {
                clausePods[Clause(peer: $0, namespace: rule.policy.namespace)]?.contains(pod) ?? false
            }
            if member { rules[rule]?.pods.insert(pod) } else { rules[rule]?.pods.remove(pod) }
        }
        rules[rule]?.peers = nil
        for protected in selectedPods[rule.policy] ?? [] { work.pending.insert(PendingPair(pod: protected, rule: rule)) }
    }

    /// Flattens the rule for the pod again, replacing its earlier contribution.
    private func reflatten(_ pair: PendingPair, _ work: inout UpdateWork) {
        let program = ProgramKey(pod: pair.pod, direction: pair.rule.direction)
        touch(program, &work)
        take(pair.rule, from: program, &work)
        guard programs[program]?.selecting.contains(pair.rule.policy) == true, let pod = cluster.pods[pair.pod],
            let state = rules[pair.rule]
        else { return }
        let flattener = RuleFlattener(
            cluster: cluster, peers: peers(pair.rule, state), policy: state.policy, direction: pair.rule.direction,
            index: pair.rule.index, rule: state.rule)
        var tuples = AllowTuples()
        flattener.contribute(to: &tuples, protected: pod)
        if tuples.isEmpty { return }
        programs[program, default: ProgramState()].contributions[pair.rule] = tuples
        programs[program, default: ProgramState()].tuples.add(tuples, &work.crossings[program, default: TupleCrossings()])
    }

    /// The rule's peers for the flattener, built once per change of its pods.
    private func peers(_ key: RuleKey, _ state: RuleState) -> CompileCache.Peers {
        if let known = state.peers { return known }
        let list = state.rule.peers ?? []
        let pods: [Pod]
        if list.isEmpty {
            pods = allPeerNamedRules.contains(key) ? cluster.sortedPods : []
        } else {
            pods = state.pods.compactMap { cluster.pods[$0] }.sorted { $0.key < $1.key }
        }
        var ranges = AddressRanges()
        for peer in list { if let block = peer.ipBlock { ranges.add(block) } }
        let result = CompileCache.Peers(
            all: list.isEmpty, pods: pods, podAddresses: pods.compactMap { cluster.addresses[$0.key]?.value }.sorted(),
            ranges: list.isEmpty ? [0...UInt32.max] : ranges.ranges)
        rules[key]?.peers = result
        return result
    }
}
