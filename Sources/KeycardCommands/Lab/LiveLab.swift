import Foundation
import KeycardLab
import KeycardModel
import KeycardScenario
import KeycardTopology

/// A lab left up by `keycard up` or `keycard run --keep`, with the cluster it holds now: the
/// scenario's cluster after the record's base step, with the journal replayed on it.
struct LiveLab {
    let name: String
    let state: LabState
    var record: LiveLabRecord
    let timeline: Timeline
    var cluster: Cluster

    var enforcement: Enforcement { Enforcement(rawValue: record.enforcement) ?? .pod }
    var summary: LabPlanSummary { LabPlanSummary(nodes: state.plan.nodes.count, podCIDR: state.plan.podCIDR.description) }

    /// Opens lab `name`; a missing lab, record or scenario is a `LiveError`.
    static func open(_ name: String) throws -> LiveLab {
        guard let state = try LabState.read(name), state.phase == .ready else {
            throw LiveError("lab \(name) is not up (no ready state in \(LabPaths.stateFile(name))); bring it up with `keycard up FILE`")
        }
        guard let record = try LiveLabRecord.read(name) else {
            throw LiveError(
                "lab \(name) has no live record (\(LiveLabRecord.path(name))): only labs from `keycard up` or `keycard run --keep` can be changed and probed live"
            )
        }
        let timeline: Timeline
        do {
            timeline = try ScenarioLoader.timeline(record.scenario)
        } catch {
            throw LiveError("lab \(name): its scenario no longer loads: \(error)")
        }
        var lab = LiveLab(
            name: name, state: state, record: record, timeline: timeline,
            cluster: timeline.cluster(afterStep: record.baseStep))
        try lab.checkAddresses()
        for (index, change) in record.journal.enumerated() {
            do {
                try lab.replay(change)
            } catch {
                throw LiveError("lab \(name): change \(index + 1) of its journal (\(change.description)) no longer applies: \(error)")
            }
        }
        return lab
    }

    /// The scenario must still give every pod the address the running lab gave it.
    private func checkAddresses() throws {
        let planned = Dictionary(uniqueKeysWithValues: state.plan.pods.map { (ObjectKey($0.namespace, $0.name), $0.address.description) })
        for (key, address) in cluster.addresses where planned[key] != address.description {
            throw LiveError(
                "lab \(name): \(record.scenario) changed since the lab came up (pod \(key) is \(address) in the file, \(planned[key] ?? "absent") in the lab); recreate the lab"
            )
        }
    }

    private mutating func replay(_ change: LiveChange) throws {
        switch change.kind {
        case .apply, .delete:
            guard let snapshot = change.snapshot else { throw LiveError("no copy of the file was kept") }
            let (objects, _) = try LiveInput.objects(in: snapshot, namespaces: Array(cluster.namespaces.keys), plan: summary)
            if change.kind == .apply { try apply(objects) } else { try delete(objects) }
        case .label:
            try label(change.objectKind ?? "", change.name ?? "", change.labels ?? [:])
        }
    }

    // MARK: changes, as a scenario's apply/delete/label steps make them

