import KeycardCompiler
import KeycardLab
import KeycardModel
import KeycardRuleset

/// (b) New TCP connections per second from A to B with N policies in B's ingress, each allowing
/// its own (peer, port) tuples so that none deduplicate. Pod placement: B's own table. Node
/// placement: the node table of B's node, its forward chain hooked at input in B's namespace (the
/// pair has no router; the per-packet work — verdict map dispatch, B's chain of lookups — is the
/// same). Configurations are measured in interleaved rounds; medians reported.
struct RateBench {
    let placement: Placement
    let counts: [Int]
    let rounds: Int
    let duration: Double

    struct Setup {
        let count: Int
        let pair: RatePair
        let controller: PolicyController
        let rules: Int
        let sets: Int
    }

    func run() throws -> [(count: Int, rules: Int, sets: Int, rate: Double, failures: Int)] {
        var setups: [Setup] = []
        defer {
            for setup in setups {
                try? setup.controller.removeAll()
                setup.pair.close()
            }
        }
        for count in counts {
            let lab = "\(benchLab)-\(count)"
            let pair = try RatePair(lab: lab)
            let controller = PolicyController()
            setups.append(Setup(count: count, pair: pair, controller: controller, rules: 0, sets: 0))
            guard count > 0 else { continue }
            let cluster = BenchClusters.with(
                BenchClusters.cluster(fillers: 200, groups: 100), BenchClusters.policies(count, groups: 100, portSpread: count))
            let (tables, compile) = timed {
                PolicyCompiler(labName: lab, placement: placement)
                    .compile(cluster, nodes: Dictionary(uniqueKeysWithValues: cluster.pods.keys.map { ($0, 0) }), nodeCount: 1)
            }
            guard var table = tables[placement == .pod ? .pod(BenchClusters.serverKey) : .node(0)] else {
                throw BenchError("no server table")
            }
            if placement == .node, let index = table.chains.firstIndex(where: { $0.name == "forward" }) {
                table.chains[index].base = BaseChain(hook: .input)
            }
            // The lookup cost must be real: every policy's tuples are in the server's sets.
            let exact = table.sets.first { $0.name.hasSuffix("exact") && !$0.elements.isEmpty }?.elements.count ?? 0
            guard exact >= count else { throw BenchError("\(count) policies gave only \(exact) exact tuples") }
            let ((), program) = try timed { try controller.reconcile([pair.server: table]) }
            let report = controller.lastReports[pair.server]
            say(
                "    \(count) policies: compiled in \(ms(compile)), programmed in \(ms(program))",
                "(build \(ms(report?.buildSeconds ?? .nan)), sendmsg \(ms(report?.sendSeconds ?? .nan)),",
                "acks \(ms(report?.ackSeconds ?? .nan)), \(report?.messages.count ?? 0) messages)")
            setups[setups.count - 1] = Setup(
                count: count, pair: pair, controller: controller,
                rules: table.chains.map(\.rules.count).reduce(0, +), sets: table.sets.count)
        }
        let measured = try interleavedRates(
            setups.map { ("\($0.count) policies", $0.pair) }, rounds: rounds, duration: duration)
        return zip(setups, measured).map { setup, result in (setup.count, setup.rules, setup.sets, result.rate, result.failures) }
    }
}
