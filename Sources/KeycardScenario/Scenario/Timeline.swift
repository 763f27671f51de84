import KeycardModel
import KeycardValues

/// The scenario played on the model: the cluster at every step, with every reference checked.
public struct Timeline: Sendable {
    public let scenario: Scenario
    public let plan: AddressPlan
    /// Every pod that ever exists, bare or made by a workload, as `everyPod(_:)` finds them.
    public let everyPod: [LoadedObject]
    /// The cluster after the resources, before step 1. Like `states`, it holds the pods that run:
    /// a pod the NodePorts filter keeps Pending (`NodePortsScheduler`) is left out.
    public let initial: Cluster
    /// `states[i]` is the cluster in force at step i+1, after that step's own change.
    public let states: [Cluster]
    /// Probe steps with their defaults filled in, by step index.
    public let probes: [Int: ResolvedProbe]
    /// Scan steps with their sources and expectations resolved, by step index.
    public let scans: [Int: ResolvedScan]
    /// Every target port a Service sends each pod at some moment of the scenario, declared as a
    /// container port or not: applications listen without declaring, and a backend must answer
    /// whatever its Services send it. The lab serves these from the start (`LabSpec(timeline:)`).
    public let serviceTargetPorts: [ObjectKey: Set<ProtocolPort>]
    /// The resolv.conf of the lab's nodes as the kubelet reads it: its search domains follow the
    /// cluster's in a ClusterFirst pod's file (`resolvConf(of:atStep:)`). This machine's
    /// (`machineResolvConf`), which the lab writes pods' files from.
    public var nodeResolvConf = Timeline.machineResolvConf
    /// Everything worth saying that did not make the scenario invalid: the loader's warnings, then
    /// the address plan's.
    public var warnings: [ScenarioWarning] { warningsBesidesScheduling + schedulingWarnings }
    /// `warnings` but the scheduler's (`schedulingWarnings`), which speak of this cluster only.
    public var warningsBesidesScheduling: [ScenarioWarning] {
        scenario.warnings + plan.warnings + meshWarnings + controllerWarnings + cellLimitWarnings
    }
    /// Warnings that depend on the cluster at some step (spec mesh.md 2.3), each said once.
    public private(set) var meshWarnings: [ScenarioWarning] = []
    /// StatefulSet pods another pod's name keeps from being created (`ControllerWarnings`).
    public private(set) var controllerWarnings: [ScenarioWarning] = []
    /// Whether reports carry the mesh: the file writes `spec.mesh` or an Istio object, or some pod
    /// is meshed at some step. Otherwise everything behaves as without the mesh.
    public private(set) var usesMesh = false
    /// Probe steps over `ResolvedProbe.maximumCells`, loaded with `CellLimit.warn`: one warning each.
    public private(set) var cellLimitWarnings: [ScenarioWarning] = []
    /// Pods kept from running by a node port another pod of their node holds (`NodePortsScheduler`):
    /// one warning each.
    public private(set) var schedulingWarnings: [ScenarioWarning] = []
    /// `held[i]`: what the API server holds after step i (0: after the resources) and the
    /// scheduler then, from which `cluster(afterStep: i)` came; a live lab goes on from it.
    private let held: [HeldCluster]
    /// `epochs[i]`: how many steps up to step i (0: the resources) could change the cluster; two
    /// steps of one epoch see the same cluster (probe, scan and dns steps change nothing), so
    /// what is derived from a state is derived once per epoch.
    private let epochs: [Int]
    /// Cluster DNS's records per epoch, built when first asked for (`dnsRecords(afterStep:)`).
    private let dnsRecordsCache = EpochCache<DNSRecords>()

    /// Pods that are keycard's, not the scenario's: the cluster DNS pod when `spec.lab.dns` is on
    /// (`ClusterDNS`; manifests that bring their own kube-dns turn it off, and their pod is theirs).
    /// Default probe sources and destinations leave them out.
    public var keycardPods: Set<ObjectKey> { Self.keycardPods(of: scenario) }

