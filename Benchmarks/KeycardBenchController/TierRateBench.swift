import KeycardCompiler
import KeycardLab
import KeycardModel
import KeycardRuleset

/// (d) New TCP connections per second from A to B with N Admin-tier ClusterNetworkPolicy rules
/// applying to B's ingress (`PolicyCompiler.tiers`, pod placement): N − 1 rules each deny one
/// filler group on its own port, and the last, `zz-allow-client`, accepts the client — so every
/// SYN is judged after all N rules (first-match order). The denials form one run of same-action
/// rules, so they share one set per kind of tuple. Interleaved rounds; medians.
struct TierRateBench {
    let counts: [Int]
    let rounds: Int
    let duration: Double

    func run() throws -> [(count: Int, rules: Int, sets: Int, rate: Double, failures: Int)] {
        var setups: [(count: Int, pair: RatePair, controller: PolicyController, rules: Int, sets: Int)] = []
        defer {
            for setup in setups {
                try? setup.controller.removeAll()
                setup.pair.close()
            }
        }
        for count in counts {
            let lab = "\(benchLab)-t\(count)"
            let pair = try RatePair(lab: lab)
            let controller = PolicyController()
            // Kept at once, so that the deferred clean-up closes it whatever fails next.
            setups.append((count, pair, controller, 0, 0))
            var cluster = BenchClusters.cluster(fillers: 200, groups: 100)
            for policy in Self.policies(count, groups: 100) { cluster.clusterPolicies[policy.key] = policy }
            var compiler = PolicyCompiler(labName: lab, placement: .pod)
            compiler.tiers = true
            let (tables, compile) = timed {
                compiler.compile(cluster, nodes: Dictionary(uniqueKeysWithValues: cluster.pods.keys.map { ($0, 0) }), nodeCount: 1)
            }
            guard let table = tables[.pod(BenchClusters.serverKey)] else { throw BenchError("no server table") }
            // The lookup cost must be real: every denial's tuples are in the Admin tier's sets.
            let tuples = table.sets.filter { $0.name.hasPrefix("in-a") }.map(\.elements.count).reduce(0, +)
            guard tuples >= count - 1 else { throw BenchError("\(count) Admin rules gave only \(tuples) tuples") }
            let ((), program) = try timed { try controller.reconcile([pair.server: table]) }
            say("    \(count) Admin rules: compiled in \(ms(compile)), programmed in \(ms(program))")
            setups[setups.count - 1] = (count, pair, controller, table.chains.map(\.rules.count).reduce(0, +), table.sets.count)
        }
        let measured = try interleavedRates(
            setups.map { ("\($0.count) rules", $0.pair) }, rounds: rounds, duration: duration)
        return zip(setups, measured).map { setup, result in (setup.count, setup.rules, setup.sets, result.rate, result.failures) }
    }

    /// One Admin policy per rule (priorities 0..., the client's accept last): `count - 1` denials
    /// of a filler group on TCP 8080+i, then Accept from the client.
    static func policies(_ count: Int, groups: Int) -> [ClusterNetworkPolicy] {
        let subject = ClusterNetworkPolicy.Subject.pods(namespaces: .everything, pods: LabelSelector(matchLabels: ["app": "server"]))
        var policies = (0..<max(0, count - 1)).map { index in
            ClusterNetworkPolicy(
                name: String(format: "deny-%05d", index), tier: .admin, priority: index % 1000, subject: subject,
                ingress: [
                    .init(
                        action: .deny,
                        peers: [.pods(namespaces: .everything, pods: LabelSelector(matchLabels: ["group": "g\(index % groups)"]))],
                        protocols: [.port(.tcp, (8080 + index % 1000)...(8080 + index % 1000))])
                ])
        }
        policies.append(
            ClusterNetworkPolicy(
                name: "zz-allow-client", tier: .admin, priority: 1000, subject: subject,
                ingress: [
                    .init(action: .accept, peers: [.pods(namespaces: .everything, pods: LabelSelector(matchLabels: ["app": "client"]))])
                ]))
        return policies
    }
}
