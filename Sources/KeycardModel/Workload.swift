/// The controllers whose pods keycard runs: `apps/v1` Deployment, ReplicaSet, StatefulSet,
/// DaemonSet; `batch/v1` Job and CronJob; `v1` ReplicationController.
public enum WorkloadKind: String, Hashable, Sendable, CaseIterable, Codable, Comparable {
    case deployment = "Deployment"
    case replicaSet = "ReplicaSet"
    case statefulSet = "StatefulSet"
    case daemonSet = "DaemonSet"
    case job = "Job"
    case cronJob = "CronJob"
    case replicationController = "ReplicationController"

    /// The group/version keycard reads the kind in.
    public var apiVersion: String {
        switch self {
        case .deployment, .replicaSet, .statefulSet, .daemonSet: "apps/v1"
        case .job, .cronJob: "batch/v1"
        case .replicationController: "v1"
        }
    }

    /// kubectl's singular resource name (`deployment`, `statefulset`...): the middle of `ns/deployment/web`.
    public var resource: String { rawValue.lowercased() }

    /// The kind for a resource name (`deployment`), or nil.
    public init?(resource: String) {
        guard let kind = Self.allCases.first(where: { $0.resource == resource }) else { return nil }
        self = kind
    }

    /// Kinds `kubectl scale` changes (`spec.replicas`).
    public var isScalable: Bool { [.deployment, .replicaSet, .statefulSet, .replicationController].contains(self) }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Names a workload: `namespace/resource/name`, as probes, tables and `scale` steps write it
/// (`prod/deployment/web`).
public struct WorkloadKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var kind: WorkloadKind
    public var namespace: String
    public var name: String

    public init(_ kind: WorkloadKind, _ namespace: String, _ name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    /// Parses `namespace/resource/name`; nil for anything else.
    public static func parse(_ text: String) -> WorkloadKey? {
        let pieces = text.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count == 3, !pieces[0].isEmpty, !pieces[2].isEmpty, let kind = WorkloadKind(resource: String(pieces[1])) else {
            return nil
        }
        return WorkloadKey(kind, String(pieces[0]), String(pieces[2]))
    }

    public var description: String { "\(namespace)/\(kind.resource)/\(name)" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.namespace, lhs.kind.rawValue, lhs.name) < (rhs.namespace, rhs.kind.rawValue, rhs.name)
    }
}

/// A workload, reduced to what decides its pods: how many, from which template, selected how.
public struct Workload: Hashable, Sendable {
    public var kind: WorkloadKind
    public var namespace: String
    public var name: String
    /// `metadata.labels`.
    public var labels: Labels
    /// `spec.selector` (a ReplicationController's defaults to its template's labels; a Job's is
    /// generated from its uid, as the API server does without `manualSelector`).
    public var selector: LabelSelector
    /// Pods wanted: `replicas` (default 1), a Job's `parallelism` (default 1) capped by
    /// `completions`, 0 for a suspended Job. A DaemonSet runs one pod per node instead.
    public var replicas: Int
    /// The pod template: labels, containers' ports and commands, nodeName, serviceAccountName.
    /// Its namespace is the workload's; its name is empty (the controller names each pod).
    public var template: Pod
    /// StatefulSet `spec.ordinals.start` (default 0).
    public var startOrdinal: Int = 0
    /// Job `completionMode: Indexed`: pods carry their completion index.
    public var indexed: Bool = false
    /// A Job's (or a CronJob's `jobTemplate`'s) `spec.completions`; nil when unset or for other
    /// kinds. An Indexed Job's last pod is `<job>-<completions - 1>` to DNS.
    public var completions: Int?
    /// A StatefulSet's `updateStrategy.rollingUpdate.partition` (default 0): a new template
    /// replaces only the pods at this index and above (index = ordinal - `startOrdinal`); those
    /// below keep the revision they run (pkg/controller/statefulset `updateStatefulSet`,
    /// "Partitioned rolling updates").
    public var partition: Int = 0
    /// False for `updateStrategy.type: OnDelete` (StatefulSet, DaemonSet): a new template does not
    /// replace running pods, only pods created later.
    public var replacesOnUpdate: Bool = true
    /// Job `manualSelector: true` (a CronJob's job template may not set it): the selector is the user's, and
    /// the pods carry no generated `job-name`/`controller-uid` labels (`generateSelectorIfNeeded`
    /// in pkg/registry/batch/job/strategy.go adds them only without it).
    public var manualSelector = false
    /// A CronJob's `jobTemplate.metadata.labels`, which its Jobs carry.
    public var jobLabels: Labels = [:]
    /// A StatefulSet's `spec.serviceName`: its governing Service, under which cluster DNS names
    /// each pod (`<pod>.<serviceName>.<ns>.svc.cluster.local`, the pods' `subdomain`); nil when
    /// unset or for other kinds.
    public var serviceName: String?
    /// Spec fields the API server forbids to change on update (a StatefulSet's `serviceName`,
    /// `podManagementPolicy`, `volumeClaimTemplates`: `ValidateStatefulSetUpdate`), by field name,
    /// each as written (with its default); an `apply` changing one is refused.
    public var fixedSpec: [String: String] = [:]
    /// Whether the manifest wrote `spec.replicas` (scalable kinds): an `apply` that leaves it out,
    /// as the previous apply did, keeps the live count (`kubectl scale`'s), as kubectl apply's
    /// three-way merge leaves a field neither configuration names.
    public var replicasWritten = false
    /// Whether a Job's manifest wrote `spec.completions`: as with `replicasWritten`, an `apply` that
    /// leaves it out, as the previous one did, keeps the stored value (the defaulted 1 included).
    public var completionsWritten = false
    /// Whether a ReplicationController's manifest wrote `spec.selector`: without it the API
    /// server defaults it from the template's labels when created (`SetDefaults_ReplicationController`),
    /// and an `apply` that writes none either keeps the stored one (`ClusterChange.applyWorkload`).
    public var selectorWritten = false
    /// A Deployment's `spec.paused` (default false): its controller only scales, it rolls out no
    /// template (pkg/controller/deployment `dc.sync`), so a template written while paused reaches
    /// no pod until it is resumed.
    public var paused: Bool = false
    /// Why the API server refuses every pod made from the template, which it accepts in the
    /// workload itself (a container image with leading or trailing whitespace: ValidatePodCreate
    /// checks it, ValidatePodTemplateSpec does not): the controller's creations fail, so no pod
    /// of this template runs. nil for every other workload.
    public var podsRefused: String?
    /// A Job's `spec.parallelism` (default 1), or a CronJob's `jobTemplate`'s; 1 for other kinds.
    /// An Indexed Job's `completions` may change only to it (`validateCompletions`).
    public var parallelism = 1
    /// `spec.suspend` as written: a Job's own, or a CronJob's (its `jobTemplate.spec.suspend`
    /// only makes its Job run no pod, `replicas` 0). A Job created suspended and never resumed has
    /// never started, and may change its template's scheduling directives (`ClusterChange.applyWorkload`);
    /// a suspended CronJob starts no Job.
    public var suspended = false