    /// The pods the connectivity graph and diff leave out: keycard's own in manifests mode, where
    /// the user wrote none of them and none is a probe source or destination (the `dns` steps judge
    /// DNS). A scenario keeps them: its author turned cluster DNS on, and its pods' egress to the DNS
    /// pod is part of what it reviews (docs/review.md).
    public var unpairedPods: Set<ObjectKey> { scenario.fromManifests ? keycardPods : [] }

    static func keycardPods(of scenario: Scenario) -> Set<ObjectKey> { scenario.lab.dns ? [ClusterDNS.podKey] : [] }

    /// Namespaces every cluster has.
    public static let builtinNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"]

    /// The namespaces a scenario's cluster has before its resources: the built-in ones, and the
    /// mesh's root namespace when the scenario uses the mesh (spec mesh.md 2.1: it exists without
    /// being declared).
    static func startingNamespaces(_ scenario: Scenario) -> [String] {
        let root = scenario.mesh.rootNamespace
        return builtinNamespaces + (scenario.mentionsMesh && !builtinNamespaces.contains(root) ? [root] : [])
    }

    /// Plays `scenario` on the model. `cellLimit`: whether a probe step over
    /// `ResolvedProbe.maximumCells` is refused (the default) or loaded with a warning.
    public init(_ scenario: Scenario, cellLimit: CellLimit = .refuse) throws(ScenarioError) {
        self.scenario = scenario
        everyPod = try Self.everyPod(scenario)
        // The cluster DNS pod comes last, so enabling DNS moves no scenario pod's address.
        let dnsPod =
            scenario.lab.dnsLocation.map {
                [ClusterDNS.podObject(at: $0), ClusterDNS.serviceObject(at: $0, serviceCIDR: scenario.lab.serviceCIDR)]
            } ?? []
        let applied =
            scenario.resourceBatches.flatMap { $0 }
            + scenario.steps.flatMap { step -> [LoadedObject] in
                if case .apply(let objects) = step.action { objects } else { [] }
            }
        try Self.checkReserved(everyPod + applied, dns: scenario.lab.dns)
        plan = try AddressPlan(pods: everyPod + dnsPod, settings: scenario.lab)

        var cluster = Cluster()
        cluster.nodeCount = scenario.lab.nodes
        // Every pod of the scenario has its address from the start, present or not: the lab holds
        // them all, and cuts off those that do not exist at a step.
        cluster.addresses = plan.addresses
        cluster.serviceEnforcement = scenario.lab.serviceEnforcement
        cluster.podNodes = plan.nodes
        cluster.nodeIngress = scenario.lab.nodeIngress
        cluster.loadBalancerCIDR = scenario.lab.loadBalancerCIDR
        for external in scenario.externals { cluster.externals[external.name] = external }
        try Self.checkSourceNames(everyPod, cluster)
        for name in Self.startingNamespaces(scenario) { cluster.namespaces[name] = Namespace(name: name) }
        cluster.mesh = scenario.mesh
        let addresses = plan.addresses
        var resourcesChange = ClusterChange(scope: "at this step", batch: "resources")
        resourcesChange.serviceCIDR = scenario.lab.serviceCIDR
        try resourcesChange.apply(dnsPod + scenario.resources, to: &cluster) { addresses[$0] }
        for batch in scenario.resourceUpdates { try resourcesChange.apply(batch, to: &cluster) { addresses[$0] } }
        try Self.checkHostPorts(
            cluster, everyPod: everyPod, at: scenario.resources.first?.location ?? SourceLocation.start(of: scenario.file))
        // `cluster` is what the API server holds; the states are what runs (without the pods the
        // NodePorts filter keeps Pending).
        var scheduler = NodePortsScheduler(everyPod: everyPod)
        initial = scheduler.running(cluster)
        var held = [HeldCluster(api: cluster, scheduler: scheduler)]

        var states: [Cluster] = []
        var epochs = [0]
        var probes: [Int: ResolvedProbe] = [:]
        var scans: [Int: ResolvedScan] = [:]
        var oversized: [ScenarioWarning] = []
        var steps = ClusterChange(scope: "at this step", batch: "this apply step")
        steps.serviceCIDR = scenario.lab.serviceCIDR
        steps.clusterDNS = scenario.lab.dns
        for step in scenario.steps {
            let changed = try Self.change(step, by: &steps, in: &cluster) { addresses[$0] }
            if !plan.hostNetwork.isEmpty { try Self.checkHostPorts(cluster, everyPod: everyPod, at: step.location) }
            let running = scheduler.running(cluster)
            held.append(HeldCluster(api: cluster, scheduler: scheduler))
            switch step.action {
            case .probe(let probe):
                let resolved = try ResolvedProbe(probe, step: step, cluster: running, hidden: Self.keycardPods(of: scenario))
                let remedy = scenario.fromManifests ? ResolvedProbe.manifestsRemedy : ResolvedProbe.nameFewer
                if let problem = resolved.cellLimitProblem(step, remedy: remedy) {
                    if cellLimit == .refuse { throw problem }
                    oversized.append(
                        ScenarioWarning(
                            location: problem.location,
                            message: problem.message + " (keycard model and run refuse this step; graph draws no denied edge of it)"))
                }
                probes[step.index] = resolved
            case .scan(let scan): scans[step.index] = try ResolvedScan(scan, step: step, cluster: running)
            case .dns(let dns): try Self.check(dns, step: step, cluster: running, enabled: scenario.lab.dns)
            case .apply, .delete, .label, .scale, .rotate: break
            }
            states.append(running)
            epochs.append(changed ? epochs.count : epochs[epochs.count - 1])
        }
        self.states = states
        self.epochs = epochs
        var targets: [ObjectKey: Set<ProtocolPort>] = [:]
        for (index, state) in ([initial] + states).enumerated()
        where !state.services.isEmpty && (index == 0 || epochs[index] != epochs[index - 1]) {
            targets.merge(state.serviceTargetPorts()) { $0.union($1) }
        }
        serviceTargetPorts = targets
        self.held = held
        self.probes = probes
        self.scans = scans
        cellLimitWarnings = oversized
        schedulingWarnings = scheduler.warnings
        usesMesh =
            scenario.mentionsMesh
            || ([initial] + states).enumerated().contains { index, state in
                (index == 0 || epochs[index] != epochs[index - 1]) && state.hasMeshedPods
            }
        if usesMesh { meshWarnings = MeshWarnings.collect(self) }
        controllerWarnings = ControllerWarnings.collect(self)
        if !usesMesh, let rotate = scenario.steps.first(where: { $0.kind == .rotate }) {
            throw ScenarioError(rotate.location, "rotate needs the mesh: no pod of this scenario is in it and no Istio object exists")
        }
    }