    /// Creates or replaces each object. A pod must be one of the lab's (pods are fixed when a lab
    /// comes up) with the ports it was built with.
    @discardableResult
    mutating func apply(_ objects: [LoadedObject]) throws -> [String] {
        var done: [String] = []
        // One batch is one desired state: its namespaces first (as Timeline applies a step).
        for loaded in objects.filter({ $0.object.ref.kind == .namespace }) + objects.filter({ $0.object.ref.kind != .namespace }) {
            let existed: Bool
            switch loaded.object {
            case .namespace(let namespace):
                if namespace.name == "external" {
                    throw ScenarioError(loaded.location, "namespace \"external\" is reserved: probes name externals as external/NAME")
                }
                existed = cluster.namespaces[namespace.name] != nil
                cluster.namespaces[namespace.name] = namespace
            case .pod(let pod):
                try requireNamespace(pod.namespace, loaded.location, "pod \(pod.key)")
                guard let planned = state.plan.pods.first(where: { $0.namespace == pod.namespace && $0.name == pod.name }) else {
                    throw ScenarioError(
                        loaded.location,
                        "pod \(pod.key) is not in lab \(name): a live lab's pods are fixed when it comes up (declare the pod in the scenario)"
                    )
                }
                let ports = Set(pod.ports.map { "\($0.proto.rawValue.lowercased())/\($0.port)" })
                let servedPorts = Set(planned.ports.map { "\($0.proto.rawValue)/\($0.port)" })
                guard ports == servedPorts else {
                    throw ScenarioError(
                        loaded.location,
                        "pod \(pod.key) must keep the ports the lab serves for it (\(servedPorts.sorted().joined(separator: ", ")))")
                }
                if let ip = pod.podIP, ip.description != planned.address.description {
                    throw ScenarioError(
                        loaded.location, "pod \(pod.key): status.podIP \(ip) differs from its address in the lab, \(planned.address)")
                }
                existed = cluster.pods[pod.key] != nil
                cluster.pods[pod.key] = pod
                cluster.addresses[pod.key] = IPv4(planned.address.description)
            case .networkPolicy(let policy):
                try requireNamespace(policy.namespace, loaded.location, "NetworkPolicy \(policy.key)")
                existed = cluster.policies[policy.key] != nil
                cluster.policies[policy.key] = policy
            }
            done.append("\(loaded.object.ref) \(existed ? "configured" : "created")")
        }
        return done
    }

    /// Deletes each object (a namespace with its pods and policies); each must exist.
    @discardableResult
    mutating func delete(_ objects: [LoadedObject]) throws -> [String] {
        var done: [String] = []
        for loaded in objects {
            let ref = loaded.object.ref
            let missing = ScenarioError(loaded.location, "\(ref) does not exist in lab \(name)")
            switch ref.kind {
            case .namespace:
                guard cluster.namespaces.removeValue(forKey: ref.name) != nil else { throw missing }
                for key in cluster.pods.keys where key.namespace == ref.name { cluster.pods[key] = nil }
                for key in cluster.policies.keys where key.namespace == ref.name { cluster.policies[key] = nil }
            case .pod:
                guard cluster.pods.removeValue(forKey: ObjectKey(ref.namespace ?? "default", ref.name)) != nil else { throw missing }
            case .networkPolicy:
                guard cluster.policies.removeValue(forKey: ObjectKey(ref.namespace ?? "default", ref.name)) != nil else { throw missing }
            }
            done.append("\(ref) deleted")
        }
        return done
    }

    /// Replaces the labels of a pod (`ns/name`) or a namespace with exactly `labels` (a namespace
    /// keeps kubernetes.io/metadata.name).
    mutating func label(_ kind: String, _ target: String, _ labels: Labels) throws {
        switch kind {
        case "namespace":
            guard cluster.namespaces[target] != nil else { throw LiveError("namespace \(target) does not exist in lab \(name)") }
            cluster.namespaces[target]?.setLabels(labels)
        case "pod":
            guard let key = ObjectKey.parse(target) else { throw LiveError("pod \"\(target)\" must be namespace/name") }
            guard cluster.pods[key] != nil else { throw LiveError("pod \(key) does not exist in lab \(name)") }
            cluster.pods[key]?.labels = labels
        default:
            throw LiveError("can label a pod or a namespace, not \"\(kind)\"")
        }
    }

    private func requireNamespace(_ namespace: String, _ location: SourceLocation, _ what: String) throws {
        guard cluster.namespaces[namespace] != nil else {
            throw ScenarioError(location, "\(what): namespace \"\(namespace)\" does not exist (declare a Namespace first)")
        }
    }

    /// Records `change` in the journal (on disk).
    mutating func commit(_ change: LiveChange) throws {
        record.journal.append(change)
        try record.write()
    }
}
