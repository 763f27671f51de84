import KeycardCompiler
import KeycardModel
import KeycardRuleset
import Testing

/// A label change alters set elements only (RulesetDiff is .elementsOnly), never rules.
struct RelabelDiffTests {
    struct Change: Sendable, CustomTestStringConvertible {
        let name: String
        let policyCase: String
        let placement: Placement
        /// Relabels one pod (`ns/name`) or one namespace (`name`).
        let target: String
        let labels: Labels
        /// Tables that must change (by element updates only); no table may change rules.
        let changed: [RulesetTarget]
        var testDescription: String { "\(name) (\(placement.rawValue))" }
    }

    static let web = ObjectKey("prod", "web")
    static let db = ObjectKey("prod", "db")

    static let changes = [
        // prod/db becomes app=api: a new peer of web's ingress.
        Change(
            name: "peer pod relabelled in", policyCase: "ingress-pod-selector", placement: .pod, target: "prod/db",
            labels: ["app": "api"], changed: [.pod(web)]),
        Change(
            name: "peer pod relabelled in", policyCase: "ingress-pod-selector", placement: .node, target: "prod/db",
            labels: ["app": "api"], changed: [.node(0)]),
        // dev/client leaves app=client: db's peer set empties.
        Change(
            name: "peer pod relabelled out", policyCase: "namespace-and-pod-selector", placement: .pod, target: "dev/client",
            labels: ["app": "other"], changed: [.pod(db)]),
        Change(
            name: "peer pod relabelled out", policyCase: "namespace-and-pod-selector", placement: .node, target: "dev/client",
            labels: ["app": "other"], changed: [.node(0)]),
        // Namespace dev is relabelled: the namespaceSelector no longer matches.
        Change(
            name: "peer namespace relabelled", policyCase: "namespace-and-pod-selector", placement: .pod, target: "dev",
            labels: ["env": "staging"], changed: [.pod(db)]),
        Change(
            name: "peer namespace relabelled", policyCase: "no-ports", placement: .node, target: "dev",
            labels: ["env": "staging"], changed: [.node(1)]),
        // Node placement: a protected pod leaving the selector only changes which addresses are isolated.
        Change(
            name: "protected pod relabelled out", policyCase: "no-peers", placement: .node, target: "prod/web",
            labels: ["app": "website"], changed: [.node(0)]),
        Change(
            name: "protected pod relabelled in", policyCase: "ingress-pod-selector", placement: .node, target: "prod/api",
            labels: ["app": "web"], changed: [.node(0), .node(1)]),
        // The named port's destinations leave the egress peers: the concatenated set empties.
        Change(
            name: "named-port peers relabelled out", policyCase: "named-port-egress", placement: .pod, target: "prod",
            labels: ["env": "production"], changed: [.pod(ObjectKey("dev", "client"))]),
        Change(
            name: "named-port peers relabelled out", policyCase: "named-port-egress", placement: .node, target: "prod",
            labels: ["env": "production"], changed: [.node(1)]),
    ]

    static func relabelled(_ world: CaseWorld, _ change: Change) -> CaseWorld {
        var world = world
        if let key = ObjectKey.parse(change.target) {
            for index in world.pods.indices where world.pods[index].pod.key == key { world.pods[index].pod.labels = change.labels }
        } else {
            for index in world.namespaces.indices where world.namespaces[index].name == change.target {
                world.namespaces[index].setLabels(change.labels)
            }
        }
        return world
    }

    @Test(arguments: changes)
    func relabelChangesOnlySetElements(_ change: Change) throws {
        let policies = try #require(PolicyCase.all.first { $0.name == change.policyCase }).policies
        let before = CaseWorld().compile(policies, lab: "diff", change.placement)
        let after = Self.relabelled(CaseWorld(), change).compile(policies, lab: "diff", change.placement)
        #expect(Set(before.keys) == Set(after.keys))
        for target in before.keys.sorted() {
            let (old, new) = (try #require(before[target]), try #require(after[target]))
            let diff = RulesetDiff(old: old, new: new)
            if change.changed.contains(target) {
                guard case .elementsOnly(let sets) = diff else {
                    Issue.record("\(target): expected element-only change, got \(diff)")
                    continue
                }
                #expect(!sets.isEmpty)
                #expect(old.chains == new.chains, "rules untouched")
            } else {
                // Other tables of the scope may carry the same policy's sets: elements, never rules.
                #expect(diff != .fullReplace, "\(target) must not change rules")
            }
        }
    }

    /// Adding, changing and deleting a policy change set and map elements only, in every table.
    @Test(arguments: Placement.allCases)
    func policyChangesAreElementOnly(_ placement: Placement) throws {
        let base = try #require(PolicyCase.all.first { $0.name == "ingress-pod-selector" }).policies
        let extra = policy(
            "prod", "web-from-db", select: labels(["app": "web"]), ingress: [allow([.pods(labels(["app": "db"]))], ports: [.tcp(443)])])
        let changed = policy(
            "prod", "web-from-db", select: labels(["app": "web"]),
            ingress: [allow([.block("10.0.0.0/8", except: ["10.1.0.0/16"])], ports: [.tcp(443, to: 450)])])
        let versions = [base, base + [extra], base + [changed], base]
        let compiled = versions.map { CaseWorld().compile($0, lab: "diff", placement) }
        for (before, after) in zip(compiled, compiled.dropFirst()) {
            for (target, old) in before {
                let new = try #require(after[target])
                #expect(RulesetDiff(old: old, new: new) != .fullReplace, "\(target)")
            }
        }
        let target: RulesetTarget = placement == .pod ? .pod(Self.web) : .node(0)
        #expect(RulesetDiff(old: try #require(compiled[0][target]), new: try #require(compiled[1][target])) != .unchanged)
    }

    /// A tuple stays while any (policy, rule) contributes it: deleting one of two policies that
    /// allow the same peer and port leaves the element.
    @Test(arguments: Placement.allCases)
    func sharedTuplesStayWhileAnyPolicyHoldsThem(_ placement: Placement) throws {
        let one = policy(
            "prod", "a", select: labels(["app": "web"]), ingress: [allow([.pods(labels(["app": "db"]))], ports: [.tcp(443)])])
        let two = policy(
            "prod", "b", select: labels(["app": "web"]), ingress: [allow([.pods(labels(["app": "db"]))], ports: [.tcp(443)])])
        let both = CaseWorld().compile([one, two], lab: "diff", placement)
        let first = CaseWorld().compile([one], lab: "diff", placement)
        for (target, table) in both {
            #expect(RulesetDiff(old: table, new: try #require(first[target])) == .unchanged, "\(target)")
        }
    }
}