    /// The cluster in force after step `index` (0: after the resources).
    public func cluster(afterStep index: Int) -> Cluster {
        index <= 0 ? initial : states[min(index, states.count) - 1]
    }

    /// Cluster DNS's records after step `index`, built once per run of steps that change nothing.
    public func dnsRecords(afterStep index: Int) -> DNSRecords {
        let epoch = epochs[max(0, min(index, states.count))]
        return dnsRecordsCache.value(for: epoch) { DNSRecords(cluster(afterStep: index)) }
    }

    /// What the API server holds after step `index` (0: after the resources), Pending pods
    /// included, with the scheduler's state then: `cluster(afterStep:)` is what it runs.
    public func heldCluster(afterStep index: Int) -> HeldCluster {
        held[max(0, min(index, held.count - 1))]
    }
}

/// The objects the API server holds and the scheduler that binds their pods (`NodePortsScheduler`):
/// a change applies to `api`, and `running()` gives the cluster that runs, binding a Pending pod
/// once the node port it waits for is free. A live lab keeps one across its changes.
public struct HeldCluster: Sendable {
    /// Every object, Pending pods included, as the cluster-change rules (`ClusterChange`) see them.
    public var api: Cluster
    var scheduler: NodePortsScheduler

    /// The cluster that runs now, without the pods kept Pending or refused for their node ports.
    public mutating func running() -> Cluster { scheduler.running(api) }

    /// One warning per pod the scheduler has kept from running, in the order it did.
    public var schedulingWarnings: [ScenarioWarning] { scheduler.warnings }
}
