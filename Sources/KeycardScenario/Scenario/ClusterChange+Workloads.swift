import KeycardModel
import KeycardValues

/// `scale:` step: set a workload's `spec.replicas`, as `kubectl scale` does.
public struct ScaleChange: Sendable {
    public var workload: WorkloadKey
    public var replicas: Int
    public var location: SourceLocation

}

extension ClusterChange {
    /// Creates or updates a workload and lets its controller create, keep or replace its pods.
    /// Immutable fields stay as the API server keeps them: an apps/v1 or Job `spec.selector`, a
    /// Job's `spec.template`, a StatefulSet's `Workload.fixedSpec`.
    func applyWorkload(
        _ workload: Workload, at location: SourceLocation, to cluster: inout Cluster, address: (ObjectKey) -> IPv4?,
        locations: [String: SourceLocation] = [:]
    ) throws(ScenarioError) {
        if var state = cluster.workloads[workload.key] {
            let old = state.workload
            var workload = workload
            // A ReplicationController's selector defaulted from its template's labels is stored;
            // an update whose manifest, like the last applied one, writes none keeps it (kubectl
            // apply's three-way merge sends no `spec.selector`, and `SetDefaults_ReplicationController`
            // fills only an empty one), and the API server then checks the new template against
            // it (`ValidatePodTemplateSpecForRC`).
            if workload.kind == .replicationController, !workload.selectorWritten, !old.selectorWritten {
                workload.selector = old.selector
                guard workload.selector.matches(workload.template.labels) else {
                    throw ScenarioError(
                        locations[ObjectDecoder.templateLabelsField] ?? location,
                        "ReplicationController \(workload.namespace)/\(workload.name): spec.template.metadata.labels: Invalid value: map[\(workload.template.labels.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " "))]: `selector` does not match template `labels` (the selector defaulted when it was created, \(old.selector), is kept: kubectl apply does not send a field neither the last applied manifest nor this one writes; write spec.selector)"
                    )
                }
            }
            // apps/v1 selectors are immutable: the registry's `ValidateUpdate` (pkg/registry/apps/
            // replicaset/strategy.go and the other apps strategies) refuses a change outside
            // extensions/v1beta1; a Job's `ValidateJobSpecUpdate` too. A ReplicationController's
            // may change (`releaseUnselected`); a CronJob's is its Jobs' generated one.
            if old.selector != workload.selector, workload.kind != .replicationController, workload.kind != .cronJob {
                throw ScenarioError(
                    locations[ObjectDecoder.selectorField] ?? location,
                    "\(workload.kind.rawValue) \(workload.namespace)/\(workload.name): spec.selector is immutable (the API server: \"field is immutable\"; it is \(old.selector), this manifest writes \(workload.selector))"
                )
            }
            if workload.kind == .statefulSet,
                let field = old.fixedSpec.keys.sorted().first(where: { old.fixedSpec[$0] != workload.fixedSpec[$0] })
            {
                throw ScenarioError(
                    location,
                    "\(workload.kind.rawValue) \(workload.namespace)/\(workload.name): spec.\(field) cannot change: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
                )
            }
            // The stored `completions` (defaulted or written before) stays when neither apply wrote
            // it, as kubectl apply's three-way merge keeps it (see `replicasWritten` below).
            if workload.kind == .job, !workload.completionsWritten, !old.completionsWritten, workload.completions != old.completions {
                workload.completions = old.completions
                workload.replicas = workload.suspended ? 0 : min(workload.parallelism, old.completions ?? workload.parallelism)
            }
            if workload.kind == .job { try Self.checkJobUpdate(from: old, to: workload, started: state.started, at: location) }
            // A CronJob's edits reach only the Jobs it starts later ("Modifying a CronJob",
            // kubernetes.io: Jobs already started continue without changes; `suspend` "does not
            // apply to already started executions", CronJobSpec): keycard models one Job, started
            // the first time the CronJob is not suspended, so once it has started, only the
            // CronJob's own labels and `suspend` change and its Job's pods stay as they are.
            if workload.kind == .cronJob, state.started {
                var kept = old
                (kept.labels, kept.suspended) = (workload.labels, workload.suspended)
                workload = kept
            }
            if old.template != workload.template { state.generation += 1 }
            // kubectl apply's three-way merge: a field absent from the last applied configuration
            // and from the new one keeps its live value ("The replicas field retains the value of
            // 2 set by kubectl scale ... because it is omitted from the configuration file",
            // kubernetes.io/docs/tasks/manage-kubernetes-objects/declarative-config); one the last
            // configuration wrote and the new one leaves out is cleared to its default.
            if workload.kind.isScalable, !workload.replicasWritten, !old.replicasWritten { workload.replicas = old.replicas }
            state.workload = workload
            state.started = state.started || !workload.suspended
            cluster.workloads[workload.key] = state
        } else {
            cluster.workloads[workload.key] = WorkloadState(workload)
        }
        try reconcile(workload.key, in: &cluster, at: location, address: address, locations: locations)
    }

