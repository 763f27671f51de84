import KeycardCompiler
import KeycardModel
import KeycardRuleset
import KeycardValues
import Testing

/// The policy tables' mesh layout (pod placement: ingress judged in prerouting before the mesh's
/// capture) still implements the model over random clusters, lets the capture's hop to
/// 127.0.0.1:15001 pass, and is what the incremental compiler keeps.
@Suite("Mesh layout: compiled rules still implement the model")
struct MeshLayoutRulesMatchModelTests {
    static func compiler() -> PolicyCompiler {
        var compiler = PolicyCompiler(labName: "sem", placement: .pod)
        compiler.meshLayout = true
        return compiler
    }

    @Test func randomClustersJudgedBeforeTheCapture() {
        var checked = 0
        var denied = 0
        for seed in UInt64(1)...80 {
            var generator = RandomCluster(seed: seed)
            let (cluster, nodes) = generator.make(policies: Int(seed % 5))
            let tables = Self.compiler().compile(cluster, nodes: nodes, nodeCount: 2)
            let engine = PolicyEngine(cluster)
            for source in cluster.sortedPods {
                guard let saddr = cluster.addresses[source.key] else { continue }
                for destination in cluster.sortedPods where destination.key != source.key {
                    guard let daddr = cluster.addresses[destination.key] else { continue }
                    for port in CompiledRulesMatchModelTests.ports {
                        let packet = RulesetInterpreter.Packet(
                            saddr: saddr.value, daddr: daddr.value, proto: port.proto.number, dport: UInt16(port.port))
                        let egress = tables[.pod(source.key)].map { RulesetInterpreter(table: $0).verdict(.output, packet) } ?? .accept
                        let ingressTable = tables[.pod(destination.key)]
                        let ingress = ingressTable.map { RulesetInterpreter(table: $0).verdict(.prerouting, packet) } ?? .accept
                        // Nothing judges on input any more: the capture's port 15006 is never looked up.
                        #expect(ingressTable.map { RulesetInterpreter(table: $0).verdict(.input, packet) } ?? .accept == .accept)
                        let real: Decision = egress == .accept && ingress == .accept ? .allow : .deny
                        let model = engine.evaluate(from: .pod(source.key), to: .pod(destination.key), port: port).decision
                        checked += 1
                        if model == .deny { denied += 1 }
                        #expect(model == real, "seed \(seed): \(source.key) -> \(destination.key) \(port): model \(model), rules \(real)")
                        if model != real { return }
                        // The application's connection redirected to the proxy leaves on its
                        // original device with 127.0.0.1:15001 as destination: always let through.
                        let captured = RulesetInterpreter.Packet(
                            saddr: saddr.value, daddr: 0x7F00_0001, proto: 6, dport: MeshDataPath.outboundPort)
                        #expect(
                            tables[.pod(source.key)].map { RulesetInterpreter(table: $0).verdict(.output, captured) } ?? .accept == .accept)
                    }
                }
            }
        }
        #expect(checked > 5_000)
        #expect(denied > checked / 10 && denied < checked * 9 / 10)
    }

    @Test func incrementalCompilerKeepsTheMeshLayout() {
        for seed in UInt64(1)...20 {
            var generator = RandomCluster(seed: seed)
            let (cluster, nodes) = generator.make(policies: 3)
            let incremental = IncrementalCompiler(compiler: Self.compiler(), cluster: cluster, nodes: nodes, nodeCount: 2)
            let compiled = Self.compiler().compile(cluster, nodes: nodes, nodeCount: 2)
            #expect(incremental.tables.keys.sorted() == compiled.keys.sorted())
            for (target, table) in compiled {
                #expect(incremental.tables[target]?.chains == table.chains, "seed \(seed) \(target)")
            }
        }
    }
}
