import Foundation
import Glibc
import KeycardCompiler
import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardRuleset
import KeycardTestSupport
import Testing

/// Root, real kernel: the incremental compiler's element changes, programmed by
/// `PolicyController.apply`, leave the kernel holding what a compilation from nothing gives.
@Suite(.serialized, .enabled(if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft"), "needs root and nft"))
struct ControllerIncrementalTests {
    /// Policy add, update, delete, a pod relabel and a namespace relabel: only element messages
    /// (two phases when several namespaces change), rule handles kept, the kernel equal to the
    /// compiled intent after each, added elements commented with their contribution.
    @Test(arguments: Placement.allCases)
    func incrementalChangesSendOnlyElements(_ placement: Placement) throws {
        let world = CaseWorld()
        let policies = try #require(PolicyCase.all.first { $0.name == "ingress-pod-selector" }).policies
        let extra = policy(
            "prod", "web-from-db", select: labels(["app": "web"]), ingress: [allow([.pods(labels(["app": "db"]))], ports: [.tcp(443)])])
        let changed = policy(
            "prod", "web-from-db", select: labels(["app": "web"]),
            ingress: [allow([.block("10.244.0.0/16", except: ["10.244.1.0/24"])], ports: [.tcp(443, to: 450)])])
        try ControllerLab.with(world.compile([], lab: "probe", placement).keys) { lab in
            let controller = PolicyController()
            let compiler = PolicyCompiler(labName: lab.lab, placement: placement)
            let incremental = IncrementalCompiler(
                compiler: compiler, cluster: world.cluster(policies), nodes: world.nodes, nodeCount: world.nodeCount)
            try controller.reconcile(lab.byNamespace(incremental.tables))
            var handles: [String: [String: [Int]]] = [:]
            for namespace in lab.namespaces.values { handles[namespace] = ruleHandles(try nftObjects(namespace), table: "kc-\(lab.lab)") }
            var relabelled = world.cluster(policies)
            relabelled.pods[ObjectKey("prod", "db")]?.labels = ["app": "api"]
            relabelled.namespaces["dev"]?.setLabels(["env": "prod"])
            var sent = 0
            for (step, version) in [
                ("add", world.cluster(policies + [extra])), ("update", world.cluster(policies + [changed])),
                ("delete", world.cluster(policies)), ("relabel", relabelled), ("back", world.cluster(policies + [extra])),
            ] {
                let updates = incremental.update(to: version, change: nil)
                try controller.apply(Dictionary(uniqueKeysWithValues: updates.compactMap { t, u in lab.namespaces[t].map { ($0, u) } }))
                let namespace = try #require(lab.namespaces[placement == .pod ? .pod(ObjectKey("prod", "web")) : .node(0)])
                sent += try expectElementsOnly(
                    controller, lab, compiler.compile(version, nodes: world.nodes, nodeCount: world.nodeCount), handles: handles,
                    step: step,
                    comment: step == "add" ? ("prod/web-from-db#ingress[0]", in: namespace) : nil)
            }
            #expect(sent > 0)
            try controller.removeAll()
        }
    }
}
