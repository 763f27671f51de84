import KeycardModel

/// What each workload controller leaves running, decided without a clock: pure and deterministic,
/// so the same scenario names the same pods on every run. The rules follow the controllers in
/// kubernetes/pkg/controller (deployment, replicaset, statefulset, daemon, job, cronjob):
/// - Deployment: one ReplicaSet `<name>-<pod-template-hash>` per template; a new template rolls
///   out (old pods are replaced by pods of the new ReplicaSet). Pods `<name>-<hash>-<5 chars>`,
///   labelled `pod-template-hash`. While `spec.paused`, the controller only scales its newest
///   ReplicaSet (`dc.sync`: no new ReplicaSet is created), so a new template reaches no pod and a
///   Deployment created paused runs none; resuming rolls out the template then written.
/// - ReplicaSet, ReplicationController: pods `<name>-<5 chars>`; a new template changes only pods
///   created later (as in Kubernetes, they do not roll out); bare pods their selector matches are
///   adopted as replicas (`ClusterChange.adoptOrphans`), and pods a changed selector (a
///   ReplicationController's) no longer matches are released (`ClusterChange.releaseUnselected`).
/// - StatefulSet: pods `<name>-<ordinal>` from `spec.ordinals.start`, labelled
///   `controller-revision-hash` (`<name>-<hash>`), `statefulset.kubernetes.io/pod-name`,
///   `apps.kubernetes.io/pod-index`; a new template replaces every pod under the same name
///   (RollingUpdate; only those at or above `rollingUpdate.partition`) or none (OnDelete).
/// - DaemonSet: one pod `<name>-<5 chars>` per lab node with `nodeName: node-i`, labelled
///   `controller-revision-hash` (`<hash>`) and `pod-template-generation`; a template that names
///   a node runs its pod only there (`daemonNodes`).
/// - Job: `parallelism` pods `<name>-<5 chars>` (Indexed: `<name>-<index>-<5 chars>`, labelled
///   `batch.kubernetes.io/job-completion-index`), labelled `batch.kubernetes.io/job-name`,
///   `job-name`, `batch.kubernetes.io/controller-uid`, `controller-uid`.
/// - CronJob: the pods of one Job `<name>-<n>` made from its `jobTemplate`, as if its schedule
///   had fired once (Kubernetes names it after the scheduled minute; keycard derives n from the
///   CronJob's namespace and name).
/// The 5 characters are `GeneratedName`'s, seeded by the namespace, the owner and a counter of
/// pods created, so a replaced or re-created pod never takes an old pod's name; a name a pod of
/// the namespace holds (`taken`), or one made in the same sync, is skipped for the next candidate,
/// as the API server's AlreadyExists makes the controller retry with a new name. Scaling down
/// removes the newest pods (the highest ordinals for a StatefulSet), as the controllers rank them.
public enum WorkloadController {
    /// The pods `state`'s controller runs, given the pods it owns now (`existing`) and the lab's
    /// node count. Updates `state.created`. `taken`: whether a pod of the workload's namespace
    /// holds a name now (its own pods included), which no generated name may take.
    public static func reconcile(_ state: inout WorkloadState, existing: [Pod], nodes: Int, taken: (String) -> Bool) -> [Pod] {
        // `PodNames` keeps `taken` for this sync only; it does not outlive the call.
        withoutActuallyEscaping(taken) { taken in
            var names = PodNames(held: taken)
            return sync(&state, existing: existing, nodes: nodes, names: &names)
        }
    }

    /// `reconcile(_:existing:nodes:taken:)`, its new pods named by `names`.
    private static func sync(_ state: inout WorkloadState, existing: [Pod], nodes: Int, names: inout PodNames) -> [Pod] {
        var workload = state.workload
        if workload.kind == .deployment {
            if !workload.paused { state.rolledOut = workload.template }
            // Created paused: no ReplicaSet, so no pod (TestPausedDeployment).
            guard let template = state.rolledOut else { return [] }
            workload.template = template
        }
        let hash = templateHash(workload.template)
        let owned = existing.sorted { ($0.owner?.ordinal ?? 0) < ($1.owner?.ordinal ?? 0) }
        func current(_ pod: Pod) -> Bool { pod.owner?.revision == hash || !workload.replacesOnUpdate }
        // Every pod of the template is refused at create (`Workload.podsRefused`): none is made;
        // those already running from another revision go as the rollout replaces them.
        if workload.podsRefused != nil { return Array(owned.filter(current).prefix(workload.replicas)) }
        switch workload.kind {
        case .deployment:
            let kept = Array(owned.filter(current).prefix(workload.replicas))
            // No ReplicaSet the API server would refuse, so no pod of it (`replicaSetProblem`).
            if replicaSetProblem(workload) != nil { return kept }
            return kept
                + (kept.count..<max(kept.count, workload.replicas)).map { _ in generated(&state, &names, hash: hash, from: workload) }
        case .replicaSet, .replicationController:
            let kept = Array(owned.prefix(workload.replicas))
            return kept + (kept.count..<max(kept.count, workload.replicas)).map { _ in generated(&state, &names, hash: hash) }
        case .job, .cronJob:
            // No Job the API server would refuse, so no pod of it (`writtenJobLabel`,
            // `invalidIndexedHostname`).
            if writtenJobLabel(workload) != nil || invalidIndexedHostname(workload) != nil { return [] }
            // A CronJob's Job is a Job like any other: an Indexed one gives each pod its own index.
            if workload.indexed {
                return (0..<workload.replicas).map { index in
                    owned.first { $0.owner?.ordinal == index } ?? generated(&state, &names, hash: hash, index: index)
                }
            }
            let kept = Array(owned.prefix(workload.replicas))
            return kept + (kept.count..<max(kept.count, workload.replicas)).map { _ in generated(&state, &names, hash: hash) }
        case .statefulSet:
            // Pods the API server would refuse are never created (`statefulPodProblem`).
            return creatableOrdinals(workload).map { ordinal in
                // Below the partition a pod keeps the revision it runs; one missing there is made
                // from the template as written (Kubernetes makes it at the current revision).
                if let pod = owned.first(where: { $0.owner?.ordinal == ordinal }),
                    current(pod) || ordinal - workload.startOrdinal < workload.partition
                {
                    return pod
                }
                return statefulPod(workload, ordinal: ordinal, hash: hash)
            }
        case .daemonSet:
            return daemonNodes(workload, nodes: nodes).map { node in
                if let pod = owned.first(where: { $0.owner?.ordinal == node }), current(pod) { return pod }
                var pod = generated(&state, &names, hash: hash, index: node)
                pod.nodeName = "node-\(node)"
                return pod
            }
        }
    }