    /// Sets the replicas of the workload `change` names.
    public func scale(_ change: ScaleChange, in cluster: inout Cluster) throws(ScenarioError) {
        guard change.workload.kind.isScalable else {
            throw ScenarioError(change.location, "\(change.workload): a \(change.workload.kind.rawValue) cannot be scaled")
        }
        guard var state = cluster.workloads[change.workload] else {
            throw ScenarioError(change.location, "\(change.workload) does not exist \(scope)")
        }
        state.workload.replicas = change.replicas
        cluster.workloads[change.workload] = state
        try reconcile(change.workload, in: &cluster, at: change.location, address: { _ in nil })
    }

    /// Runs `key`'s controller once: its pods become exactly those it wants. A pod keeps the
    /// address it has unless `address` gives one. A name the controller wants that another pod
    /// holds is an error (Kubernetes' controller would fail to create it: AlreadyExists).
    /// `locations`: where the workload's pod template annotations were written, when it is being
    /// applied (the injector's refusals point there).
    func reconcile(
        _ key: WorkloadKey, in cluster: inout Cluster, at location: SourceLocation, address: (ObjectKey) -> IPv4?,
        locations: [String: SourceLocation] = [:]
    ) throws(ScenarioError) {
        guard var state = cluster.workloads[key] else { return }
        let released = Self.releaseUnselected(key, in: &cluster, state: state)
        Self.adoptOrphans(key, in: &cluster, state: &state)
        if key.kind == .statefulSet { Self.adoptNamedOrphans(key, in: &cluster, state: state) }
        let existing = cluster.pods(of: key)
        var pods = WorkloadController.reconcile(&state, existing: existing, nodes: cluster.nodeCount) { name in
            cluster.pods[ObjectKey(key.namespace, name)] != nil
        }
        if key.kind == .statefulSet { pods = Self.creatable(pods, of: state.workload, existing: existing, in: cluster) }
        for pod in pods {
            if let holder = cluster.pods[pod.key], holder.owner?.workload != key {
                throw ScenarioError(
                    location,
                    "\(key) wants pod \(pod.key), but that name is taken by \(holder.owner.map { "a pod of \($0.workload)" } ?? "a bare pod")"
                )
            }
        }
        cluster.workloads[key] = state
        let wanted = Set(pods.map(\.key))
        for pod in existing where !wanted.contains(pod.key) {
            cluster.pods[pod.key] = nil
            cluster.sidecars.remove(pod.key)
        }
        let kept = Set(existing)
        for pod in pods {
            cluster.pods[pod.key] = pod
            if let ip = address(pod.key) { cluster.addresses[pod.key] = ip }
            // A pod the controller creates (a kept one is returned unchanged) meets the injector
            // then, with its template's labels and annotations and its namespace's labels now
            // (mesh.md R1, R2); a StatefulSet's replacement under the same name is a new pod too.
            if !kept.contains(pod) { try Self.inject(pod, into: &cluster, at: location, locations: locations, workload: key) }
        }
        // A released pod another ReplicaSet's or ReplicationController's selector matches is its
        // orphan to adopt (`ClaimPods` of that controller's next sync).
        for pod in released {
            if let pod = cluster.pods[pod], let adopter = Self.adopter(of: pod, in: cluster), adopter != key {
                try reconcile(adopter, in: &cluster, at: location, address: address)
            }
        }
    }

