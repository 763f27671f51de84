import KeycardCompiler
import KeycardModel
import KeycardValues

/// (e) A wide rule changed by one block: the server admits `blocks` ipBlocks (non-adjacent /24s)
/// × `ports` ports in one rule, and a change adds one more block. The incremental compiler's
/// update against compiling the changed cluster from nothing, the baseline: an update re-cuts the
/// whole ranges set (pieces of blocks × ports), so it should cost about one compile, not the
/// square of the pieces (it met every old piece with every new one: 140 × 140 took 47 s in a
/// debug `keycard run`). Pure compile, no kernel.
struct WideRuleBench {
    let blocks: Int
    let ports: Int
    let rounds: Int

    struct Figures {
        var update: Double
        var fromNothing: Double
    }

    func policy(blocks count: Int) -> NetworkPolicy {
        // 10.100.0.0/24, 10.100.2.0/24, ...: a gap between neighbours keeps every block a piece.
        let peers: [NetworkPolicy.Peer] = (0..<count).compactMap { index in
            CIDR(network: IPv4(0x0A64_0000 + UInt32(index) * 512), prefixLength: 24).map { .init(ipBlock: .init(cidr: $0)) }
        }
        let ports: [NetworkPolicy.Port] = (0..<self.ports).map { .init(proto: .tcp, port: .number(1000 + 2 * $0)) }
        return NetworkPolicy(
            namespace: "bench", name: "wide", podSelector: LabelSelector(matchLabels: ["app": "server"]),
            ingress: [.init(peers: peers, ports: ports)])
    }

    func run(placement: Placement) -> Figures {
        let compiler = PolicyCompiler(labName: benchLab, placement: placement)
        let base = BenchClusters.cluster(fillers: 10, groups: 2)
        let nodes = Dictionary(uniqueKeysWithValues: base.pods.keys.map { ($0, 0) })
        let before = BenchClusters.with(base, [policy(blocks: blocks - 1)])
        let after = BenchClusters.with(base, [policy(blocks: blocks)])
        let key = ObjectKey("bench", "wide")
        var updates: [Double] = []
        var fromNothing: [Double] = []
        for _ in 0..<rounds {
            let incremental = IncrementalCompiler(compiler: compiler, cluster: before, nodes: nodes, nodeCount: 1)
            let (_, update) = timed { incremental.update(to: after, change: ChangedObjects(policies: [key])) }
            updates.append(update)
            let ((), whole) = timed { _ = IncrementalCompiler(compiler: compiler, cluster: after, nodes: nodes, nodeCount: 1) }
            fromNothing.append(whole)
        }
        return Figures(update: median(updates), fromNothing: median(fromNothing))
    }
}
