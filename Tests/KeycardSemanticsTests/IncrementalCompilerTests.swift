import KeycardCompiler
import KeycardModel
import KeycardRuleset
import KeycardValues
import Testing

/// The incremental compiler, after any sequence of changes, holds exactly the tables a compilation
/// from nothing gives, and its element changes move the old tables to the new ones; the meet it
/// installs in between accepts exactly what both versions accept.
@Suite("Incremental compiler")
struct IncrementalCompilerTests {
    /// One random change of `cluster`, and what it touched.
    static func randomChange(_ cluster: inout Cluster, _ lab: [ObjectKey: Pod], _ generator: inout RandomCluster) -> ChangedObjects {
        switch Int.random(in: 0..<8, using: &generator.rng) {
        case 0, 1:
            let policy = generator.makePolicy(Int.random(in: 0..<6, using: &generator.rng))
            cluster.policies[policy.key] = policy
            return ChangedObjects(policies: [policy.key])
        case 2:
            guard let key = cluster.policies.keys.sorted().first.map({ _ in generator.pick(cluster.policies.keys.sorted()) }) else {
                return ChangedObjects()
            }
            cluster.policies[key] = nil
            return ChangedObjects(policies: [key])
        case 3, 4:
            let key = generator.pick(lab.keys.sorted())
            guard cluster.pods[key] != nil else { return ChangedObjects() }
            cluster.pods[key]?.labels = generator.chance(20) ? [:] : ["app": generator.pick(generator.apps)]
            return ChangedObjects(pods: [key])
        case 5:
            let key = generator.pick(lab.keys.sorted())
            if cluster.pods[key] == nil {
                cluster.pods[key] = lab[key]
            } else if generator.chance(50) {
                cluster.pods[key] = nil
            } else {
                var ports = [ContainerPort(name: "http", port: generator.pick([80, 8080]))]
                if generator.chance(50) { ports.append(ContainerPort(name: "dns", port: 53, proto: .udp)) }
                cluster.pods[key]?.ports = ports
            }
            return ChangedObjects(pods: [key])
        case 6:
            let name = generator.pick(generator.namespaces)
            cluster.namespaces[name]?.setLabels(["ns": name, "tier": generator.pick(["a", "b"])])
            return ChangedObjects(namespaces: [name])
        default:
            // Two changes at once: a policy and a pod.
            let policy = generator.makePolicy(Int.random(in: 0..<6, using: &generator.rng))
            cluster.policies[policy.key] = policy
            let key = generator.pick(lab.keys.sorted())
            cluster.pods[key]?.labels = ["app": generator.pick(generator.apps)]
            return ChangedObjects(policies: [policy.key], pods: [key])
        }
    }

    /// The table as sets of elements, comments left out (they name the contribution that added an
    /// element, which depends on the order of changes).
    static func normalized(_ table: Table?) -> Table? {
        guard var table else { return nil }
        for index in table.sets.indices {
            table.sets[index].comments = nil
            table.sets[index].elements = table.sets[index].normalizedElements.sorted { "\($0)" < "\($1)" }
        }
        return table
    }

    @Test(arguments: Placement.allCases)
    func randomSequencesEqualCompilationFromNothing(_ placement: Placement) {
        var changes = 0
        var elementUpdates = 0
        for seed in UInt64(1)...120 {
            var generator = RandomCluster(seed: seed)
            var (cluster, nodes) = generator.make(policies: Int(seed % 4))
            let lab = cluster.pods
            let compiler = PolicyCompiler(labName: "inc", placement: placement)
            let incremental = IncrementalCompiler(compiler: compiler, cluster: cluster, nodes: nodes, nodeCount: 2)
            var expected = compiler.compile(cluster, nodes: nodes, nodeCount: 2)
            #expect(incremental.tables.mapValues(Self.normalized) == expected.mapValues(Self.normalized), "seed \(seed): initial")
            for step in 0..<25 {
                let old = expected
                let change = Self.randomChange(&cluster, lab, &generator)
                let updates = incremental.update(to: cluster, change: step % 3 == 0 ? nil : change)
                expected = compiler.compile(cluster, nodes: nodes, nodeCount: 2)
                changes += 1
                let same = incremental.tables.mapValues(Self.normalized) == expected.mapValues(Self.normalized)
                #expect(same, "seed \(seed) step \(step): \(change)")
                if !same {
                    for (target, table) in expected where Self.normalized(table) != Self.normalized(incremental.tables[target]) {
                        Issue.record(
                            "\(target):\nexpected \(Self.normalized(table).map(\.sets) ?? [])\ngot \(Self.normalized(incremental.tables[target]).map(\.sets) ?? [])"
                        )
                        break
                    }
                    return
                }
                // Every target whose table changed has an update, and the update's elements move
                // the old table to the new one.
                for target in Set(old.keys).union(expected.keys) where Self.normalized(old[target]) != Self.normalized(expected[target]) {
                    #expect(updates[target] != nil, "seed \(seed) step \(step): \(target) changed without an update")
                }
                for (target, update) in updates {
                    guard case .elements(let changes) = update, let before = old[target] else {
                        if case .replace(let table) = update {
                            #expect(
                                Self.normalized(table) == Self.normalized(expected[target]), "seed \(seed) step \(step) \(target): replace")
                        }
                        continue
                    }
                    let (direct, toMeet, fromMeet) = (changes.direct, changes.toMeet, changes.fromMeet)
                    elementUpdates += 1
                    #expect(
                        Self.normalized(before.applying(direct)) == Self.normalized(expected[target]),
                        "seed \(seed) step \(step) \(target): direct")
                    let meet = before.applying(toMeet)
                    #expect(
                        Self.normalized(meet.applying(fromMeet)) == Self.normalized(expected[target]),
                        "seed \(seed) step \(step) \(target): phases")
                    Self.checkMeet(before, meet, expected[target] ?? before, "seed \(seed) step \(step) \(target)")
                }
            }
        }
        #expect(changes > 2_000)
        #expect(elementUpdates > 500)
    }

    /// The meet accepts exactly what both the old and the new table accept.
    static func checkMeet(_ old: Table, _ meet: Table, _ new: Table, _ context: String) {
        var addresses = Set<UInt32>()
        for table in [old, new] {
            for set in table.sets {
                for element in set.elements {
                    switch element {
                    case .value(let values): addresses.insert(values[0].number)
                    case .mapping(let key, _): addresses.insert(key[0].number)
                    case .box(let from, let to):
                        addresses.insert(from[0].number)
                        addresses.insert(to[0].number)
                    case .range(let from, let to): addresses.formUnion([from, to])
                    }
                }
            }
        }
        let sample = addresses.sorted().prefix(12) + [0x0AF4_0001, 0x0AF4_0003, 0xC000_020A]
        for hook in [BaseChain.Hook.input, .output, .forward] {
            for saddr in sample {
                for daddr in sample where daddr != saddr {
                    for port in CompiledRulesMatchModelTests.ports {
                        let packet = RulesetInterpreter.Packet(
                            saddr: saddr, daddr: daddr, proto: port.proto.number, dport: UInt16(port.port))
                        let both =
                            RulesetInterpreter(table: old).verdict(hook, packet) == .accept
                            && RulesetInterpreter(table: new).verdict(hook, packet) == .accept
                        let met = RulesetInterpreter(table: meet).verdict(hook, packet) == .accept
                        #expect(met == both, "\(context) \(hook) \(packet): meet \(met), old∧new \(both)")
                        if met != both { return }
                    }
                }
            }
        }
    }
}