    /// A StatefulSet adopts the bare pods of its namespace named as its pods (`<name>-<ordinal>`)
    /// that its selector matches: its `ClaimPods` filter is `isMemberOf` (pkg/controller/statefulset
    /// stateful_set.go, stateful_set_utils.go). Out of its ordinals, its controller then deletes
    /// them; at an ordinal it keeps, one not of its revision is replaced under the same name.
    static func adoptNamedOrphans(_ key: WorkloadKey, in cluster: inout Cluster, state: WorkloadState) {
        for pod in cluster.pods.values where pod.owner == nil && pod.namespace == key.namespace {
            guard pod.name.hasPrefix("\(key.name)-"), let ordinal = Int(pod.name.dropFirst(key.name.count + 1)), ordinal >= 0,
                String(ordinal) == pod.name.dropFirst(key.name.count + 1), state.workload.selector.matches(pod.labels)
            else { continue }
            cluster.pods[pod.key]?.owner = PodOwner(workload: key, ordinal: ordinal, revision: "")
        }
    }

    /// The StatefulSet pods `wanted` its controller can create: one whose name another pod holds
    /// (a bare pod its selector does not match, another controller's pod) fails to be created
    /// (AlreadyExists, a FailedCreate event) and that ordinal has no pod; with `OrderedReady` the
    /// higher ordinals not yet created wait for it (`podManagementPolicy`, stateful_set_control.go
    /// processes ordinals in order and stops at the failure), with `Parallel` they are created.
    static func creatable(_ wanted: [Pod], of workload: Workload, existing: [Pod], in cluster: Cluster) -> [Pod] {
        let existing = Set(existing.map(\.key))
        let blocked = wanted.filter { pod in cluster.pods[pod.key].map { $0.owner?.workload != workload.key } ?? false }
        guard let first = blocked.compactMap(\.owner?.ordinal).min() else { return wanted }
        let ordered = workload.fixedSpec["podManagementPolicy"] != "Parallel"
        let names = Set(blocked.map(\.key))
        return wanted.filter { pod in
            !names.contains(pod.key) && (!ordered || existing.contains(pod.key) || (pod.owner?.ordinal ?? 0) < first)
        }
    }

    /// The StatefulSet pods of `cluster` that cannot be created because another pod holds their
    /// name (`creatable`), by workload: what the controller's FailedCreate events say.
    public static func blockedStatefulPods(_ cluster: Cluster) -> [WorkloadKey: [ObjectKey]] {
        var blocked: [WorkloadKey: [ObjectKey]] = [:]
        for state in cluster.workloads.values where state.workload.kind == .statefulSet {
            let workload = state.workload
            for ordinal in workload.startOrdinal..<(workload.startOrdinal + workload.replicas) {
                let name = ObjectKey(workload.namespace, "\(workload.name)-\(ordinal)")
                if let holder = cluster.pods[name], holder.owner?.workload != workload.key {
                    blocked[workload.key, default: []].append(name)
                }
            }
        }
        return blocked
    }

    /// Releases the pods `key`'s controller owns that it no longer selects (`stillSelects`): a
    /// ReplicationController whose `spec.selector` an update changed lets go of the pods the new
    /// selector misses. Every controller claims its pods this way at each sync (`ClaimPods`,
    /// pkg/controller/controller_ref_manager.go: a controlled pod that no longer matches is
    /// released, `ReleasePod` removing its controller reference), so they keep running as bare
    /// pods, no longer counted among its replicas, and the controller makes new ones from its
    /// template. Returns the released pods.
    static func releaseUnselected(_ key: WorkloadKey, in cluster: inout Cluster, state: WorkloadState) -> [ObjectKey] {
        let released = cluster.pods(of: key).filter { pod in pod.owner.map { !stillSelects(state, $0, labels: pod.labels) } ?? false }
        for pod in released { cluster.pods[pod.key]?.owner = nil }
        return released.map(\.key)
    }

