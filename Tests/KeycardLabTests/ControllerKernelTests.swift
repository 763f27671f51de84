import Foundation
import Glibc
import KeycardCompiler
import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardRuleset
import KeycardTestSupport
import Testing

/// Throwaway namespaces for the compiled targets of one lab name, deleted whatever happens.
struct ControllerLab {
    let lab = "ct" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
    var namespaces: [RulesetTarget: String] = [:]

    func namespace(_ target: RulesetTarget) -> String {
        switch target {
        case .pod(let key): "kc-\(lab).pod.\(key.namespace).\(key.name)"
        case .node(let index): "kc-\(lab).node\(index)"
        }
    }

    /// Creates a namespace per target, runs `body`, deletes them all.
    static func with<T>(
        _ targets: some Sequence<RulesetTarget>, lab: ControllerLab = ControllerLab(), _ body: (ControllerLab) throws -> T
    ) throws -> T {
        var lab = lab
        defer { for name in lab.namespaces.values { try? NetworkNamespace.delete(name) } }
        for target in targets {
            let name = lab.namespace(target)
            try NetworkNamespace.create(name)
            lab.namespaces[target] = name
        }
        return try body(lab)
    }

    /// The tables keyed by namespace, as the controller takes them.
    func byNamespace(_ tables: [RulesetTarget: Table]) -> [String: Table] {
        Dictionary(uniqueKeysWithValues: tables.compactMap { target, table in namespaces[target].map { ($0, table) } })
    }
}

