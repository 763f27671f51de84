import KeycardModel
import KeycardValues
import Testing

/// `PolicyEngine.evaluate(from:to:ports:)` (all ports at once, which lint's shadowed-rule pass
/// uses) gives exactly the verdicts of `evaluate(from:to:port:)` port by port, allowing rules and
/// their order included, over many random clusters.
@Suite("Batched port evaluation matches port by port")
struct BatchEvaluationTests {
    /// Unsorted, with a repeat, ICMP, ports no rule names and the ends of rule ranges.
    static let ports = [
        ProtocolPort(.tcp, 8080), ProtocolPort(.tcp, 80), ProtocolPort(.udp, 53), ProtocolPort(.tcp, 81), ProtocolPort(.sctp, 80),
        ProtocolPort(.tcp, 53), .icmpEcho, ProtocolPort(.tcp, 79), ProtocolPort(.tcp, 80), ProtocolPort(.udp, 65535),
        ProtocolPort(.tcp, 1),
    ]

    @Test func randomClusters() {
        var compared = 0
        var allowedByRules = 0
        for seed in UInt64(1)...300 {
            var generator = RandomCluster(seed: seed)
            var (cluster, _) = generator.make(policies: Int(seed % 6))
            // Host-network pods and a pod's own node exercise the paths the batch leaves alone.
            if seed % 4 == 0, let key = cluster.pods.keys.sorted().first { cluster.pods[key]?.hostNetwork = true }
            if seed % 3 == 0 { cluster.nodeIngress = .policy }
            let engine = PolicyEngine(cluster)
            let endpoints =
                cluster.sortedPods.map { Endpoint.pod($0.key) } + [
                    .external("ext"), .address(IPv4(0xC000_0201)), .address(IPv4(0x0AF4_0001)), .node("node-0"),
                ]
            for source in endpoints {
                for destination in endpoints {
                    let batch = engine.evaluate(from: source, to: destination, ports: Self.ports)
                    let single = Self.ports.map { engine.evaluate(from: source, to: destination, port: $0) }
                    compared += 1
                    allowedByRules += single.filter { !$0.ingress.allowingRules.isEmpty || !$0.egress.allowingRules.isEmpty }.count
                    #expect(batch == single, "seed \(seed): \(source) -> \(destination)")
                    if batch != single { return }
                }
            }
        }
        // The clusters must exercise rules, not only unisolated pods.
        #expect(compared > 10_000 && allowedByRules > 5_000, "compared \(compared), allowed by rules \(allowedByRules)")
    }
}
