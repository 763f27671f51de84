import KeycardCompiler
import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardRuleset

/// (a) One change (relabel, policy add, policy delete) with `policyCount` policies in place:
/// compile the whole cluster, then reconcile one real namespace holding the table through
/// PolicyController; and programming all of them into an empty namespace.
struct ChangeBench {
    let placement: Placement
    let rounds: Int
    let policyCount: Int
    let fillers = 100
    let groups = 10

    struct Figures {
        var label: String
        var compile: Double
        var kernel: Double
        var kinds: [String]
        var messages: Int
        var bytes: Int
        var send: Double
    }

    func run() throws -> [Figures] {
        let namespace = placement == .pod ? "kc-\(benchLab).pod.bench.server" : "kc-\(benchLab).node0"
        try NetworkNamespace.create(namespace)
        defer { try? NetworkNamespace.delete(namespace) }
        let compiler = PolicyCompiler(labName: benchLab, placement: placement)
        let target: RulesetTarget = placement == .pod ? .pod(BenchClusters.serverKey) : .node(0)
        let base = BenchClusters.cluster(fillers: fillers, groups: groups)
        let policies = BenchClusters.policies(policyCount, groups: groups, portSpread: policyCount)
        let nodes = Dictionary(uniqueKeysWithValues: base.pods.keys.map { ($0, 0) })
        let controller = PolicyController()
        defer { try? controller.removeAll() }

        func step(_ cluster: Cluster) throws -> (compile: Double, kernel: Double, report: NftBatchReport?) {
            let (tables, compile) = timed { compiler.compile(cluster, nodes: nodes, nodeCount: 1) }
            guard let table = tables[target] else { throw BenchError("no table for \(target)") }
            let ((), kernel) = try timed { try controller.reconcile([namespace: table]) }
            return (compile, kernel, controller.lastReports[namespace])
        }

        let inPlace = BenchClusters.with(base, policies)
        let fromNothing = try step(inPlace)
        var relabelled = inPlace
        // A filler pod moves from group g5 to g6: 200 policies' peer sets change.
        relabelled.pods[ObjectKey("peers", "p5")]?.labels = ["group": "g6"]
        let extra = BenchClusters.fillerPolicy(policyCount + 7, groups: groups, portSpread: policyCount + 100, name: "extra-policy")
        let added = BenchClusters.with(inPlace, [extra])
        var deleted = inPlace
        deleted.policies[ObjectKey("bench", String(format: "p%05d", policyCount / 2))] = nil

        var results: [Figures] = [
            Figures(
                label: "all from nothing", compile: fromNothing.compile, kernel: fromNothing.kernel,
                kinds: (fromNothing.report?.kinds.map(\.rawValue) ?? []).sorted(), messages: fromNothing.report?.messages.count ?? 0,
                bytes: fromNothing.report?.bytes ?? 0, send: fromNothing.report?.sendSeconds ?? 0)
        ]
        for (label, changed) in [("relabel one pod", relabelled), ("add one policy", added), ("delete one policy", deleted)] {
            var compile: [Double] = [], kernel: [Double] = [], sends: [Double] = []
            var kinds = Set<String>(), messages = 0, bytes = 0
            for _ in 0..<rounds {
                let forward = try step(changed)
                compile.append(forward.compile)
                kernel.append(forward.kernel)
                if let report = forward.report {
                    kinds.formUnion(report.kinds.map(\.rawValue))
                    messages = report.messages.count
                    bytes = report.bytes
                    sends.append(report.sendSeconds)
                }
                _ = try step(inPlace)
            }
            results.append(
                Figures(
                    label: label, compile: median(compile), kernel: median(kernel), kinds: kinds.sorted(),
                    messages: messages, bytes: bytes, send: median(sends)))
        }
        return results
    }
}
