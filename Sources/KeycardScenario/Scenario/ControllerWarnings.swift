import KeycardModel

/// Warnings of the workload controllers that depend on the cluster at a step, said once each at
/// the place the workload in force was written: a StatefulSet pod whose name another pod holds
/// cannot be created (`ClusterChange.creatable`; the controller's FailedCreate event).
enum ControllerWarnings {
    static func collect(_ timeline: Timeline) -> [ScenarioWarning] {
        let scenario = timeline.scenario
        var locations: [WorkloadKey: SourceLocation] = [:]
        func record(_ objects: [LoadedObject]) {
            for loaded in objects { if case .workload(let workload) = loaded.object { locations[workload.key] = loaded.location } }
        }
        for batch in scenario.resourceBatches { record(batch) }
        var seen: Set<String> = []
        var warnings: [ScenarioWarning] = []
        for (index, cluster) in ([timeline.initial] + timeline.states).enumerated() {
            if index > 0, index <= scenario.steps.count, case .apply(let objects) = scenario.steps[index - 1].action { record(objects) }
            for (key, pods) in ClusterChange.blockedStatefulPods(cluster).sorted(by: { $0.key < $1.key }) {
                for pod in pods {
                    let holder = cluster.pods[pod]?.owner.map { "a pod of \($0.workload)" } ?? "a bare pod its selector does not match"
                    let message =
                        "\(key): pod \(pod) cannot be created: that name is taken by \(holder) (the controller's FailedCreate: AlreadyExists), so that ordinal has no pod"
                    guard seen.insert(message).inserted else { continue }
                    warnings.append(ScenarioWarning(location: locations[key] ?? SourceLocation.start(of: scenario.file), message: message))
                }
            }
        }
        return warnings
    }
}
