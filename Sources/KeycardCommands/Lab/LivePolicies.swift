import KeycardCompiler
import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardProbe
import KeycardRuleset
import KeycardScenario
import KeycardTopology

/// Programs a live lab's nftables tables for a cluster, as `keycard run` does between steps.
///
/// Each verb is a new process that does not know what is installed, so every table is replaced
/// whole in its own atomic transaction (`PolicyController` with nothing installed). Tables the
/// previous cluster had and the new one has not (a deleted pod's, in pod placement) are removed.
enum LivePolicies {
    /// Returns the number of namespaces programmed or cleared.
    @discardableResult
    static func program(
        _ cluster: Cluster, previous: Cluster?, plan: LabPlan, timeline: Timeline, enforcement: Enforcement
    ) throws -> Int {
        let compiler = PolicyCompiler(labName: plan.labName, placement: enforcement.placement)
        let targets = LabServing.rulesetNamespaces(plan)
        func tables(_ cluster: Cluster) -> [String: Table] {
            let compiled = compiler.compile(cluster, nodes: timeline.plan.nodes, nodeCount: plan.nodes.count)
            return Dictionary(uniqueKeysWithValues: compiled.compactMap { target, table in targets[target].map { ($0, table) } })
        }
        let new = tables(cluster)
        let controller = PolicyController()
        try controller.reconcile(new)
        var count = new.count
        if let previous {
            for (namespace, table) in tables(previous).sorted(by: { $0.key < $1.key }) where new[namespace] == nil {
                try NftablesProgrammer(namespace: namespace).remove(table)
                count += 1
            }
        }
        return count
    }
}
