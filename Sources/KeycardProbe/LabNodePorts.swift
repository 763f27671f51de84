import KeycardCompiler
import KeycardKernel
import KeycardModel
import KeycardRuleset
import KeycardTopology
import Logging

/// Programs the node ports of every node (`NodePortCompiler`, table `kc-LAB-nodeport` in each
/// node namespace, whatever the placement) and the lab's load balancer (`LoadBalancerCompiler`,
/// table `kc-LAB-lb` in the router's namespace). Part of the lab's Service programming
/// (`LabServices.program` calls it); each namespace moves to its new table in one transaction.
final class LabNodePorts {
    private let nodeCompiler: NodePortCompiler
    private let balancerCompiler: LoadBalancerCompiler
    private let nodes: [(index: Int, namespace: String)]
    private let router: String
    private let programmers = NftablesProgrammers()
    private var installed: [String: Table] = [:]
    /// True when a node or the router may hold any table, or none (`assumeUnknown`).
    private var unknown = false
    private let flusher = ConntrackFlusher()
    private let logger = Logger(label: "keycard.nodeports")

    init(plan: LabPlan) {
        nodeCompiler = NodePortCompiler(labName: plan.labName)
        balancerCompiler = LoadBalancerCompiler(labName: plan.labName)
        nodes = plan.nodes.map { ($0.index, $0.namespace) }
        router = plan.router
    }

    /// Takes the kernel to hold the tables `cluster` compiles to (`LabServices.assumeProgrammed`).
    func assumeProgrammed(_ cluster: Cluster) {
        for (namespace, table) in targets(cluster) { installed[namespace] = table }
    }

    /// Takes nothing about what the nodes and the router hold (`LabServices.assumeUnknown`): the
    /// next `program` replaces each table needed whole and removes, by name, each one not needed.
    func assumeUnknown() {
        installed = [:]
        unknown = true
    }

    /// Programs every node's node ports and the router's load balancer for `cluster`. Returns
    /// whether anything changed.
    @discardableResult
    func program(_ cluster: Cluster) throws -> Bool {
        let targets = targets(cluster)
        var changed = false
        for (namespace, table) in targets {
            let old = installed[namespace]
            guard table != old || unknown else { continue }
            let name = namespace == router ? balancerCompiler.tableName : nodeCompiler.tableName
            let family = namespace == router ? LoadBalancerCompiler.tableFamily : NodePortCompiler.tableFamily
            try programmers.move(namespace, from: unknown ? .unknown : .known(old), to: table, name: name, family: family)
            // Connections keep the translation they were made with; forget them when endpoints
            // move, or when a table may have been there (`unknown`).
            if old != nil || unknown { try flusher.flush(namespace: namespace) }
            installed[namespace] = table
            changed = true
        }
        unknown = false
        if changed { logger.debug("node ports programmed", metadata: ["namespaces": "\(targets.count)"]) }
        return changed
    }

    /// Each node's node-port table and the router's load-balancer table for `cluster` (nil: none).
    private func targets(_ cluster: Cluster) -> [(namespace: String, table: Table?)] {
        nodes.map { (namespace: $0.namespace, table: nodeCompiler.compile(cluster, node: $0.index)) }
            + [(router, balancerCompiler.compile(cluster))]
    }
}
