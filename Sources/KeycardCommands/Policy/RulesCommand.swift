import ArgumentParser
import KeycardCompiler
import KeycardModel
import KeycardProbe
import KeycardRuleset
import KeycardScenario

/// `keycard rules FILE`: the nftables rules keycard would program, in nft syntax (no root needed).
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Print the nftables ruleset keycard compiles for a pod or node, in nft syntax (no root needed).",
        discussion:
            "Without --pod or --node every table is printed, with the Service proxy (ClusterIP DNAT) and node-port tables. Without --after-step the state after the last step is used. Plain manifests (files or folders) are one cluster, as for keycard model; -n and --mesh read them as there."
    )

    @OptionGroup var logging: LoggingOptions

    @Argument(help: "A scenario file, or plain Kubernetes manifests (files or folders) as one cluster.") var files: [String]
    @OptionGroup var manifests: ManifestOptions
    @Option(help: "Only this pod's table (pod enforcement), as namespace/name.") var pod: String?
    @Option(help: "Only this node's table (node enforcement), like node-0.") var node: String?
    @Option(help: "The state after this step (0: after the resources).") var afterStep: Int?
    @Option(help: "pod or node; overrides spec.lab.enforcement.") var enforcement: Enforcement?

    func validate() throws {
        if pod != nil && node != nil { throw ValidationError("give --pod or --node, not both") }
        if let pod, ObjectKey.parse(pod) == nil { throw ValidationError("--pod must be namespace/name") }
        if let node, AddressPlan.nodeIndex(node) == nil { throw ValidationError("--node must be like node-0") }
        // --pod prints a pod's table and --node a node's: each names its placement, and a contrary
        // --enforcement asks for a table that placement does not have.
        if pod != nil, enforcement == .node {
            throw ValidationError("--pod shows pod enforcement's table; with --enforcement node, give --node")
        }
        if node != nil, enforcement == .pod {
            throw ValidationError("--node shows node enforcement's table; with --enforcement pod, give --pod")
        }
    }

    func run() throws {
        logging.apply()
        // One cluster state is read, never a probe step's cells: a step over the cell limit only warns.
        let timeline = try ScenarioInput.loadOne(files, manifests, for: "rules", cellLimit: .warn)
        let scenario = timeline.scenario
        let step = try ScenarioInput.step(afterStep, of: timeline)
        var mode = enforcement ?? scenario.lab.enforcement
        if pod != nil { mode = .pod }
        if node != nil { mode = .node }
        // The tables `keycard run` programs (`ScenarioRun`): the tiers' and mesh's layouts and the
        // pre-DNAT egress hook when the scenario needs them.
        var compiler = PolicyCompiler(labName: scenario.name, placement: mode.placement)
        compiler.tiers = timeline.usesClusterPolicies
        compiler.audit = scenario.lab.mode == .audit
        compiler.meshLayout = LabMeshRedirect.needsMeshLayout(timeline)
        if scenario.lab.serviceEnforcement == .preDNAT { compiler.egressPriority = PolicyCompiler.preDNATEgressPriority }
        let cluster = timeline.cluster(afterStep: step)
        let tables = compiler.compile(cluster, nodes: timeline.plan.podNamespaceNodes, nodeCount: scenario.lab.nodes)
        var targets = tables.keys.sorted()
        if let pod, let key = ObjectKey.parse(pod) {
            if cluster.isHostNetwork(key) {
                let node = cluster.podNodes[key].map { " node-\($0)'s" } ?? " its node's"
                Console.error(
                    "pod \(key) uses the host network: it runs in\(node) network namespace and has no table of its own (no policy selects it)"
                )
                throw Exit.invalid
            }
            targets = targets.filter { $0 == .pod(key) }
            if targets.isEmpty {
                Console.error("pod \(key) does not exist after step \(step)")
                throw Exit.invalid
            }
        }
        if let node, let index = AddressPlan.nodeIndex(node) {
            targets = targets.filter { $0 == .node(index) }
            if targets.isEmpty {
                Console.error("\(node) is not a node of this lab (it has \(scenario.lab.nodes))")
                throw Exit.invalid
            }
        }
        for target in targets {
            guard let table = tables[target] else { continue }
            Console.out("# \(target), after step \(step) of \(scenario.steps.count)")
            Console.out(table.nftText())
        }
        let podNode = pod.flatMap(ObjectKey.parse).map { cluster.podNodes[$0] ?? 0 }
        printServiceProxy(cluster, timeline, step: step, placement: mode.placement, podNode: podNode)
        if pod == nil { printNodePorts(timeline, step: step) }
    }

    /// The Service proxy table (`ServiceProxyCompiler`, ClusterIP DNAT as kube-proxy's nftables
    /// mode) that goes into each pod's namespace (pod placement) or each node's (node placement),
    /// for the nodes asked for: one copy for nodes whose tables are the same (they differ only for
    /// `internalTrafficPolicy: Local` Services).
    private func printServiceProxy(_ cluster: Cluster, _ timeline: Timeline, step: Int, placement: Placement, podNode: Int?) {
        let compiler = ServiceProxyCompiler(labName: timeline.scenario.name, placement: placement)
        let nodes = podNode.map { [$0] } ?? node.flatMap(AddressPlan.nodeIndex).map { [$0] } ?? Array(0..<timeline.scenario.lab.nodes)
        var groups: [(table: Table, nodes: [Int])] = []
        for index in nodes {
            guard let table = compiler.compile(cluster, node: index) else { continue }
            if let found = groups.firstIndex(where: { $0.table == table }) {
                groups[found].nodes.append(index)
            } else {
                groups.append((table, [index]))
            }
        }
        for group in groups {
            let names = group.nodes.map { "node-\($0)" }.joined(separator: ", ")
            let place = placement == .pod ? "in each pod namespace of \(names)" : "in \(names)"
            Console.out("# Service proxy (ClusterIP DNAT), \(place), after step \(step) of \(timeline.scenario.steps.count)")
            Console.out(group.table.nftText())
        }
    }

    /// The node-port tables of the nodes asked for (every node without --node) and, without
    /// --node, the router's load balancer: in every placement, when some Service has them.
    private func printNodePorts(_ timeline: Timeline, step: Int) {
        let cluster = timeline.cluster(afterStep: step)
        let steps = timeline.scenario.steps.count
        let nodes = node.flatMap(AddressPlan.nodeIndex).map { [$0] } ?? Array(0..<timeline.scenario.lab.nodes)
        for index in nodes {
            guard let table = NodePortCompiler(labName: timeline.scenario.name).compile(cluster, node: index) else { continue }
            Console.out("# node-\(index) node ports, after step \(step) of \(steps)")
            Console.out(table.nftText())
        }
        if node == nil, let table = LoadBalancerCompiler(labName: timeline.scenario.name).compile(cluster) {
            Console.out("# router (the load balancer), after step \(step) of \(steps)")
            Console.out(table.nftText())
        }
    }
}