    public init(
        kind: WorkloadKind, namespace: String, name: String, labels: Labels = [:], selector: LabelSelector, replicas: Int, template: Pod
    ) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.labels = labels
        self.selector = selector
        self.replicas = replicas
        self.template = template
    }

    public var key: WorkloadKey { WorkloadKey(kind, namespace, name) }

    /// keycard's own limit on one workload's pods (the API server allows 2^31-1 replicas): every
    /// pod is a network namespace, and a typo of a few digits must not try to build millions.
    public static let maximumReplicas = 10_000
}

/// A workload as the cluster holds it, with what its controller has counted so far.
public struct WorkloadState: Hashable, Sendable {
    public var workload: Workload
    /// Pods created so far: the seed of the next generated pod name, so names are never reused.
    public var created: Int = 0
    /// `metadata.generation` as far as the template is concerned: 1, then +1 per template change
    /// (a DaemonSet's pods carry it as `pod-template-generation`).
    public var generation: Int = 1
    /// A Deployment's newest ReplicaSet's template: what its pods are made from. The template rolls
    /// out whenever the Deployment is not paused; nil while it never has (created paused: no
    /// ReplicaSet exists, so no pod runs).
    public var rolledOut: Pod?
    /// A Job: whether it has run (was ever not suspended; the Job controller then sets
    /// `status.startTime`). A CronJob: whether its one Job (keycard models the schedule as fired
    /// once) was started, which happens the first time it is not suspended; from then on edits of
    /// the CronJob reach only Jobs started later, none in keycard's model.
    public var started: Bool

    public init(_ workload: Workload) {
        self.workload = workload
        started = !workload.suspended
    }
}

/// The controller that made a pod, and which of its pods it is.
public struct PodOwner: Hashable, Sendable {
    public var workload: WorkloadKey
    /// The creation counter (ReplicaSet-like kinds), ordinal (StatefulSet), node index
    /// (DaemonSet) or completion index (indexed Job): how the controller tells its pods apart.
    public var ordinal: Int
    /// The template hash the pod was made from; "" for a pod the controller adopted.
    public var revision: String

    public init(workload: WorkloadKey, ordinal: Int, revision: String) {
        (self.workload, self.ordinal, self.revision) = (workload, ordinal, revision)
    }
}

extension Workload {
    /// A new pod of this workload as its controller makes it: the pod template, owned by the
    /// workload as pod `ordinal` of template `revision` (the controller then names and labels it).
    public func pod(ordinal: Int, revision: String) -> Pod {
        var pod = template
        pod.owner = PodOwner(workload: key, ordinal: ordinal, revision: revision)
        return pod
    }
}
