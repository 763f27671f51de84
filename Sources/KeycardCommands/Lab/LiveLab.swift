import Foundation
import KeycardLab
import KeycardModel
import KeycardProbe
import KeycardScenario
import KeycardTopology
import KeycardValues

/// A lab left up by `keycard up` or `keycard run --keep`, with the cluster it holds now: the
/// scenario's cluster after the record's base step, with the journal replayed on it.
struct LiveLab {
    let name: String
    let state: LabState
    var record: LiveLabRecord
    let timeline: Timeline
    /// What the API server holds (Pending pods too): the changes apply to it.
    var held: HeldCluster
    /// What runs: `held` without the pods the scheduler keeps Pending. Probes and programs use it.
    private(set) var cluster: Cluster

    var enforcement: Enforcement { Enforcement(rawValue: record.enforcement) ?? .pod }
    /// Audit mode: the rules accept what the policies would drop (`LiveLabRecord.audit`).
    var auditing: Bool { record.audit == true }
    var summary: LabPlanSummary { LabPlanSummary(nodes: state.plan.nodes.count, podCIDR: state.plan.podCIDR) }

    /// Opens lab `name`; a missing lab, record or scenario is a `LiveError`, and so is an input
    /// file changed since the lab came up (`requireInputsUnchanged`) unless `checkingInputs` is
    /// false (`keycard status`, which warns instead).
    static func open(_ name: String, checkingInputs: Bool = true) throws -> LiveLab {
        guard let state = try LabState.read(name), state.phase == .ready else {
            throw LiveError(
                "lab \(name) is not up (no ready state in \(LabPaths.stateFile(name))); "
                    + "bring it up with `keycard up FILE` (a scenario) or `keycard up DIR` (manifests)")
        }
        guard let record = try LiveLabRecord.read(name) else {
            throw LiveError(
                "lab \(name) has no live record (\(LiveLabRecord.path(name))): only labs from `keycard up` or `keycard run --keep` can be changed and probed live"
            )
        }
        guard record.complete != false || state.liveOwner != nil else {
            throw LiveError(
                "lab \(name) did not finish coming up (its keycard up stopped before the policies, Service proxy and lab process were in place); "
                    + "remove it with `keycard down \(name)` and bring it up again")
        }
        // A namespace deleted by hand: a change would fail half-way through programming it (its
        // marker left behind), a probe from or to it would report the missing pod as a policy's
        // verdict. Refused as an incomplete lab is (`keycard status` names it too).
        let present = Set(Lab.namespaces(of: name))
        if let missing = state.plan.namespaces.map(\.name).first(where: { !present.contains($0) }) {
            throw LiveError(
                "lab \(name): its namespace \(missing) is missing (deleted outside keycard?); remove the lab with `keycard down \(name)` and bring it up again"
            )
        }
        let timeline: Timeline
        do {
            if let manifests = record.manifests {
                timeline = try ManifestLoader.timeline(manifests, namespace: record.namespace, name: record.labName)
            } else {
                timeline = try ScenarioLoader.timeline(record.scenario)
            }
        } catch {
            throw LiveError("lab \(name): its scenario no longer loads: \(error)")
        }
        if checkingInputs { try requireInputsUnchanged(name, record: record, files: timeline.scenario.inputFiles) }
        var lab = LiveLab(
            name: name, state: state, record: record, timeline: timeline,
            held: timeline.heldCluster(afterStep: record.baseStep), cluster: timeline.cluster(afterStep: record.baseStep))
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

    /// The one rule on the files a lab was brought up from (its scenario, or its manifests): every
    /// live verb rebuilds the cluster from them, so once one of them changed (`LiveLabRecord.inputs`)
    /// the lab holds what their earlier content made and every verb refuses it (exit 2), whether
    /// it reloads the lab (`open`) or the lab process keeps it loaded; `keycard status` shows the
    /// same refusal as a warning.
    static func requireInputsUnchanged(_ name: String, record: LiveLabRecord, files: [String]) throws {
        guard let recorded = record.inputs else { return }
        let changed = LiveInputDigests.changes(from: recorded, to: LiveInputDigests.of(files))
        if !changed.isEmpty {
            throw LiveError(
                "lab \(name): its input changed since the lab came up: \(changed.joined(separator: ", ")); the lab holds what the "
                    + "earlier content made. Undo the edit and make the change with `keycard apply`, or recreate the lab")
        }
    }

    /// `requireInputsUnchanged` for this lab, as loaded.
    func requireInputsUnchanged() throws {
        try Self.requireInputsUnchanged(name, record: record, files: timeline.scenario.inputFiles)
    }

    /// Refuses (exit 2) a lab whose last change stopped half-way (`LiveChangeMarker`): its kernel
    /// may hold neither the record's cluster nor the change's. `locked`: the caller holds the
    /// lab's lock, so no change is being made (whoever makes one, the lab process included, holds
    /// the lock exclusive until its record is written) and any marker is one left behind; the
    /// bounded wait (`LiveChangeMarker.settled`) only covers a writer not yet gone. Call it before
    /// reading the record: the record read is then the one the kernel holds.
    static func requireSettled(_ lab: String, locked: Bool) throws {
        let marker = locked ? LiveChangeMarker.settled(lab, waitingUpTo: 30) : LiveChangeMarker.interrupted(lab)
        if marker != nil { throw LiveError(LiveChangeMarker.message(lab)) }
    }

    /// The lab process (`keycard serve`) serves the ports of every pod without a `command:` and of
    /// every external (`LabServing.endpoints`). Once it is gone those ports are closed, and a
    /// reader would report every allowed connection to them as a policy failure; the reader is
    /// refused instead (exit 2). A lab whose `keycard run` still runs it serves them itself.
    /// - Parameter needed: whether what the reader sends reaches a port the lab process serves
    ///   (true for a scan, which reaches every pod).
    func requireLabProcess(needed: Bool = true) throws {
        guard needed, state.liveOwner == nil, let server = state.server, !LiveLabServer.isAlive(server) else { return }
        throw LiveError(
            "lab \(name): its lab process \(server.pid) is not running (it serves the pods' ports); keycard down \(name) and up again")
    }

    /// Whether a probe of `destination` reaches a port the lab process serves
    /// (`LabServing.endpoints`), not one a pod's own program (`command:`, the cluster DNS server)
    /// serves, nor a node's, nor a port nothing serves (closed whether the lab process runs or not).
    func isServedByLabProcess(_ destination: Endpoint, port: ProtocolPort) -> Bool {
        // A host's kernel answers an echo request; no process serves it.
        if port.proto == .icmp { return false }
        let served = Set(LabServing.endpoints(state.plan).map { ServedBy(owner: $0.line, proto: $0.proto, port: Int($0.port)) })
        switch destination {
        case .pod(let key): return served.contains(ServedBy(owner: "\(key.namespace)/\(key.name)", proto: port.proto, port: port.port))
        case .external(let name): return served.contains(ServedBy(owner: "external/\(name)", proto: port.proto, port: port.port))
        // The backend is reached on its target port, which the cell does not name: served by the
        // lab process unless the backend runs its own program.
        case .service(_, let backend?), .exposed(_, _, let backend?): return !LabServing.programPods(state.plan).contains(backend)
        case .node, .address: return false
        case .service, .exposed: return true
        }
    }

    /// One port the lab process serves: its owner as `ServedEndpoint.line` names it.
    private struct ServedBy: Hashable {
        var owner: String
        var proto: TransportProtocol
        var port: Int
    }

    /// The scenario must still give every pod the address the running lab gave it.
    private func checkAddresses() throws {
        let planned = Dictionary(uniqueKeysWithValues: state.plan.servingPods.map { (ObjectKey($0.namespace, $0.name), $0.address) })
        for (key, address) in cluster.addresses where planned[key] != address {
            throw LiveError(
                "lab \(name): \(record.scenario) changed since the lab came up (pod \(key) is \(address) in the file, \(planned[key]?.description ?? "absent") in the lab); recreate the lab"
            )
        }
    }

    private mutating func replay(_ change: LiveChange) throws {
        switch change.kind {
        case .apply:
            guard let snapshot = change.snapshot else { throw LiveError("no copy of the file was kept") }
            let (objects, _) = try LiveInput.objects(
                in: snapshot, namespaces: Array(cluster.namespaces.keys), plan: summary, namespace: change.namespace,
                fromManifests: record.manifests != nil)
            try apply(objects)
        case .delete:
            guard let snapshot = change.snapshot else { throw LiveError("no copy of the file was kept") }
            try delete(try ManifestDeletes.targets(in: snapshot, namespace: change.namespace).targets)
        case .label:
            guard let kind = LabelKind(argument: change.objectKind ?? "") else {
                throw LiveError("cannot label a \(change.objectKind ?? "?")")
            }
            try label(kind, change.name ?? "", change.labels ?? [:])
        }
    }

    // MARK: changes, as a scenario's apply/delete/label steps make them

    /// Creates or replaces each object (`ClusterChange`, as a scenario's apply step does). A pod
    /// must be one of the lab's (pods are fixed when a lab comes up) with the ports it was built with.
    @discardableResult
    mutating func apply(_ objects: [LoadedObject]) throws -> [String] {
        var planned: [ObjectKey: PlannedPod] = [:]
        for pod in state.plan.servingPods { planned[ObjectKey(pod.namespace, pod.name)] = pod }
        for loaded in objects {
            guard case .pod(let pod) = loaded.object else { continue }
            guard let lab = planned[pod.key] else {
                throw ScenarioError(
                    loaded.location,
                    "pod \(pod.key) is not in lab \(name): a live lab's pods are fixed when it comes up (declare the pod in the scenario)"
                )
            }
            let ports = Set(pod.ports.map { ServedPort($0.proto, UInt16($0.port)) })
            guard ports == Set(lab.ports) else {
                let list = Set(lab.ports).map { ProtocolPort($0.proto, Int($0.port)) }.sorted().map(\.description)
                throw ScenarioError(
                    loaded.location, "pod \(pod.key) must keep the ports the lab serves for it (\(list.joined(separator: ", ")))")
            }
            if let ip = pod.podIP, ip != lab.address {
                throw ScenarioError(
                    loaded.location, "pod \(pod.key): status.podIP \(ip) differs from its address in the lab, \(lab.address)")
            }
        }
        let done = try changes.apply(objects, to: &held.api) { planned[$0]?.address }
        try requireLabPods()
        return done
    }

    /// The cluster that runs after a change: a pod whose node port was freed is bound now, one
    /// whose port was taken stays Pending (`HeldCluster.running`).
    private mutating func schedule() { cluster = held.running() }

    /// A workload's controller may want pods the lab was not built with (a new template, more
    /// replicas, a replacement for a deleted or relabelled pod): a live lab's pods are fixed.
    /// Runs the scheduler first, so that `cluster` is what runs after the change.
    private mutating func requireLabPods() throws {
        schedule()
        let planned = Set(state.plan.servingPods.map { ObjectKey($0.namespace, $0.name) })
        if let pod = held.api.sortedPods.first(where: { !planned.contains($0.key) }) {
            let who = pod.owner.map { "\($0.workload) wants" } ?? "the change makes"
            throw LiveError(
                "\(who) pod \(pod.key), which is not in lab \(name): a live lab's pods are fixed when it comes up (put the change in the scenario)"
            )
        }
        // `keycard up` refuses meshed pods: a change must not mesh one either, or the lab's
        // probes would be judged without the mesh that the model of the same change applies.
        if let pod = cluster.sortedPods.first(where: { cluster.dataPlane(of: $0.key) != .none }) {
            throw LiveError(
                "the change puts pod \(pod.key) in the mesh (\(cluster.dataPlane(of: pod.key).rawValue)): a live lab does not run the mesh's proxy yet (put the change in a scenario for keycard run, or keycard model)"
            )
        }
    }

    /// Deletes each object (a namespace with its pods and policies); each must exist.
    @discardableResult
    mutating func delete(_ targets: [DeleteTarget]) throws -> [String] {
        let done = try changes.delete(targets, from: &held.api)
        try requireLabPods()
        return done
    }

    /// Replaces the labels of a pod (`ns/name`) or a namespace with exactly `labels` (a namespace
    /// keeps kubernetes.io/metadata.name).
    mutating func label(_ kind: LabelKind, _ target: String, _ labels: Labels) throws {
        let here = SourceLocation.start(of: "keycard label")
        let change: LabelChange
        switch kind {
        case .namespace:
            change = LabelChange(kind: .namespace, namespace: nil, name: target, labels: labels, location: here)
        case .pod:
            guard let key = ObjectKey.parse(target) else { throw LiveError("pod \"\(target)\" must be namespace/name") }
            change = LabelChange(kind: .pod, namespace: key.namespace, name: key.name, labels: labels, location: here)
        }
        do {
            try changes.label(change, in: &held.api)
        } catch {
            throw LiveError(error.message)
        }
        try requireLabPods()
    }

    /// The cluster-change rules, worded for this lab, with its service range and cluster DNS, as
    /// its scenario's steps have them.
    private var changes: ClusterChange {
        var change = ClusterChange(scope: "in lab \(name)", batch: "the file")
        change.serviceCIDR = timeline.scenario.lab.serviceCIDR
        change.clusterDNS = timeline.scenario.lab.dns
        return change
    }

    /// Reprograms the lab for the cluster now held, the tables of `previous` being what the
    /// kernel holds (`LabPolicies` and `LabServices`, as `keycard run` programs a step). Returns
    /// the namespaces whose policies changed. The policy tables are adopted and so rewritten
    /// whole (`PolicyController.adopt`); the Service proxy moves from `previous`'s tables, or,
    /// with `whole` (a change was interrupted: the kernel may hold neither), is rewritten whole
    /// too, and every proxy table the cluster needs none of is removed (`LabServices.assumeUnknown`:
    /// the interrupted change may have made the lab's first Service).
    func program(from previous: Cluster, whole: Bool = false) throws -> Int {
        let policies = makePolicies()
        policies.assumeProgrammed(previous)
        let services = makeServices()
        if whole { services.assumeUnknown() } else { services.assumeProgrammed(previous) }
        let changed = try policies.program(cluster)
        try services.program(cluster)
        try refreshDNS()
        return changed
    }

    /// Gives the lab's cluster DNS server (if any) the records of the cluster now held.
    func refreshDNS() throws {
        let records = DNSRecords(cluster)
        try ClusterDNSServer.refresh(
            plan: state.plan, processes: state.processes, records: records.addresses, cnames: records.cnames,
            podNamespaces: records.podNamespaces.sorted())
    }

    /// A policy programmer for this lab, holding no compiled state yet.
    func makePolicies() -> LabPolicies {
        LabPolicies(
            plan: state.plan, nodes: timeline.plan.podNamespaceNodes, enforcement: enforcement,
            serviceEnforcement: timeline.scenario.lab.serviceEnforcement, audit: auditing)
    }

    /// A Service proxy programmer for this lab (ClusterIPs, node ports, load balancer), holding no
    /// compiled state yet.
    func makeServices() -> LabServices { LabServices(plan: state.plan, enforcement: enforcement) }

    /// Records `change` in the journal (on disk).
    mutating func commit(_ change: LiveChange) throws {
        var change = change
        if let file = change.file, change.snapshot == nil { change.snapshot = try record.snapshot(file) }
        record.journal.append(change)
        try record.write()
    }
}
