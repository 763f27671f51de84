import KeycardModel

extension ClusterChange {
    /// Refuses an update of Job `old` to `new` the API server refuses (`ValidateJobSpecUpdate`,
    /// pkg/apis/batch/validation/validation.go, with the options pkg/registry/batch/job/strategy.go
    /// `validationOptionsForJob` gives it):
    /// - `completions` is immutable, except in an Indexed Job, where it may change to the new
    ///   `parallelism` (`validateCompletions`; ElasticIndexedJob, on by default since 1.27);
    /// - `completionMode`, `podFailurePolicy`, `backoffLimitPerIndex`, `managedBy` and
    ///   `successPolicy` are immutable, added or removed too (`Workload.fixedSpec`);
    /// - the template is immutable (`validatePodTemplateUpdate`), except that a Job that is
    ///   suspended and has never started (`AllowMutableSchedulingDirectives`: suspended and no
    ///   `status.startTime`; in keycard, created suspended and never resumed: `started`) may change
    ///   its template's labels, annotations, node selector, node affinity, tolerations and
    ///   scheduling gates (what keycard keeps of those: labels, annotations, `unschedulable`).
    static func checkJobUpdate(from old: Workload, to new: Workload, started: Bool, at location: SourceLocation) throws(ScenarioError) {
        let job = "Job \(new.namespace)/\(new.name)"
        if old.completions != new.completions {
            let written = new.completions.map(String.init) ?? "null"
            if !new.indexed {
                throw ScenarioError(location, "\(job): spec.completions: Invalid value: \(written): field is immutable")
            }
            if let completions = new.completions, completions != new.parallelism {
                throw ScenarioError(
                    location,
                    "\(job): spec.completions: Invalid value: \(completions): can only be modified in tandem with spec.parallelism (an Indexed Job's completions may change only to its parallelism, \(new.parallelism))"
                )
            }
        }
        var template = old.template
        if !started, old.suspended {
            template.labels = new.template.labels
            template.annotations = new.template.annotations
            template.unschedulable = new.template.unschedulable
        }
        if template != new.template {
            let allowed =
                started || !old.suspended
                ? " (only a Job that is suspended and has never started may change its template's labels, annotations and scheduling directives; delete the Job and apply it again)"
                : " (a suspended Job that has never started may change only its template's labels, annotations, nodeSelector, node affinity, tolerations and schedulingGates)"
            throw ScenarioError(location, "\(job): spec.template: Invalid value: field is immutable\(allowed)")
        }
        for field in ["completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"]
        where old.fixedSpec[field] != new.fixedSpec[field] {
            let value = new.fixedSpec[field].flatMap { $0.isEmpty ? nil : $0 } ?? "null"
            throw ScenarioError(location, "\(job): spec.\(field): Invalid value: \(value): field is immutable")
        }
    }
}