/// Root, real kernel: what PolicyController programs is what the compiler meant, seen through `nft -j`.
@Suite(.serialized, .enabled(if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft"), "needs root and nft"))
struct ControllerKernelTests {
    struct Row: Sendable, CustomTestStringConvertible {
        let policyCase: PolicyCase
        let placement: Placement
        var testDescription: String { "\(policyCase.name) (\(placement.rawValue))" }
    }

    static let rows = PolicyCase.all.flatMap { policyCase in Placement.allCases.map { Row(policyCase: policyCase, placement: $0) } }

    @Test(arguments: rows)
    func kernelListingMatchesCompiledTables(_ row: Row) throws {
        let world = CaseWorld()
        let fresh = ControllerLab()
        try ControllerLab.with(world.compile([], lab: "probe", row.placement).keys, lab: fresh) { lab in
            let tables = world.compile(row.policyCase.policies, lab: lab.lab, row.placement)
            let controller = PolicyController()
            try controller.reconcile(lab.byNamespace(tables))
            #expect(controller.installed.count == tables.count)
            for (target, table) in tables.sorted(by: { $0.key < $1.key }) {
                let namespace = try #require(lab.namespaces[target])
                let objects = try nftObjects(namespace)
                let kernel = try #require(
                    TableView(witness: objects, family: table.family.rawValue, name: table.name), "\(target): no table")
                #expect(kernel == TableView(table), "\(target)\nkernel:\n\(kernel)\ncompiled:\n\(TableView(table))")
                #expect(keycardTables(objects) == [table.name], "\(target): only keycard's one table")
            }
            // Removing reconciles to nothing: no keycard table is left in any namespace.
            try controller.reconcile([:])
            #expect(controller.installed.isEmpty)
            for namespace in lab.namespaces.values.sorted() {
                #expect(keycardTables(try nftObjects(namespace)).isEmpty, "\(namespace) still holds a keycard table")
            }
        }
        #expect(NetworkNamespace.list().filter { $0.hasPrefix("kc-\(fresh.lab).") }.isEmpty, "namespaces left behind")
    }

    struct Relabel: Sendable, CustomTestStringConvertible {
        let placement: Placement
        /// The table that must change: the one protecting prod/web.
        let protected: RulesetTarget
        var testDescription: String { placement.rawValue }
    }

    /// prod/db becomes app=api (a new peer of web's ingress), then goes back (the peer leaves).
    /// Every namespace whose table changed is sent element messages only, and keeps its rule handles.
    @Test(arguments: [Relabel(placement: .pod, protected: .pod(ObjectKey("prod", "web"))), Relabel(placement: .node, protected: .node(0))])
    func relabelSendsOnlySetElementsAndKeepsHandles(_ relabel: Relabel) throws {
        let policies = try #require(PolicyCase.all.first { $0.name == "ingress-pod-selector" }).policies
        var relabelled = CaseWorld()
        for index in relabelled.pods.indices where relabelled.pods[index].pod.key == ObjectKey("prod", "db") {
            relabelled.pods[index].pod.labels = ["app": "api"]
        }
        try ControllerLab.with(CaseWorld().compile([], lab: "probe", relabel.placement).keys) { lab in
            let before = CaseWorld().compile(policies, lab: lab.lab, relabel.placement)
            let after = relabelled.compile(policies, lab: lab.lab, relabel.placement)
            let changed = before.keys.filter { before[$0] != after[$0] }.sorted()
            #expect(changed.contains(relabel.protected))
            let controller = PolicyController()
            try controller.reconcile(lab.byNamespace(before))
            let tableName = "kc-\(lab.lab)"
            var handles: [RulesetTarget: [String: [Int]]] = [:]
            for (target, namespace) in lab.namespaces { handles[target] = ruleHandles(try nftObjects(namespace), table: tableName) }

            for (step, tables, kind) in [
                ("relabel in", after, NftMessageKind.newSetElements), ("relabel back", before, .deleteSetElements),
            ] {
                try controller.reconcile(lab.byNamespace(tables))
                #expect(
                    Set(controller.lastReports.keys) == Set(changed.compactMap { lab.namespaces[$0] }),
                    "\(step): only changed tables are sent anything")
                for target in changed {
                    let report = try #require(controller.lastReports[lab.namespace(target)])
                    #expect(report.kinds.isSubset(of: [.newSetElements, .deleteSetElements]), "\(step) \(target): \(report.kinds)")
                }
                let protected = try #require(controller.lastReports[lab.namespace(relabel.protected)])
                #expect(protected.count(kind) >= 1, "\(step): expected \(kind) in \(protected.messages)")
                for (target, namespace) in lab.namespaces.sorted(by: { $0.key < $1.key }) {
                    let objects = try nftObjects(namespace)
                    #expect(ruleHandles(objects, table: tableName) == handles[target], "\(step): rule handles changed in \(namespace)")
                    let table = try #require(tables[target])
                    #expect(
                        TableView(witness: objects, family: "inet", name: table.name) == TableView(table),
                        "\(step): kernel differs in \(namespace)")
                }
            }
            try controller.removeAll()
        }
    }

    /// A live verb's controller adopts what an earlier process programmed, and rewrites every
    /// adopted table whole even where the new cluster compiles the same: an interrupted earlier
    /// verb may have left something else (here: the tables of another policy set) in the kernel.
    @Test(arguments: Placement.allCases)
    func adoptedTablesAreRewrittenWhole(_ placement: Placement) throws {
        let policies = try #require(PolicyCase.all.first { $0.name == "ingress-pod-selector" }).policies
        let other = try #require(PolicyCase.all.first { $0.name == "default-deny-both" }).policies
        try ControllerLab.with(CaseWorld().compile([], lab: "probe", placement).keys) { lab in
            // What the kernel really holds: another policy set's tables.
            let earlier = PolicyController()
            try earlier.reconcile(lab.byNamespace(CaseWorld().compile(other, lab: lab.lab, placement)))
            // What the journal says is there, and what is wanted now: the same cluster.
            let wanted = lab.byNamespace(CaseWorld().compile(policies, lab: lab.lab, placement))
            let controller = PolicyController()
            controller.adopt(wanted)
            try controller.reconcile(wanted)
            #expect(Set(controller.lastReports.keys) == Set(wanted.keys), "every adopted table is rewritten")
            for (namespace, table) in wanted {
                #expect(TableView(witness: try nftObjects(namespace), family: "inet", name: table.name) == TableView(table))
            }
            // Once programmed here, an unchanged table is left alone.
            try controller.reconcile(wanted)
            #expect(controller.lastReports.isEmpty)
            try controller.removeAll()
        }
    }

    /// Adding, changing and deleting a policy send set and map elements only: no table, chain or
    /// rule message, the kernel's rule handles stay, and the kernel holds the compiled intent.
    @Test(arguments: Placement.allCases)
    func policyChangesSendOnlyElements(_ placement: Placement) throws {
        let policies = try #require(PolicyCase.all.first { $0.name == "ingress-pod-selector" }).policies
        let extra = policy(
            "prod", "web-from-db", select: labels(["app": "web"]), ingress: [allow([.pods(labels(["app": "db"]))], ports: [.tcp(443)])])
        let changed = policy(
            "prod", "web-from-db", select: labels(["app": "web"]),
            ingress: [allow([.block("10.244.0.0/16", except: ["10.244.1.0/24"])], ports: [.tcp(443, to: 450)])])
        try ControllerLab.with(CaseWorld().compile([], lab: "probe", placement).keys) { lab in
            let controller = PolicyController()
            try controller.reconcile(lab.byNamespace(CaseWorld().compile(policies, lab: lab.lab, placement)))
            var handles: [String: [String: [Int]]] = [:]
            for namespace in lab.namespaces.values { handles[namespace] = ruleHandles(try nftObjects(namespace), table: "kc-\(lab.lab)") }
            var sent = 0
            for (step, version) in [("add", policies + [extra]), ("update", policies + [changed]), ("delete", policies)] {
                let tables = CaseWorld().compile(version, lab: lab.lab, placement)
                try controller.reconcile(lab.byNamespace(tables))
                // Elements carry their first contributing rule as a comment (`nft list` shows it).
                let namespace = try #require(lab.namespaces[placement == .pod ? .pod(ObjectKey("prod", "web")) : .node(0)])
                sent += try expectElementsOnly(
                    controller, lab, tables, handles: handles, step: step,
                    comment: step == "add" ? ("prod/web-from-db#ingress[0]", in: namespace) : nil)
            }
            #expect(sent > 0)
            try controller.removeAll()
        }
    }
}
