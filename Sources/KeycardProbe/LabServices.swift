import KeycardCompiler
import KeycardKernel
import KeycardModel
import KeycardRuleset
import KeycardScenario
import KeycardTopology
import Logging

/// Programs the lab's Service proxy (`ServiceProxyCompiler`, table `kc-LAB-svc`): in every pod
/// namespace for pod placement, in every node namespace for node placement, each with the table
/// of its node (they differ only for `internalTrafficPolicy: Local` Services). Each namespace moves
/// from its old table to the new one in one transaction (`NftablesProgrammer.apply`): element
/// updates when only the `service-ips` map changes, an atomic replace when endpoint chains change.
/// Kept apart from `LabPolicies`: the proxy translates, it never allows or denies, so the
/// meet-first ordering of policy changes does not apply to it.
public final class LabServices {
    private let compiler: ServiceProxyCompiler
    /// Each namespace that holds the proxy and the node whose clients it serves, in name order.
    private let namespaces: [(name: String, node: Int)]
    private let programmers = NftablesProgrammers()
    /// The table each node's namespaces hold, by node index (empty: none programmed yet).
    private var installed: [Int: Table?] = [:]
    /// True when the kernel may hold any proxy table, or none (`assumeUnknown`): the next
    /// `program` rewrites every namespace whole and removes the tables it needs none of.
    private var unknown = false
    private let flusher = ConntrackFlusher()
    /// Node ports and the load balancer: programmed with the ClusterIP proxy, in nodes and router.
    private let nodePorts: LabNodePorts
    private let logger = Logger(label: "keycard.services")

    /// - Parameters:
    ///   - plan: the running lab.
    ///   - enforcement: pod or node placement.
    /// (`serviceEnforcement` does not change the proxy: pre-dnat moves the policies' egress
    /// judgement before it, `LabPolicies`.)
    public init(plan: LabPlan, enforcement: Enforcement) {
        compiler = ServiceProxyCompiler(labName: plan.labName, placement: enforcement.placement)
        namespaces =
            enforcement == .pod
            ? plan.pods.map { ($0.netns, $0.nodeIndex) }.sorted { $0.0 < $1.0 }
            : plan.nodes.map { ($0.namespace, $0.index) }.sorted { $0.0 < $1.0 }
        nodePorts = LabNodePorts(plan: plan)
    }

    /// Takes the kernel to hold the tables `cluster` compiles to (a live lab's previous state,
    /// programmed by another process), so the next `program` moves from them in one transaction.
    public func assumeProgrammed(_ cluster: Cluster) {
        nodePorts.assumeProgrammed(cluster)
        if !cluster.services.isEmpty { installed = tables(cluster) }
    }

    /// Takes nothing about what the kernel holds: a live change stopped half-way (`kill -9`
    /// between programming and recording it, `LiveChangeMarker`) may have left some namespaces
    /// with its tables and others with the record's, and a change that made the lab's first
    /// Service may have left proxy tables where the record holds no Service at all. The next
    /// `program` replaces every namespace's tables whole (node ports and load balancer too), and
    /// removes, by name, each table the cluster needs none of, rather than moving from tables it
    /// would only assume.
    public func assumeUnknown() {
        installed = [:]
        unknown = true
        nodePorts.assumeUnknown()
    }

    /// The proxy table of every node the namespaces are on: compiled once when no Service is
    /// Local or PreferSameNode (every node's is the same), else per node (`ClusterIPPath`).
    private func tables(_ cluster: Cluster) -> [Int: Table?] {
        let nodes = Set(namespaces.map(\.node))
        guard cluster.services.values.contains(where: { $0.internalTrafficPolicy == .local || $0.prefersSameNode }) else {
            let table = compiler.compile(cluster)
            return Dictionary(uniqueKeysWithValues: nodes.map { ($0, table) })
        }
        return Dictionary(uniqueKeysWithValues: nodes.map { ($0, compiler.compile(cluster, node: $0)) })
    }

    /// Programs the proxy for `cluster`'s Services and endpoints. Returns whether anything changed.
    @discardableResult
    public func program(_ cluster: Cluster) throws -> Bool {
        // A lab without Services needs no proxy table (and a thousand pods no thousand tables),
        // unless the kernel may hold one the record never had (`assumeUnknown`).
        if installed.isEmpty && cluster.services.isEmpty && !unknown { return false }
        let nodePortsChanged = try nodePorts.program(cluster)
        let tables = tables(cluster)
        guard tables != installed || unknown else { return nodePortsChanged }
        for (namespace, node) in namespaces {
            let old = installed[node] ?? nil
            let table = tables[node] ?? nil
            guard table != old || unknown else { continue }
            try programmers.move(
                namespace, from: unknown ? .unknown : .known(old), to: table, name: compiler.tableName,
                family: ServiceProxyCompiler.tableFamily)
            // Tracked connections keep the translation they were made with; as kube-proxy clears
            // conntrack for changed endpoints, forget them so the next probes are translated anew.
            // Before the first table nothing was translated, so there is nothing to forget (and
            // each flush walks the kernel's whole conntrack hash); a table that may have been
            // there (`unknown`) may have translated.
            if old != nil || unknown { try flusher.flush(namespace: namespace) }
        }
        installed = tables
        unknown = false
        logger.debug("services programmed", metadata: ["services": "\(cluster.services.count)", "namespaces": "\(namespaces.count)"])
        return true
    }
}
