import KeycardCompiler
import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardRuleset

/// (a) One change (relabel, policy add, policy delete) with `policyCount` policies in place (a
/// relabel that touches 20 policies at every scale, and one that touches a tenth of them):
/// the incremental compiler turns the named change into element changes, which PolicyController
/// sends to one real namespace holding the table; and programming all of them into an empty
/// namespace. `diff` is what finding the change by comparing the two clusters object by object
/// would add (the live path when the caller does not name the change).
struct ChangeBench {
    let placement: Placement
    let rounds: Int
    let policyCount: Int
    let fillers = 100
    let groups = 10

    struct Figures {
        var label: String
        var compile: Double
        var diff: Double = 0
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
        let base = BenchClusters.withMover(BenchClusters.cluster(fillers: fillers, groups: groups))
        // `policyCount` in all: the 20 fixed-relabel policies count among them.
        let policies = BenchClusters.policies(policyCount - 20, groups: groups, portSpread: policyCount) + BenchClusters.moverPolicies()
        let nodes = Dictionary(uniqueKeysWithValues: base.pods.keys.map { ($0, 0) })
        let controller = PolicyController()
        defer { try? controller.removeAll() }

        let inPlace = BenchClusters.with(base, policies)
        let (incremental, compileAll) = timed {
            IncrementalCompiler(compiler: compiler, cluster: inPlace, nodes: nodes, nodeCount: 1)
        }
        guard let table = incremental.tables[target] else { throw BenchError("no table for \(target)") }
        let ((), kernelAll) = try timed { try controller.reconcile([namespace: table]) }
        let fromNothing = (compile: compileAll, kernel: kernelAll, report: controller.lastReports[namespace])

        func step(_ cluster: Cluster, _ change: ChangedObjects) throws -> (compile: Double, kernel: Double, report: NftBatchReport?) {
            let (updates, compile) = timed { incremental.update(to: cluster, change: change) }
            let ((), kernel) = try timed { try controller.apply(updates[target].map { [namespace: $0] } ?? [:]) }
            return (compile, kernel, controller.lastReports[namespace])
        }
        var relabelled = inPlace
        // A filler pod moves from group g5 to g6: a tenth of the policies' peer sets change, so
        // this change grows with the policies in place.
        relabelled.pods[ObjectKey("peers", "p5")]?.labels = ["group": "g6"]
        // The mover leaves 10 policies' peers and joins 10 others': the same change at every scale.
        var moved = inPlace
        moved.pods[BenchClusters.moverKey]?.labels = ["mover": "m2"]
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
        let changes = [
            ("relabel (20 pol.)", moved, ChangedObjects(pods: [BenchClusters.moverKey])),
            ("relabel (10% pol.)", relabelled, ChangedObjects(pods: [ObjectKey("peers", "p5")])),
            ("add one policy", added, ChangedObjects(policies: [extra.key])),
            ("delete one policy", deleted, ChangedObjects(policies: [ObjectKey("bench", String(format: "p%05d", policyCount / 2))])),
        ]
        for (label, changed, change) in changes {
            var compile: [Double] = [], kernel: [Double] = [], sends: [Double] = [], diffs: [Double] = []
            var kinds = Set<String>(), messages = 0, bytes = 0
            for _ in 0..<rounds {
                diffs.append(timed { ChangedObjects(from: inPlace, to: changed) }.1)
                let forward = try step(changed, change)
                compile.append(forward.compile)
                kernel.append(forward.kernel)
                if let report = forward.report {
                    kinds.formUnion(report.kinds.map(\.rawValue))
                    messages = report.messages.count
                    bytes = report.bytes
                    sends.append(report.sendSeconds)
                }
                _ = try step(inPlace, change)
            }
            results.append(
                Figures(
                    label: label, compile: median(compile), diff: median(diffs), kernel: median(kernel), kinds: kinds.sorted(),
                    messages: messages, bytes: bytes, send: median(sends)))
        }
        return results
    }
}