    /// The lab nodes (`node-0` ... `node-<nodes-1>`) a DaemonSet runs a pod on: every one, or
    /// when its template sets `spec.nodeName`, only the node of that name, none if no lab node
    /// has it (`NodeShouldRunDaemonPod`, pkg/controller/daemon/daemon_controller.go: "If the
    /// daemon set specifies a node name, check that it matches with node.Name").
    static func daemonNodes(_ workload: Workload, nodes: Int) -> [Int] {
        guard let named = workload.template.nodeName else { return Array(0..<nodes) }
        return (0..<nodes).filter { "node-\($0)" == named }
    }

    /// A pod with a generated name: `<prefix><5 chars>`, the template's labels and those the
    /// controller adds. `index` is the ordinal it is known by (node, completion index), else the
    /// creation counter. `from`: the workload as its pods are made (a paused Deployment's holds its
    /// newest ReplicaSet's template); by default the state's.
    private static func generated(
        _ state: inout WorkloadState, _ names: inout PodNames, hash: String, index: Int? = nil, from: Workload? = nil
    ) -> Pod {
        let workload = from ?? state.workload
        let counter = state.created
        state.created += 1
        var prefix = "\(workload.name)-"
        var labels = workload.template.labels
        switch workload.kind {
        case .deployment:
            prefix = "\(workload.name)-\(hash)-"
            labels["pod-template-hash"] = hash
        case .daemonSet:
            labels["controller-revision-hash"] = hash
            labels["pod-template-generation"] = String(state.generation)
        case .job, .cronJob:
            let job = jobName(workload)
            prefix = workload.indexed ? indexedPrefix(job, index: index ?? 0) : "\(job)-"
            if !workload.manualSelector { labels.merge(jobLabels(workload)) { _, generated in generated } }
            if workload.indexed { labels["batch.kubernetes.io/job-completion-index"] = String(index ?? 0) }
        case .replicaSet, .replicationController, .statefulSet: break
        }
        var pod = workload.pod(ordinal: index ?? counter, revision: hash)
        pod.name = names.claim(prefix, seed: "\(workload.namespace)/\(workload.kind.resource)/\(workload.name)#\(counter)")
        pod.labels = labels
        if workload.indexed, workload.kind == .job || workload.kind == .cronJob {
            // An Indexed Job's pod is `<job>-<index>` to DNS (its subdomain from the template), and
            // carries its index in an annotation that every container's JOB_COMPLETION_INDEX reads
            // (pkg/controller/job indexed_job_utils.go addCompletionIndexEnvVariables).
            pod.hostname = "\(jobName(workload))-\(index ?? 0)"
            let annotation = "batch.kubernetes.io/job-completion-index"
            pod.annotations[annotation] = String(index ?? 0)
            pod.environments = pod.environments.map { environment in
                environment.contains { $0.name == "JOB_COMPLETION_INDEX" }
                    ? environment
                    : environment + [EnvironmentVariable(name: "JOB_COMPLETION_INDEX", fieldPath: "metadata.annotations['\(annotation)']")]
            }
        }
        return pod
    }

    /// The names a sync's new pods may not take: those held in the namespace, and those the sync
    /// already gave a pod (two replicas made together collide as surely as with an old pod).
    struct PodNames {
        let held: (String) -> Bool
        var made: Set<String> = []

        /// A generated name for `prefix` and `seed` that neither a pod holds nor this sync gave.
        mutating func claim(_ prefix: String, seed: String) -> String {
            let made = self.made
            let name = GeneratedName.complete(prefix, seed: seed) { held($0) || made.contains($0) }
            self.made.insert(name)
            return name
        }
    }

