import Foundation
import Glibc
import KeycardCompiler
import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardRuleset
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
                let kernel = try #require(TableView(witness: objects, family: table.family.rawValue, name: table.name), "\(target): no table")
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
        /// The namespaces whose table must change (by elements only).
        let changed: [RulesetTarget]
        var testDescription: String { placement.rawValue }
    }

    /// prod/db becomes app=api (a new peer of web's ingress), then goes back (the peer leaves).
    @Test(arguments: [Relabel(placement: .pod, changed: [.pod(ObjectKey("prod", "web"))]), Relabel(placement: .node, changed: [.node(0)])])
    func relabelSendsOnlySetElementsAndKeepsHandles(_ relabel: Relabel) throws {
        let policies = try #require(PolicyCase.all.first { $0.name == "ingress-pod-selector" }).policies
        var relabelled = CaseWorld()
        for index in relabelled.pods.indices where relabelled.pods[index].pod.key == ObjectKey("prod", "db") {
            relabelled.pods[index].pod.labels = ["app": "api"]
        }
        try ControllerLab.with(CaseWorld().compile([], lab: "probe", relabel.placement).keys) { lab in
            let before = CaseWorld().compile(policies, lab: lab.lab, relabel.placement)
            let after = relabelled.compile(policies, lab: lab.lab, relabel.placement)
            let controller = PolicyController()
            try controller.reconcile(lab.byNamespace(before))
            let changedNamespaces = relabel.changed.compactMap { lab.namespaces[$0] }
            let handlesBefore = try changedNamespaces.map { ruleHandles(try nftObjects($0), table: "kc-\(lab.lab)") }

            for (step, tables, kind) in [("relabel in", after, NftMessageKind.newSetElements), ("relabel back", before, .deleteSetElements)] {
                try controller.reconcile(lab.byNamespace(tables))
                #expect(Set(controller.lastReports.keys) == Set(changedNamespaces), "\(step): only the affected namespaces are sent anything")
                for namespace in changedNamespaces {
                    let report = try #require(controller.lastReports[namespace])
                    #expect(report.kinds.isSubset(of: [.newSetElements, .deleteSetElements]), "\(step): \(report.kinds)")
                    #expect(report.count(kind) >= 1, "\(step): expected \(kind) in \(report.messages)")
                }
                for (namespace, handles) in zip(changedNamespaces, handlesBefore) {
                    let objects = try nftObjects(namespace)
                    #expect(ruleHandles(objects, table: "kc-\(lab.lab)") == handles, "\(step): rule handles changed in \(namespace)")
                    let target = try #require(lab.namespaces.first { $0.value == namespace }?.key)
                    let table = try #require(tables[target])
                    #expect(TableView(witness: objects, family: "inet", name: table.name) == TableView(table), "\(step): kernel differs")
                }
            }
            try controller.removeAll()
        }
    }

    /// The control: adding a policy is not element-only, and the controller says so with rule messages.
    @Test(arguments: Placement.allCases)
    func addingAPolicySendsRules(_ placement: Placement) throws {
        let policies = try #require(PolicyCase.all.first { $0.name == "ingress-pod-selector" }).policies
        let extra = policy("prod", "web-from-db", select: labels(["app": "web"]), ingress: [allow([.pods(labels(["app": "db"]))], ports: [.tcp(443)])])
        try ControllerLab.with(CaseWorld().compile([], lab: "probe", placement).keys) { lab in
            let controller = PolicyController()
            try controller.reconcile(lab.byNamespace(CaseWorld().compile(policies, lab: lab.lab, placement)))
            let after = CaseWorld().compile(policies + [extra], lab: lab.lab, placement)
            try controller.reconcile(lab.byNamespace(after))
            let target: RulesetTarget = placement == .pod ? .pod(ObjectKey("prod", "web")) : .node(0)
            let namespace = try #require(lab.namespaces[target])
            let report = try #require(controller.lastReports[namespace])
            #expect(report.count(.newRule) > 0)
            let table = try #require(after[target])
            #expect(TableView(witness: try nftObjects(namespace), family: "inet", name: table.name) == TableView(table))
            try controller.removeAll()
        }
    }
}
