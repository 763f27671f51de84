import KeycardCompiler
import KeycardModel
import KeycardRuleset
import KeycardValues
import Testing

/// The ClusterNetworkPolicy tier chains (`PolicyCompiler.tiers`), evaluated by the interpreter of
/// the ruleset values, give the model's verdict for every connection of random clusters with
/// random Admin and Baseline policies on top of random NetworkPolicies, in both placements.
@Suite("Compiled tiers implement the model")
struct CompiledTiersMatchModelTests {
    @Test(arguments: Placement.allCases)
    func randomClustersWithTiers(_ placement: Placement) {
        var checked = 0
        var denied = 0
        var decidedByTiers = 0
        for seed in UInt64(1)...120 {
            var generator = RandomCluster(seed: seed)
            var (cluster, nodes) = generator.make(policies: Int(seed % 4))
            for index in 0..<(1 + Int(seed % 4)) {
                let policy = generator.makeClusterPolicy(index)
                cluster.clusterPolicies[policy.key] = policy
            }
            var compiler = PolicyCompiler(labName: "sem", placement: placement)
            compiler.tiers = true
            let tables = compiler.compile(cluster, nodes: nodes, nodeCount: 2)
            let engine = PolicyEngine(cluster)
            for source in cluster.sortedPods {
                let destinations = cluster.sortedPods.map { Endpoint.pod($0.key) } + [.external("ext")]
                for destination in destinations where destination != .pod(source.key) {
                    for port in CompiledRulesMatchModelTests.ports {
                        let verdict = engine.evaluate(from: .pod(source.key), to: destination, port: port)
                        let real = CompiledRulesMatchModelTests.interpreted(
                            tables, placement, cluster, nodes, from: source.key, to: destination, port: port)
                        checked += 1
                        if verdict.decision == .deny { denied += 1 }
                        if !(verdict.egress.tiers + verdict.ingress.tiers).isEmpty { decidedByTiers += 1 }
                        #expect(
                            verdict.decision == real,
                            "seed \(seed): \(source.key) -> \(destination) \(port): model \(verdict.decision), rules \(real); \(verdict.egress.tiers.walkthrough) | \(verdict.ingress.tiers.walkthrough)"
                        )
                        if verdict.decision != real { return }
                    }
                }
            }
        }
        #expect(checked > 8_000)
        #expect(denied > checked / 10 && denied < checked * 9 / 10)
        #expect(decidedByTiers > checked / 4)
    }
}

extension RandomCluster {
    /// A random Admin or Baseline policy: random subject, 1–3 rules per direction with random
    /// actions, peers (namespaces, pods, networks) and protocols.
    mutating func makeClusterPolicy(_ index: Int) -> ClusterNetworkPolicy {
        let subject: ClusterNetworkPolicy.Subject =
            chance(50) ? .namespaces(namespaceSelector()) : .pods(namespaces: namespaceSelector(), pods: selector())
        func rules(_ direction: NetworkPolicy.PolicyType) -> [ClusterNetworkPolicy.Rule] {
            (0..<Int.random(in: 0...3, using: &rng)).map { _ in
                var peers: [ClusterNetworkPolicy.Peer] = []
                for _ in 0..<Int.random(in: 1...2, using: &rng) {
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0: peers.append(.namespaces(namespaceSelector()))
                    case 1: peers.append(.pods(namespaces: namespaceSelector(), pods: selector()))
                    default:
                        if direction == .egress {
                            let cidr = pick(["10.244.0.0/30", "10.244.0.0/16", "0.0.0.0/0", "192.0.2.0/24"])
                            peers.append(.networks([CIDR.parse(cidr) ?? .any]))
                        } else {
                            peers.append(.namespaces(.everything))
                        }
                    }
                }
                var protocols: [ClusterNetworkPolicy.ProtocolMatch]?
                if chance(60) {
                    protocols = (0..<Int.random(in: 1...2, using: &rng)).map { _ in
                        switch Int.random(in: 0..<4, using: &rng) {
                        case 0: return .port(pick([.tcp, .udp, .sctp]), nil)
                        case 1:
                            let port = pick([80, 53, 8080])
                            return .port(pick([.tcp, .udp]), port...port)
                        case 2: return .port(.tcp, 53...8080)
                        default: return .namedPort(pick(["http", "dns", "alt"]))
                        }
                    }
                    // The CRD refuses named ports with networks peers.
                    if peers.contains(where: { if case .networks = $0 { true } else { false } }) {
                        protocols = protocols?.filter { if case .namedPort = $0 { false } else { true } }
                        if protocols?.isEmpty == true { protocols = nil }
                    }
                }
                return ClusterNetworkPolicy.Rule(action: pick([.accept, .deny, .deny, .pass]), peers: peers, protocols: protocols)
            }
        }
        return ClusterNetworkPolicy(
            name: "cnp\(index)", tier: pick([.admin, .baseline]), priority: pick([0, 10, 10, 20]), subject: subject,
            ingress: rules(.ingress), egress: rules(.egress))
    }
}