    /// An Indexed Job's pod name prefix, `<job>-<index>-`: when it passes the 58 characters a
    /// generated name's prefix may have, the job name is cut so that `-<index>-` stays whole
    /// (pkg/controller/job/indexed_job_utils.go `podGenerateNameWithIndex`), so the pod's name
    /// still tells its index.
    static func indexedPrefix(_ job: String, index: Int) -> String {
        let suffix = "-\(index)-"
        return String(job.prefix(GeneratedName.maxPrefixLength - suffix.count)) + suffix
    }

    private static func statefulPod(_ workload: Workload, ordinal: Int, hash: String) -> Pod {
        var pod = workload.pod(ordinal: ordinal, revision: hash)
        pod.name = "\(workload.name)-\(ordinal)"
        // The controller names the pod's host after it, under the governing Service.
        pod.hostname = pod.name
        pod.subdomain = workload.serviceName
        pod.labels["controller-revision-hash"] = "\(workload.name)-\(hash)"
        pod.labels["statefulset.kubernetes.io/pod-name"] = pod.name
        pod.labels["apps.kubernetes.io/pod-index"] = String(ordinal)
        return pod
    }

    /// The Job whose pods run: the Job itself, or for a CronJob `<name>-<n>`.
    public static func jobName(_ workload: Workload) -> String {
        guard workload.kind == .cronJob else { return workload.name }
        // Kubernetes: the scheduled time in minutes since the epoch; here a stable number of that size.
        let minutes = 29_000_000 + fnv32("\(workload.namespace)/\(workload.name)") % 1_000_000
        return "\(workload.name)-\(minutes)"
    }

    /// The labels the API server adds to a Job's pod template when it generates the selector
    /// (`batch/v1` Job strategy): the job's name and uid, prefixed and legacy.
    public static func jobLabels(_ workload: Workload) -> Labels {
        let job = jobName(workload)
        let uid = uid(of: "\(workload.namespace)/job/\(job)")
        return [
            "batch.kubernetes.io/job-name": job, "job-name": job,
            "batch.kubernetes.io/controller-uid": uid, "controller-uid": uid,
        ]
    }

    /// A uid in the API server's format (a version 4 UUID), derived from `seed` instead of drawn.
    public static func uid(of seed: String) -> String {
        let a = fnv64(seed)
        let b = fnv64(seed + "\u{1}")
        func hex(_ value: UInt64, _ digits: Int) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: max(0, digits - text.count)) + text.suffix(digits)
        }
        return
            "\(hex(a >> 32, 8))-\(hex((a >> 16) & 0xffff, 4))-4\(hex(a & 0xfff, 3))-\(hex(0x8000 | (b >> 48) & 0x3fff, 4))-\(hex(b & 0xffff_ffff_ffff, 12))"
    }

    /// `pod-template-hash` / `controller-revision-hash`: as Kubernetes' `controller.ComputeHash`
    /// (pkg/controller/controller_utils.go), a 32-bit FNV-1a hash of the whole template written
    /// out, its decimal digits encoded with `rand.SafeEncodeString` (each byte picks from the name
    /// alphabet). Kubernetes hashes the Go object's dump; keycard hashes every field it keeps of the
    /// template (`canonical`, by reflection, so a field added to `Pod` is hashed without being
    /// listed here): values differ from a real cluster's but change exactly when the template
    /// does. A new `hostname`, `subdomain`, `env`, annotation, container or node selection is a new
    /// ReplicaSet (pkg/controller/deployment/sync.go `getNewReplicaSet`) and a new StatefulSet or
    /// DaemonSet revision, as in a cluster.
    public static func templateHash(_ template: Pod) -> String {
        let digits = String(fnv32(canonical(template)))
        return String(digits.utf8.map { GeneratedName.alphabet[Int($0) % GeneratedName.alphabet.count] })
    }

    /// `value` written out the same way in every process: every stored property by name,
    /// dictionaries and sets with their entries sorted (Swift's iteration order differs from run to
    /// run), strings quoted and escaped.
    static func canonical(_ value: Any) -> String {
        let mirror = Mirror(reflecting: value)
        let children = Array(mirror.children)
        switch mirror.displayStyle {
        case .dictionary?, .set?:
            return "{" + children.map { canonical($0.value) }.sorted().joined(separator: ",") + "}"
        case .optional?:
            return children.first.map { canonical($0.value) } ?? "nil"
        case .collection?, .tuple?:
            return "[" + children.map { canonical($0.value) }.joined(separator: ",") + "]"
        case .enum?:
            return children.isEmpty ? String(describing: value) : children.map { "\($0.label ?? "")(\(canonical($0.value)))" }.joined()
        case .struct?, .class?:
            return "(" + children.map { "\($0.label ?? ""):\(canonical($0.value))" }.joined(separator: ",") + ")"
        default:
            return String(reflecting: value)
        }
    }

    static func fnv32(_ text: String) -> UInt32 {
        var hash: UInt32 = 0x811c_9dc5
        for byte in text.utf8 { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        return hash
    }

    static func fnv64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}
