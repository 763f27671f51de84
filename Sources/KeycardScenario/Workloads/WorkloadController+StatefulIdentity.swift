import KeycardModel

extension WorkloadController {
    /// Why the StatefulSet controller cannot create pod `ordinal` of `workload`, or nil when it can.
    /// The controller names the pod `<name>-<ordinal>`, makes that its `spec.hostname` and the
    /// label `statefulset.kubernetes.io/pod-name` (`initIdentity`, pkg/controller/statefulset), and
    /// labels it `controller-revision-hash: <name>-<hash>` (the ControllerRevision's name,
    /// `history.ControllerRevisionName`); the API server refuses a pod whose hostname is not a
    /// DNS-1123 label or whose label value is longer than 63 characters (`ValidatePodSpec`,
    /// `ValidateLabels`). The StatefulSet itself is valid and stays, with no pod: the controller's
    /// creations fail (FailedCreate events; kubernetes/kubernetes#64023). keycard's `<hash>` is
    /// computed over what it keeps of the template (`templateHash`, up to 10 characters like
    /// Kubernetes'), so for a name of 52 or 53 characters the verdict can differ from a real
    /// cluster's, whose hash has another value.
    public static func statefulPodProblem(_ workload: Workload, ordinal: Int) -> String? {
        let name = "\(workload.name)-\(ordinal)"
        if let problem = NameRules.dns1123LabelProblem(name) {
            return "its pod name \"\(name)\" is the pod's spec.hostname, which \(problem)"
        }
        let revision = "\(workload.name)-\(templateHash(workload.template))"
        if let problem = NameRules.labelValueProblem(revision) {
            return "its pods' controller-revision-hash \(problem)"
        }
        return nil
    }

    /// Why the Deployment controller cannot create `workload`'s ReplicaSet, or nil when it can. It
    /// names it `<name>-<pod-template-hash>` (`getNewReplicaSet`, pkg/controller/deployment/sync.go),
    /// which the API server refuses past 253 characters (a DNS-1123 subdomain): the Deployment stays,
    /// with no ReplicaSet and so no pod. keycard's hash differs from a cluster's (`statefulPodProblem`).
    public static func replicaSetProblem(_ workload: Workload) -> String? {
        guard workload.kind == .deployment else { return nil }
        let name = "\(workload.name)-\(templateHash(workload.template))"
        guard let problem = NameRules.dns1123SubdomainProblem(name) else { return nil }
        return "its ReplicaSet name \"\(name.prefix(20))...\" (\(name.utf8.count) characters) \(problem)"
    }

    /// The generated Job label (`jobLabels`) a CronJob's pod template writes itself, or nil. The
    /// API server accepts the CronJob (`ValidateJobTemplateSpec` does not look at its template's
    /// labels), but each Job made from it is `<cronjob>-<scheduled minute>` with a new uid:
    /// `generateSelector` (pkg/registry/batch/job/strategy.go) keeps the written label, and
    /// `validateGeneratedSelector` (pkg/apis/batch/validation/validation.go) refuses the Job whose
    /// name or uid it is not, which is every Job (a written `job-name` could name one minute's).
    /// So no Job exists and no pod runs. A Job's own template is refused outright instead.
    public static func writtenJobLabel(_ workload: Workload) -> String? {
        guard workload.kind == .cronJob, !workload.manualSelector else { return nil }
        return jobLabels(workload).keys.sorted().first { workload.template.labels[$0] != nil }
    }

    /// The hostname of the last pod of the Jobs a CronJob makes, when it is no DNS-1123 label, or
    /// nil. `ValidateJob` (pkg/apis/batch/validation/validation.go) refuses an Indexed Job whose
    /// `<name>-<completions - 1>` is no label ("will not able to create pod with invalid DNS
    /// label"), but a CronJob is validated with `ValidateJobTemplateSpec`, which runs only
    /// `validateJobSpec`: the CronJob is accepted, and each Job its controller then makes,
    /// `<cronjob>-<scheduled minute>` (`getJobName`, pkg/controller/cronjob/utils.go: 8 digits
    /// today, as keycard's `jobName`), is refused, so no pod ever runs. A Job written as such is
    /// refused by the decoder instead (`checkIndexedHostnames`).
    public static func invalidIndexedHostname(_ workload: Workload) -> String? {
        guard workload.kind == .cronJob, workload.indexed, let completions = workload.completions, completions > 0 else { return nil }
        let hostname = "\(jobName(workload))-\(completions - 1)"
        return NameRules.dns1123LabelProblem(hostname) == nil ? nil : hostname
    }

    /// The ordinals `workload`'s controller can create pods for: from `spec.ordinals.start` up to
    /// the first it cannot (`statefulPodProblem`; a longer ordinal only makes the name longer).
    static func creatableOrdinals(_ workload: Workload) -> Range<Int> {
        let end = workload.startOrdinal + workload.replicas
        let first = (workload.startOrdinal..<end).first { statefulPodProblem(workload, ordinal: $0) != nil } ?? end
        return workload.startOrdinal..<first
    }
}
