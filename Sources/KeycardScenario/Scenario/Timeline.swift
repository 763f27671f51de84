import KeycardModel

/// The scenario played on the model: the cluster at every step, with every reference checked.
public struct Timeline: Sendable {
    public let scenario: Scenario
    public let plan: AddressPlan
    /// The cluster after the resources, before step 1.
    public let initial: Cluster
    /// `states[i]` is the cluster in force at step i+1, after that step's own change.
    public let states: [Cluster]
    /// Probe steps with their defaults filled in, by step index.
    public let probes: [Int: ResolvedProbe]
    /// Everything worth saying that did not make the scenario invalid: the loader's warnings, then
    /// the address plan's.
    public var warnings: [ScenarioWarning] { scenario.warnings + plan.warnings + meshWarnings }
    /// Warnings that depend on the cluster at some step (spec mesh.md 2.3), each said once.
    public private(set) var meshWarnings: [ScenarioWarning] = []
    /// Whether reports carry the mesh: the file writes `spec.mesh` or an Istio object, or some pod
    /// is meshed at some step. Otherwise everything behaves as without the mesh.
    public private(set) var usesMesh = false

    /// Namespaces every cluster has.
    public static let builtinNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"]

    public init(_ scenario: Scenario) throws(ScenarioError) {
        self.scenario = scenario
        var everyPod = scenario.resources
        for step in scenario.steps { if case .apply(let objects) = step.action { everyPod += objects } }
        plan = try AddressPlan(pods: everyPod, settings: scenario.lab)

        var cluster = Cluster()
        // Every pod of the scenario has its address from the start, present or not: the lab holds
        // them all, and cuts off those that do not exist at a step.
        cluster.addresses = plan.addresses
        for external in scenario.externals { cluster.externals[external.name] = external }
        for name in Self.builtinNamespaces { cluster.namespaces[name] = Namespace(name: name) }
        cluster.mesh = scenario.mesh
        // spec mesh.md 2.1: the root namespace exists without being declared.
        if scenario.mentionsMesh, cluster.namespaces[scenario.mesh.rootNamespace] == nil {
            cluster.namespaces[scenario.mesh.rootNamespace] = Namespace(name: scenario.mesh.rootNamespace)
        }
        let addresses = plan.addresses
        try ClusterChange(scope: "at this step", batch: "resources").apply(scenario.resources, to: &cluster) { addresses[$0] }
        initial = cluster

        var states: [Cluster] = []
        var probes: [Int: ResolvedProbe] = [:]
        let steps = ClusterChange(scope: "at this step", batch: "this apply step")
        for step in scenario.steps {
            switch step.action {
            case .apply(let objects): try steps.apply(objects, to: &cluster) { addresses[$0] }
            case .delete(let targets): try steps.delete(targets, from: &cluster)
            case .label(let change): try steps.label(change, in: &cluster)
            case .probe(let probe): probes[step.index] = try ResolvedProbe(probe, step: step, cluster: cluster)
            case .scan(let scan): try Self.check(scan, step: step, cluster: cluster)
            }
            states.append(cluster)
        }
        self.states = states
        self.probes = probes
        usesMesh = scenario.mentionsMesh || ([initial] + states).contains { $0.hasMeshedPods }
        if usesMesh { meshWarnings = MeshWarnings.collect(self) }
    }

    /// The cluster in force after step `index` (0: after the resources).
    public func cluster(afterStep index: Int) -> Cluster {
        index <= 0 ? initial : states[min(index, states.count) - 1]
    }

    private static func check(_ scan: ScanStep, step: Step, cluster: Cluster) throws(ScenarioError) {
        guard cluster.pods[scan.from] != nil else {
            throw ScenarioError(step.location, "scan.from: pod \(scan.from) does not exist at this step")
        }
        for endpoint in scan.expectOpen ?? [] {
            if case .pod(let key) = endpoint.host, cluster.pods[key] == nil {
                throw ScenarioError(step.location, "expect.open: pod \(key) does not exist at this step")
            }
        }
    }
}
