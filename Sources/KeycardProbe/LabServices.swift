import KeycardCompiler
import KeycardKernel
import KeycardModel
import KeycardRuleset
import KeycardScenario
import KeycardTopology
import Logging

/// Programs the lab's Service proxy (`ServiceProxyCompiler`, table `kc-LAB-svc`): in every pod
/// namespace for pod placement, in every node namespace for node placement. Each namespace moves
/// from its old table to the new one in one transaction (`NftablesProgrammer.apply`): element
/// updates when only the `service-ips` map changes, an atomic replace when endpoint chains change.
/// Kept apart from `LabPolicies`: the proxy translates, it never allows or denies, so the
/// meet-first ordering of policy changes does not apply to it.
public final class LabServices {
    private let compiler: ServiceProxyCompiler
    private let namespaces: [String]
    private var programmers: [String: NftablesProgrammer] = [:]
    private var installed: Table?
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
        namespaces = enforcement == .pod ? plan.pods.map(\.netns).sorted() : plan.nodes.map(\.namespace).sorted()
        nodePorts = LabNodePorts(plan: plan)
    }

    /// Takes the kernel to hold the tables `cluster` compiles to (a live lab's previous state,
    /// programmed by another process), so the next `program` moves from them in one transaction.
    public func assumeProgrammed(_ cluster: Cluster) {
        nodePorts.assumeProgrammed(cluster)
        if !cluster.services.isEmpty { installed = compiler.compile(cluster) }
    }

    /// Programs the proxy for `cluster`'s Services and endpoints. Returns whether anything changed.
    @discardableResult
    public func program(_ cluster: Cluster) throws -> Bool {
        // A lab without Services needs no proxy table (and a thousand pods no thousand tables).
        if installed == nil && cluster.services.isEmpty { return false }
        let nodePortsChanged = try nodePorts.program(cluster)
        let table = compiler.compile(cluster)
        guard table != installed else { return nodePortsChanged }
        for namespace in namespaces {
            let programmer = try programmers[namespace] ?? NftablesProgrammer(namespace: namespace)
            programmers[namespace] = programmer
            try programmer.apply(old: installed, new: table)
            // Tracked connections keep the translation they were made with; as kube-proxy clears
            // conntrack for changed endpoints, forget them so the next probes are translated anew.
            // Before the first table nothing was translated, so there is nothing to forget (and
            // each flush walks the kernel's whole conntrack hash).
            if installed != nil { try flusher.flush(namespace: namespace) }
        }
        installed = table
        logger.debug("services programmed", metadata: ["services": "\(cluster.services.count)", "namespaces": "\(namespaces.count)"])
        return true
    }
}
