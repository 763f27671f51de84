import KeycardModel

extension Timeline {
    /// Distinct pods a scenario may make over all its steps (a /16 holds 65,534).
    static let maximumPods = 100_000

    /// Every pod the scenario ever has, in order of appearance, each time it appears anew or
    /// changed: the bare pods of the resources and apply steps, and the pods workload controllers
    /// make (on apply, scale, or to replace a deleted or relabelled pod), placed at the object or
    /// step that made them. The address plan and the lab are built from these, so a pod that only
    /// exists after a rollout or a scale-up already has its address and namespace.
    static func everyPod(_ scenario: Scenario) throws(ScenarioError) -> [LoadedObject] {
        var cluster = Cluster()
        cluster.nodeCount = scenario.lab.nodes
        for name in startingNamespaces(scenario) { cluster.namespaces[name] = Namespace(name: name) }
        var found: [LoadedObject] = []
        var keys: Set<ObjectKey> = []
        var checked = 0
        // Workloads make pods fast (a scale step can add thousands); every one needs an address,
        // so stop at a bound no pod network of the lab could exceed anyway.
        func bounded(at location: SourceLocation) throws(ScenarioError) {
            for loaded in found.suffix(from: checked) { if case .pod(let pod) = loaded.object { keys.insert(pod.key) } }
            checked = found.count
            if keys.count > maximumPods {
                throw ScenarioError(location, "the scenario makes more than \(maximumPods) pods in all; the lab cannot hold them")
            }
        }
        func collect(_ batch: [LoadedObject], at location: SourceLocation, before: [ObjectKey: Pod], after: Cluster) {
            var placed: Set<ObjectKey> = []
            for loaded in batch {
                switch loaded.object {
                case .pod(let pod):
                    found.append(loaded)
                    placed.insert(pod.key)
                case .workload(let workload):
                    for pod in after.pods(of: workload.key) where before[pod.key] != pod {
                        found.append(LoadedObject(.pod(pod), at: loaded.location))
                        placed.insert(pod.key)
                    }
                default: break
                }
            }
            for pod in after.sortedPods where before[pod.key] != pod && !placed.contains(pod.key) {
                found.append(LoadedObject(.pod(pod), at: location))
            }
        }
        let first = scenario.resources.first?.location ?? SourceLocation.start(of: scenario.file)
        var resourcesChange = ClusterChange(scope: "at this step", batch: "resources")
        resourcesChange.serviceCIDR = scenario.lab.serviceCIDR
        try resourcesChange.apply(scenario.resources, to: &cluster) { _ in nil }
        collect(scenario.resources, at: first, before: [:], after: cluster)
        try bounded(at: first)
        for batch in scenario.resourceUpdates {
            let before = cluster.pods
            try resourcesChange.apply(batch, to: &cluster) { _ in nil }
            let location = batch.first?.location ?? first
            collect(batch, at: location, before: before, after: cluster)
            try bounded(at: location)
        }
        var steps = ClusterChange(scope: "at this step", batch: "this apply step")
        steps.serviceCIDR = scenario.lab.serviceCIDR
        steps.clusterDNS = scenario.lab.dns
        for step in scenario.steps {
            let before = cluster.pods
            // The cluster DNS pod is not in this walk: its deletion is refused here, with the reason.
            guard try Self.change(step, by: &steps, in: &cluster, address: { _ in nil }) else { continue }
            let applied: [LoadedObject] = if case .apply(let objects) = step.action { objects } else { [] }
            collect(applied, at: step.location, before: before, after: cluster)
            try bounded(at: step.location)
        }
        return found
    }
}
