import KeycardCompiler
import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardRuleset
import KeycardScenario
import KeycardTopology
import Logging

/// The one way keycard programs a lab's policies, for `keycard run` and the live verbs alike:
/// compile the cluster for the placement, program every ruleset namespace through
/// `PolicyController` (one atomic transaction per namespace, the meet of old and new first when
/// several change; docs/atomicity.md), then flush conntrack in the namespaces whose tables changed,
/// so that probes after a change are new connections judged by the rules in force. A namespace
/// whose rules did not change needs no flush: what it accepted as established it would accept new.
///
/// The compiled state is kept between changes (`IncrementalCompiler`): a change costs what it
/// touches, and only the element changes it yields are sent.
public final class LabPolicies {
    /// `var`: a live lab switches to the tier layout when it meets its first ClusterNetworkPolicy.
    private var compiler: PolicyCompiler
    private let nodes: [ObjectKey: Int]
    private let nodeCount: Int
    private let targets: [RulesetTarget: String]
    private let controller = PolicyController()
    private var incremental: IncrementalCompiler?
    private let flusher = ConntrackFlusher()
    /// No connection can be tracked yet: see `init(plan:nodes:enforcement:fresh:)`.
    private var untracked: Bool
    private let logger = Logger(label: "keycard.policies")

    /// - Parameters:
    ///   - plan: the running lab (its namespaces).
    ///   - nodes: each pod's node index, as the scenario's address plan gave it.
    ///   - enforcement: pod or node placement.
    ///   - fresh: the lab was just built by this process and nothing has sent a packet in it. If
    ///     no `command:` program runs there either, the first programming skips the conntrack
    ///     flush: there is nothing to forget, and each flush walks the kernel's whole conntrack
    ///     hash (shared by every namespace), so a thousand of them cost tens of seconds.
    ///   - serviceEnforcement: pre-dnat moves egress judgement before Service translation.
    ///   - meshLayout: the lab has meshed pods at some step (`LabMeshRedirect.needsMeshLayout`):
    ///     lay the pod tables out so that policies judge the original destination and port with
    ///     the mesh's redirection present (`PolicyCompiler.meshLayout`).
    ///   - audit: audit mode: would-be drops are logged and accepted (`PolicyCompiler.audit`).
    ///   - tiers: the lab holds a ClusterNetworkPolicy at some step (`PolicyCompiler.tiers`).
    public init(
        plan: LabPlan, nodes: [ObjectKey: Int], enforcement: Enforcement, fresh: Bool = false,
        serviceEnforcement: ServiceEnforcement = .postDNAT, meshLayout: Bool = false, audit: Bool = false, tiers: Bool = false
    ) {
        var compiler = PolicyCompiler(labName: plan.labName, placement: enforcement.placement)
        compiler.audit = audit
        compiler.tiers = tiers
        if serviceEnforcement == .preDNAT { compiler.egressPriority = PolicyCompiler.preDNATEgressPriority }
        compiler.meshLayout = meshLayout
        self.compiler = compiler
        self.nodes = nodes
        nodeCount = plan.nodes.count
        targets = LabServing.rulesetNamespaces(plan)
        untracked = fresh && LabServing.programPods(plan).isEmpty
    }

    /// Declares what an earlier process programmed for `cluster` (a live lab between two verbs):
    /// the next `program` replaces those tables whole (nothing is assumed of their contents) and
    /// removes the ones the new cluster no longer needs.
    public func assumeProgrammed(_ cluster: Cluster) {
        if !cluster.clusterPolicies.isEmpty { compiler.tiers = true }
        if compiler.tiers {
            controller.adopt(namespaced(compiler.compile(cluster, nodes: nodes, nodeCount: nodeCount)))
            untracked = false
            return
        }
        let compiled = IncrementalCompiler(compiler: compiler, cluster: cluster, nodes: nodes, nodeCount: nodeCount)
        incremental = compiled
        controller.adopt(namespaced(compiled.tables))
        untracked = false
    }

    /// Forgets every tracked connection in the namespaces that hold rulesets (a reused lab
    /// starting the next scenario).
    public func flushConntrack() throws {
        try flush(Set(targets.values))
    }

    private func flush(_ namespaces: Set<String>) throws {
        for namespace in namespaces.sorted() { try flusher.flush(namespace: namespace) }
    }

    /// Programs the lab for `cluster`; `change` names what differs from the cluster programmed
    /// last (nil: found by comparing the two object by object). Returns the number of namespaces
    /// whose tables changed.
    @discardableResult
    public func program(_ cluster: Cluster, change: ChangedObjects? = nil) throws -> Int {
        // A live lab (`keycard apply`) may meet its first ClusterNetworkPolicy at any verb: from
        // then on it keeps the tier layout, and the whole tables are reconciled.
        if !cluster.clusterPolicies.isEmpty { compiler.tiers = true }
        if let incremental, !incremental.canUpdate(to: cluster) { self.incremental = nil }
        if compiler.tiers {
            // The tier chains' rules follow subjects and priorities: the whole tables, compiled
            // afresh and reconciled (the controller's meet keeps multi-namespace changes safe).
            try controller.reconcile(namespaced(compiler.compile(cluster, nodes: nodes, nodeCount: nodeCount)))
        } else if let incremental, !controller.hasUnverified {
            let updates = incremental.update(to: cluster, change: change)
            try controller.apply(
                Dictionary(uniqueKeysWithValues: updates.compactMap { target, update in targets[target].map { ($0, update) } }))
        } else {
            // The first programming, or tables adopted from an earlier process: every table whole.
            let compiled: IncrementalCompiler
            if let incremental {
                _ = incremental.update(to: cluster, change: change)
                compiled = incremental
            } else {
                compiled = IncrementalCompiler(compiler: compiler, cluster: cluster, nodes: nodes, nodeCount: nodeCount)
            }
            incremental = compiled
            try controller.reconcile(namespaced(compiled.tables))
        }
        let changed = controller.lastReports.count
        if !untracked { try flush(Set(controller.lastReports.keys)) }
        untracked = false
        logger.debug(
            "policies programmed",
            metadata: NftBatchReport.total(controller.lastReports.values).logMetadata.merging(
                ["policies": "\(cluster.policies.count)", "namespaces changed": "\(changed)"]) { $1 })
        return changed
    }

    private func namespaced(_ compiled: [RulesetTarget: Table]) -> [String: Table] {
        Dictionary(uniqueKeysWithValues: compiled.compactMap { target, table in targets[target].map { ($0, table) } })
    }
}

extension Enforcement {
    /// The compiler's placement for this enforcement mode.
    public var placement: Placement { self == .pod ? .pod : .node }
}
