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
    public var warnings: [ScenarioWarning] { scenario.warnings + plan.warnings }

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
        try Self.apply(scenario.resources, to: &cluster, plan: plan, what: "resources")
        initial = cluster

        var states: [Cluster] = []
        var probes: [Int: ResolvedProbe] = [:]
        for step in scenario.steps {
            switch step.action {
            case .apply(let objects): try Self.apply(objects, to: &cluster, plan: plan, what: "this apply step")
            case .delete(let targets): try Self.delete(targets, from: &cluster)
            case .label(let change): try Self.label(change, in: &cluster)
            case .probe(let probe): probes[step.index] = try ResolvedProbe(probe, step: step, cluster: cluster)
            case .scan(let scan): try Self.check(scan, step: step, cluster: cluster)
            }
            states.append(cluster)
        }
        self.states = states
        self.probes = probes
    }

    /// The cluster in force after step `index` (0: after the resources).
    public func cluster(afterStep index: Int) -> Cluster {
        index <= 0 ? initial : states[min(index, states.count) - 1]
    }

    /// Applies one batch as one desired state: its Namespaces first, so a pod or policy may come
    /// before its namespace in the files (as in a folder applied twice with `kubectl apply -f`).
    private static func apply(_ objects: [LoadedObject], to cluster: inout Cluster, plan: AddressPlan, what: String) throws(ScenarioError) {
        var seen: [ObjectRef: SourceLocation] = [:]
        for loaded in objects {
            let ref = loaded.object.ref
            if let first = seen[ref] { throw ScenarioError(loaded.location, "\(ref) appears twice in \(what) (first at \(first))") }
            seen[ref] = loaded.location
        }
        let namespacesFirst = objects.filter { $0.object.ref.kind == .namespace } + objects.filter { $0.object.ref.kind != .namespace }
        for loaded in namespacesFirst {
            switch loaded.object {
            case .namespace(let namespace):
                if namespace.name == "external" {
                    throw ScenarioError(loaded.location, "namespace \"external\" is reserved: probes name externals as external/NAME")
                }
                cluster.namespaces[namespace.name] = namespace
            case .pod(let pod):
                try requireNamespace(pod.namespace, cluster, loaded.location, for: "pod \(pod.key)")
                cluster.pods[pod.key] = pod
                cluster.addresses[pod.key] = plan.addresses[pod.key]
            case .networkPolicy(let policy):
                try requireNamespace(policy.namespace, cluster, loaded.location, for: "NetworkPolicy \(policy.key)")
                cluster.policies[policy.key] = policy
            }
        }
    }

    private static func requireNamespace(_ name: String, _ cluster: Cluster, _ location: SourceLocation, for what: String) throws(ScenarioError) {
        guard cluster.namespaces[name] != nil else {
            throw ScenarioError(location, "\(what): namespace \"\(name)\" does not exist (declare a Namespace first)")
        }
    }

    private static func delete(_ targets: [DeleteTarget], from cluster: inout Cluster) throws(ScenarioError) {
        for target in targets {
            let ref = target.ref
            switch ref.kind {
            case .namespace:
                guard cluster.namespaces.removeValue(forKey: ref.name) != nil else { throw missing(ref, target.location) }
                // Deleting a namespace deletes what lives in it.
                for key in cluster.pods.keys where key.namespace == ref.name { cluster.pods[key] = nil }
                for key in cluster.policies.keys where key.namespace == ref.name { cluster.policies[key] = nil }
            case .pod:
                guard cluster.pods.removeValue(forKey: ObjectKey(ref.namespace ?? "default", ref.name)) != nil else {
                    throw missing(ref, target.location)
                }
            case .networkPolicy:
                guard cluster.policies.removeValue(forKey: ObjectKey(ref.namespace ?? "default", ref.name)) != nil else {
                    throw missing(ref, target.location)
                }
            }
        }
    }

    private static func label(_ change: LabelChange, in cluster: inout Cluster) throws(ScenarioError) {
        switch change.kind {
        case .namespace:
            guard cluster.namespaces[change.name] != nil else { throw missing(change.ref, change.location) }
            cluster.namespaces[change.name]?.setLabels(change.labels)
        default:
            let key = ObjectKey(change.namespace ?? "default", change.name)
            guard cluster.pods[key] != nil else { throw missing(change.ref, change.location) }
            cluster.pods[key]?.labels = change.labels
        }
    }

    private static func missing(_ ref: ObjectRef, _ location: SourceLocation) -> ScenarioError {
        ScenarioError(location, "\(ref) does not exist at this step")
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