    /// Whether `pod`'s controller still selects it with `labels`: the workload's selector and what
    /// its controller adds to it. A Deployment's ReplicaSet selects `pod-template-hash` too
    /// (pkg/controller/deployment/sync.go `getNewReplicaSet`: `CloneSelectorAndAddLabel`), a Job
    /// with a generated selector its `batch.kubernetes.io/controller-uid` (Job strategy
    /// `generateSelector`); a pod that loses either is released (`ClaimPods`) and replaced.
    static func stillSelects(_ state: WorkloadState, _ owner: PodOwner, labels: Labels) -> Bool {
        let workload = state.workload
        guard workload.selector.matches(labels) else { return false }
        switch workload.kind {
        case .deployment:
            return owner.revision.isEmpty || labels["pod-template-hash"] == owner.revision
        case .job where !workload.manualSelector, .cronJob where !workload.manualSelector:
            let key = "batch.kubernetes.io/controller-uid"
            return labels[key] == WorkloadController.jobLabels(workload)[key]
        default:
            return true
        }
    }

    /// Whether `workload`'s controller adopts bare pods its selector matches (`ClaimPods`,
    /// pkg/controller/controller_ref_manager.go): a ReplicaSet's and a ReplicationController's
    /// (kubernetes.io ReplicaSet "Non-Template Pod acquisitions"), and a Job's whose selector is
    /// its own (`manualSelector: true`: job_controller.go `getPodsForJob` claims the pods it
    /// matches, counted as active). A Deployment's ReplicaSets select `pod-template-hash` too, a
    /// Job's generated selector its `controller-uid`: no bare pod of keycard's carries those;
    /// StatefulSets and DaemonSets are left out (their pods are known by name or node), and so is
    /// an Indexed Job (keycard knows its pods by completion index, which a bare pod lacks).
    static func adopts(_ workload: Workload) -> Bool {
        switch workload.kind {
        case .replicaSet, .replicationController: true
        case .job: workload.manualSelector && !workload.indexed
        case .deployment, .statefulSet, .daemonSet, .cronJob: false
        }
    }

    /// Gives `key`'s controller the active bare pods of its namespace that its selector matches
    /// (`isAdoptable`), as the newest of its pods (each adopted pod takes the next creation
    /// counter): with more pods than replicas the controller then deletes the newest
    /// (`getPodsToDelete` ranks newer pods first).
    static func adoptOrphans(_ key: WorkloadKey, in cluster: inout Cluster, state: inout WorkloadState) {
        guard adopts(state.workload) else { return }
        let orphans = cluster.pods.values.filter { isAdoptable($0, by: state.workload) }
        for orphan in orphans.sorted(by: { $0.key < $1.key }) {
            cluster.pods[orphan.key]?.owner = PodOwner(workload: key, ordinal: state.created, revision: "")
            state.created += 1
        }
    }

    /// The controller that adopts `pod` now: for a bare pod, the first (by kind, namespace and
    /// name) controller of its namespace that adopts (`adopts`) and may adopt it (`isAdoptable`).
    static func adopter(of pod: Pod, in cluster: Cluster) -> WorkloadKey? {
        cluster.workloads.values.map(\.workload).filter { adopts($0) && isAdoptable(pod, by: $0) }.map(\.key).min()
    }

    /// Whether `workload`'s controller claims `pod` as a replica: a bare pod of its namespace that
    /// its selector matches and that is active. A finished pod (`status.phase` Succeeded or Failed)
    /// or a terminating one (`metadata.deletionTimestamp`) is neither adopted nor counted: the
    /// ReplicaSet controller filters its pods with `controller.FilterActivePods` (`IsPodActive`,
    /// pkg/controller/controller_utils.go) before `claimPods` (pkg/controller/replicaset/
    /// replica_set.go `syncReplicaSet`), so it creates the replicas they do not make.
    static func isAdoptable(_ pod: Pod, by workload: Workload) -> Bool {
        pod.owner == nil && pod.terminalPhase == nil && !pod.terminating && pod.namespace == workload.namespace
            && workload.selector.matches(pod.labels)
    }
}
