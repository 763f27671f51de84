import KeycardModel
import KeycardValues

extension ObjectDecoder {
    /// Whether a Job's `spec.managedBy` hands it to another controller: the Job controller then
    /// does nothing with it (job_controller.go, `managedByExternalController`; the JobManagedBy
    /// gate is on by default from 1.32), so it runs no pod here, as MultiKueue runs them in another
    /// cluster. `kubernetes.io/job-controller` is the built-in one. Validated as `validateManagedBy`
    /// (pkg/apis/batch/validation): a domain-prefixed path of at most 63 characters.
    static func managedElsewhere(_ value: YAMLValue?) throws(ScenarioError) -> Bool {
        guard let value else { return false }
        let managedBy = try value.string("spec.managedBy")
        if managedBy.count > 63 { throw value.error("spec.managedBy: Too long: may not be more than 63 bytes") }
        let parts = managedBy.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let pathCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-._~%!$&'()*+,;=:")
        guard parts.count == 2, NameRules.dns1123SubdomainProblem(String(parts[0])) == nil, !parts[1].isEmpty,
            parts[1].allSatisfy(pathCharacters.contains)
        else {
            throw value.error("spec.managedBy: Invalid value: \"\(managedBy)\": must be a domain-prefixed path (such as \"acme.io/foo\")")
        }
        return managedBy != "kubernetes.io/job-controller"
    }

    /// A workload (`apps/v1` Deployment, ReplicaSet, StatefulSet, DaemonSet; `batch/v1` Job,
    /// CronJob; `v1` ReplicationController), validated as the API server validates the fields
    /// keycard uses (pkg/apis/apps/validation, pkg/apis/batch/validation, ValidateReplicationController):
    /// - apps/v1 kinds need a non-empty `spec.selector` that matches the template's labels;
    /// - `replicas`, `parallelism`, `completions` are 0 or more (default 1; a Job's `completions`
    ///   caps its running pods);
    /// - a ReplicationController's `selector` defaults to its template's labels, which it must match;
    /// - a Job's selector is generated (with `manualSelector: true` it is the user's and must match;
    ///   without it a written one gets the controller-uid term and must then match the generated
    ///   labels alone: `selector: {}`);
    ///   a CronJob's `jobTemplate.spec` may have no selector and no `manualSelector: true`
    ///   (`ValidateJobTemplateSpec`), and is otherwise checked as a Job's spec (`checkJobSpec`);
    ///   its template's `restartPolicy` must be `OnFailure` or `Never`, other kinds' `Always`;
    /// - a CronJob needs a valid `schedule` (and `timeZone`, if any: `checkCronTiming`) and a name of
    ///   at most 52 characters, a Job one of at most 63;
    ///   a suspended Job or CronJob runs no pod;
    /// - a Deployment's `spec.paused` is a boolean; paused, it is read and warned about
    ///   (`Workload.paused`);
    /// - accepted, with a warning, and no pod: a DaemonSet whose template names no lab node
    ///   (`warnUnmatchedDaemonNode`), a CronJob whose template writes a generated Job label
    ///   (`warnWrittenJobLabel`), a CronJob whose Indexed Jobs' last pod hostname is no DNS label
    ///   (`WorkloadController.invalidIndexedHostname`), besides the StatefulSets and Deployments whose pods or
    ///   ReplicaSet the API server would refuse.
    /// The pod template is read as a Pod is (`podSpec`; labels and annotations; `hostNetwork`).
    mutating func workload(_ value: YAMLValue, kind: WorkloadKind) throws(ScenarioError) -> Workload? {
        let fields = try nonNullFields(value, kind.rawValue)
        guard let metadata = fields["metadata"] else { throw value.error("\(kind.rawValue) needs \"metadata\"") }
        let meta = try Metadata.read(
            metadata, kind: kind.rawValue, namespaced: true, at: value.location, defaultNamespace: defaultNamespace)
        let what = "\(kind.rawValue) \(meta.namespace)/\(meta.name)"
        if kind == .cronJob, meta.name.count > 52 {
            throw metadata.error("CronJob name \"\(meta.name)\" must be no more than 52 characters (it names the Jobs it makes)")
        }
        guard let specValue = fields["spec"] else { throw value.error("\(what) needs \"spec\"") }
        try specValue.requireKnownFields("\(kind.rawValue) spec", known: KnownFields.workloadSpec(kind))
        var spec = try nonNullFields(specValue, "\(kind.rawValue) spec")
        // Without manualSelector the pods carry the Job's name as a label value (at most 63).
        if kind == .job, meta.name.count > 63, try spec["manualSelector"]?.bool("spec.manualSelector") != true {
            throw metadata.error("Job name \"\(meta.name)\" must be no more than 63 characters (its pods carry it as a label value)")
        }
        try checkWorkloadSpec(kind, spec)
        var jobLabels: Labels = [:]
        var suspended = false
        if kind == .cronJob {
            try checkCronTiming(spec, specValue, what)
            if let suspend = spec["suspend"] { suspended = try suspend.bool("spec.suspend") }
            guard let jobTemplate = spec["jobTemplate"] else { throw specValue.error("\(what) needs spec.jobTemplate") }
            try jobTemplate.requireKnownFields("spec.jobTemplate", known: KnownFields.template)
            let templateFields = try nonNullFields(jobTemplate, "spec.jobTemplate")
            if let jobMeta = templateFields["metadata"] {
                try jobMeta.requireKnownFields("spec.jobTemplate.metadata", known: KnownFields.objectMeta)
                jobLabels = try Metadata.labels(try nonNullFields(jobMeta, "spec.jobTemplate.metadata")["labels"])
            }
            guard let jobSpec = templateFields["spec"] else { throw jobTemplate.error("spec.jobTemplate needs \"spec\"") }
            try jobSpec.requireKnownFields("spec.jobTemplate.spec", known: KnownFields.jobSpec)
            spec = try nonNullFields(jobSpec, "spec.jobTemplate.spec")
        }
        let isJob = kind == .job || kind == .cronJob
        guard let templateValue = spec["template"] else { throw specValue.error("\(what) needs spec.template (the pods' template)") }
        templatePodsRefused = nil
        let claims = kind == .statefulSet ? try Self.claimTemplateNames(spec["volumeClaimTemplates"]) : nil
        let template = try podTemplate(
            templateValue, namespace: meta.namespace, owner: "\(kind.resource)/\(meta.name)", kind: kind, claims: claims)
        let podsRefused = templatePodsRefused

        var replicas = 1
        if kind != .daemonSet, !isJob, let replicasValue = spec["replicas"] {
            replicas = try replicasValue.int("spec.replicas (0 or more)", in: 0...Int(Int32.max))
            try Self.requireLabSize(replicas, replicasValue, "spec.replicas")
        }
        var workload = Workload(
            kind: kind, namespace: meta.namespace, name: meta.name, labels: meta.labels, selector: .everything, replicas: replicas,
            template: template)
        workload.jobLabels = jobLabels
        workload.podsRefused = podsRefused
        workload.replicasWritten = kind.isScalable && spec["replicas"] != nil

        switch kind {
        case .deployment, .replicaSet, .statefulSet, .daemonSet:
            guard let selectorValue = spec["selector"] else { throw specValue.error("\(what) needs spec.selector (apps/v1 requires one)") }
            let selector = try labelSelector(selectorValue, "spec.selector")
            if selector.isEmpty { throw selectorValue.error("empty selector is invalid for \(kind.resource)") }
            try requireMatch(selector, template, templateValue)
            workload.selector = selector
        case .replicationController:
            var selector = LabelSelector()
            if let selectorValue = spec["selector"] {
                selector.matchLabels = try Metadata.labelMap(selectorValue, "spec.selector", entry: "selector")
                workload.selectorWritten = !selector.isEmpty
            }
            // A selector-less controller selects its template's labels (v1 defaults).
            if selector.isEmpty { selector.matchLabels = template.labels }
            if selector.isEmpty { throw specValue.error("\(what) needs spec.selector or template labels to select its pods") }
            try requireMatch(selector, template, templateValue)
            workload.selector = selector
            if workload.labels.isEmpty { workload.labels = template.labels }
        case .job, .cronJob:
            // A CronJob's Jobs always get generated selectors: `ValidateJobTemplateSpec`
            // (pkg/apis/batch/validation/validation.go) refuses a selector and manualSelector: true
            // in its jobTemplate, `selector: {}` included.
            if kind == .cronJob {
                if let selectorValue = spec["selector"] {
                    throw selectorValue.error("spec.jobTemplate.spec.selector: Invalid value: `selector` will be auto-generated")
                }
                if let manualValue = spec["manualSelector"], try manualValue.bool("spec.jobTemplate.spec.manualSelector") {
                    throw manualValue.error(
                        "spec.jobTemplate.spec.manualSelector: Unsupported value: true: supported values: \"nil\", \"false\"")
                }
            }
            let manual = try spec["manualSelector"]?.bool("spec.manualSelector") ?? false
            if manual {
                guard let selectorValue = spec["selector"] else {
                    throw specValue.error("\(what) has manualSelector: true and needs spec.selector")
                }
                let selector = try labelSelector(selectorValue, "spec.selector")
                try requireMatch(selector, template, templateValue)
                workload.selector = selector
                workload.manualSelector = true
            } else {
                let generated = WorkloadController.jobLabels(workload)
                // A CronJob's template that writes a generated label is accepted; each Job made
                // from it is refused (`WorkloadController.writtenJobLabel`, warned about below).
                for (key, value) in generated where kind == .job {
                    if let written = template.labels[key], written != value {
                        throw templateValue.error("template label \(key)=\(written) conflicts with the generated \(key)=\(value)")
                    }
                }
                let uid = generated["batch.kubernetes.io/controller-uid"] ?? ""
                // The API server adds the controller-uid term to a selector written without
                // manualSelector and accepts it when it then matches the generated labels alone
                // (`selector: {}`, a job-name term): `generateSelector`,
                // pkg/registry/batch/job/strategy.go, and `validateGeneratedSelector`,
                // pkg/apis/batch/validation/validation.go. Anything narrower or other is refused.
                var selector = LabelSelector(matchLabels: ["batch.kubernetes.io/controller-uid": uid])
                if kind == .job, let selectorValue = spec["selector"], !selectorValue.isNull {
                    selector = try labelSelector(selectorValue, "spec.selector")
                    if selector.matchLabels["batch.kubernetes.io/controller-uid"] == nil {
                        selector.matchLabels["batch.kubernetes.io/controller-uid"] = uid
                    }
                    guard selector.matches(generated) else {
                        throw selectorValue.error("spec.selector: `selector` not auto-generated (set manualSelector: true to choose one)")
                    }
                    var labelled = template
                    labelled.labels.merge(generated) { written, _ in written }
                    try requireMatch(selector, labelled, templateValue)
                }
                workload.selector = selector
            }
            let parallelism = try spec["parallelism"]?.int("spec.parallelism (0 or more)", in: 0...Int(Int32.max)) ?? 1
            if let value = spec["parallelism"] { try Self.requireLabSize(parallelism, value, "spec.parallelism") }
            let completionsValue = spec["completions"]
            let completions = try completionsValue?.int("spec.completions (0 or more)", in: 0...Int(Int32.max))
            let path = kind == .cronJob ? "spec.jobTemplate.spec" : "spec"
            if let modeValue = spec["completionMode"] {
                let mode = try modeValue.string("\(path).completionMode")
                guard mode == "NonIndexed" || mode == "Indexed" else {
                    throw modeValue.error("\(path).completionMode must be NonIndexed or Indexed, found \"\(mode)\"")
                }
                workload.indexed = mode == "Indexed"
                if workload.indexed, completions == nil {
                    throw modeValue.error("\(path).completions is required when completionMode is Indexed")
                }
                if workload.indexed, kind == .job, let completions, completions > 0 {
                    try checkIndexedHostnames(meta.name, completions: completions, metadata)
                }
            }
            // SetDefaults_Job (pkg/apis/batch/v1/defaults.go): with neither written, completions and
            // parallelism are both 1.
            workload.completions = completions ?? (spec["parallelism"] == nil ? 1 : nil)
            workload.completionsWritten = completionsValue != nil
            try checkJobSpec(
                spec, path: path, indexed: workload.indexed, completions: completions, templateValue: templateValue, template: template)
            // A CronJob's own `suspend` (read above) keeps it from starting its Job; a Job's, or
            // its job template's, keeps the Job's pods from running.
            workload.suspended = suspended
            if let suspend = spec["suspend"], try suspend.bool("spec.suspend") { suspended = true }
            if kind == .job { workload.suspended = suspended }
            if try Self.managedElsewhere(spec["managedBy"]) { suspended = true }
            workload.parallelism = parallelism
            workload.replicas = suspended ? 0 : min(parallelism, completions ?? parallelism)
            if kind == .job { workload.fixedSpec = try Self.immutableJobFields(spec) }
        }
        if kind == .statefulSet || kind == .daemonSet, let strategy = spec["updateStrategy"] {
            let strategyFields = try nonNullFields(strategy, "spec.updateStrategy")
            if let typeValue = strategyFields["type"] {
                // "" is unset: SetDefaults_StatefulSet and SetDefaults_DaemonSet make it RollingUpdate.
                let written = try typeValue.string("spec.updateStrategy.type")
                let type = written.isEmpty ? "RollingUpdate" : written
                guard type == "RollingUpdate" || type == "OnDelete" else {
                    throw typeValue.error("spec.updateStrategy.type must be RollingUpdate or OnDelete, found \"\(type)\"")
                }
                workload.replacesOnUpdate = type == "RollingUpdate"
            }
            // Its range is checked by checkWorkloadSpec (`checkStatefulSetStrategy`).
            if kind == .statefulSet, let rolling = strategyFields["rollingUpdate"], !rolling.isNull,
                let partition = try nonNullFields(rolling, "spec.updateStrategy.rollingUpdate")["partition"]
            {
                workload.partition = try partition.int("spec.updateStrategy.rollingUpdate.partition (0 or more)", in: 0...Int(Int32.max))
            }
        }
        if kind == .statefulSet, let serviceName = spec["serviceName"] {
            // Its form is checked by checkWorkloadSpec; an empty one names no Service.
            let name = try serviceName.string("spec.serviceName")
            workload.serviceName = name.isEmpty ? nil : name
        }
        if kind == .statefulSet, let ordinals = spec["ordinals"] {
            if let start = try nonNullFields(ordinals, "spec.ordinals")["start"] {
                workload.startOrdinal = try start.int("spec.ordinals.start (0 or more)", in: 0...Int(Int32.max))
            }
        }
        if kind == .statefulSet { try readStatefulIdentity(spec, metadata, &workload) }
        if kind == .daemonSet { try warnUnmatchedDaemonNode(workload, templateValue) }
        if let label = WorkloadController.writtenJobLabel(workload) { try warnWrittenJobLabel(label, workload, templateValue) }
        if let hostname = WorkloadController.invalidIndexedHostname(workload) {
            warn(
                try nameNode(metadata),
                "\(what): each Job it makes is refused (ValidateJob: \"will not able to create pod with invalid DNS label: \(hostname)\": an Indexed Job's pod hostname is <job>-<index>, and its Job is <cronjob>-<scheduled minute>), so no pod runs, and keycard runs none"
            )
        }
        if let problem = WorkloadController.replicaSetProblem(workload) {
            warn(
                try nameNode(metadata),
                "\(what): \(problem); the API server refuses such a ReplicaSet, so the controller creates no pod, and keycard runs none")
        }
        // DeploymentSpec.paused, a boolean (the API server refuses any other JSON type).
        if kind == .deployment, let pausedValue = spec["paused"], try pausedValue.bool("spec.paused") {
            workload.paused = true
            warnings.append(
                ScenarioWarning(
                    location: pausedValue.location,
                    message:
                        "\(what) is paused: its controller rolls out no new template while it is (a Deployment created paused runs no pod until resumed); scaling still applies"
                ))
        }
        return workload
    }

    /// A pod template (`metadata.labels`, `spec`): a Pod without a name, in the workload's namespace.
    private mutating func podTemplate(_ value: YAMLValue, namespace: String, owner: String, kind: WorkloadKind, claims: [String]? = nil)
        throws(ScenarioError) -> Pod
    {
        let isJob = kind == .job || kind == .cronJob
        try value.requireKnownFields("spec.template", known: KnownFields.template)
        let fields = try nonNullFields(value, "spec.template")
        var labels: Labels = [:]
        var annotations: [String: String] = [:]
        if let metadata = fields["metadata"] {
            try metadata.requireKnownFields("spec.template.metadata", known: KnownFields.objectMeta)
            let metadataFields = try nonNullFields(metadata, "spec.template.metadata")
            labels = try Metadata.labels(metadataFields["labels"])
            // The template's annotations are its pods' (Istio reads sidecar injection state there, mesh.md R1).
            annotations = try Metadata.annotations(metadataFields["annotations"])
        }
        // Named after its owner only for messages ("pod prod/deployment/web: ...").
        var pod = Pod(namespace: namespace, name: owner, labels: labels)
        pod.annotations = annotations
        guard let specValue = fields["spec"] else { throw value.error("spec.template needs \"spec\" with containers") }
        let spec = try podSpec(
            specValue, into: &pod, controllerSetsHostname: kind == .statefulSet, template: true,
            path: kind == .cronJob ? "spec.jobTemplate.spec.template.spec" : "spec.template.spec", claims: claims)
        try readNodeSelection(spec, into: &pod, owner: owner)
        // Gates in a template are rare (admission webhooks add them to pods): keycard runs the
        // pods as if scheduled, where Kubernetes keeps them Pending until the gates are removed.
        if let gates = spec["schedulingGates"], !(try Self.schedulingGates(gates)).isEmpty {
            warnings.append(
                ScenarioWarning(
                    location: gates.location,
                    message:
                        "\(namespace)/\(owner): the template has schedulingGates; Kubernetes keeps its pods Pending until they are removed, keycard runs them as if scheduled"
                ))
        }
        let allowed = isJob ? ["OnFailure", "Never"] : ["Always"]
        if let policyValue = spec["restartPolicy"] {
            // "" is unset, defaulted to Always (SetDefaults_PodSpec runs on templates too).
            let written = try policyValue.string("spec.template.spec.restartPolicy")
            let policy = written.isEmpty ? "Always" : written
            guard allowed.contains(policy) else {
                throw policyValue.error(
                    "spec.template.spec.restartPolicy \"\(policy)\" is not supported here: \(allowed.joined(separator: " or "))")
            }
        } else if isJob {
            throw specValue.error("spec.template.spec.restartPolicy is required for a Job: OnFailure or Never")
        }
        // Only a Job's pods may run against a deadline: the other controllers' validation forbids
        // it (`ValidatePodTemplateSpecForReplicaSet`, which Deployments use too, `ValidateStatefulSetSpec`,
        // `ValidateDaemonSetSpec`, `ValidatePodTemplateSpecForRC`).
        if !isJob, let deadline = spec["activeDeadlineSeconds"], !deadline.isNull {
            let named = kind == .deployment ? WorkloadKind.replicaSet : kind
            throw deadline.error(
                "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in \(named.rawValue) is not Supported")
        }
        pod.name = ""
        return pod
    }

    /// keycard's limit on one workload's pods (`Workload.maximumReplicas`).
    static func requireLabSize(_ count: Int, _ value: YAMLValue, _ field: String) throws(ScenarioError) {
        guard count <= Workload.maximumReplicas else {
            throw value.error(
                "\(field) \(count): keycard runs at most \(Workload.maximumReplicas) pods per workload (each is a network namespace)")
        }
    }

    /// The API server's check that a controller owns the pods it makes.
    private func requireMatch(_ selector: LabelSelector, _ template: Pod, _ templateValue: YAMLValue) throws(ScenarioError) {
        guard selector.matches(template.labels) else {
            throw templateValue.error("spec.template.metadata.labels: `selector` (\(selector)) does not match template `labels`")
        }
    }
}

extension ObjectDecoder {
    /// An Indexed Job's controller makes each pod's hostname `<name>-<index>`, so the API server
    /// refuses a Job whose last one, `<name>-<completions - 1>`, is no DNS-1123 label (a dotted
    /// name, or one too long for the index): `ValidateJob`, pkg/apis/batch/validation/validation.go.
    func checkIndexedHostnames(_ name: String, completions: Int, _ metadata: YAMLValue) throws(ScenarioError) {
        let hostname = "\(name)-\(completions - 1)"
        guard let problem = NameRules.dns1123LabelProblem(hostname) else { return }
        let nameValue = try nameNode(metadata)
        throw nameValue.error(
            "Job name \"\(name)\": will not able to create pod with invalid DNS label: \(hostname) (an Indexed Job's pod hostname \(problem))"
        )
    }
}

extension ObjectDecoder {
    /// A DaemonSet whose template names a node no lab node has (`node-0` ... `node-<n-1>`): the
    /// API server accepts it, and its controller makes a pod only for the node of that name
    /// (`WorkloadController.daemonNodes`), so none runs. A name the lab has is no news.
    mutating func warnUnmatchedDaemonNode(_ workload: Workload, _ templateValue: YAMLValue) throws(ScenarioError) {
        guard let name = workload.template.nodeName, WorkloadController.daemonNodes(workload, nodes: labNodes).isEmpty,
            let specValue = try nonNullFields(templateValue, "spec.template")["spec"],
            let nameValue = try nonNullFields(specValue, "spec.template.spec")["nodeName"]
        else { return }
        warnings.append(
            ScenarioWarning(
                location: nameValue.location,
                message:
                    "DaemonSet \(workload.namespace)/\(workload.name): spec.template.spec.nodeName \"\(name)\" matches no lab node (node-0 ... node-\(labNodes - 1)); the DaemonSet controller runs a pod only on the node of that name, so keycard runs none"
            ))
    }

    /// A CronJob whose pod template writes a label the API server generates for each Job
    /// (`WorkloadController.writtenJobLabel`): accepted, warned about at the label; no pod runs.
    mutating func warnWrittenJobLabel(_ label: String, _ workload: Workload, _ templateValue: YAMLValue) throws(ScenarioError) {
        var location = templateValue.location
        if let metadata = try nonNullFields(templateValue, "spec.template")["metadata"],
            let labels = try nonNullFields(metadata, "spec.template.metadata")["labels"],
            let entry = try labels.entries("spec.template.metadata.labels").first(where: { $0.key == label })
        {
            location = entry.keyLocation
        }
        warnings.append(
            ScenarioWarning(
                location: location,
                message:
                    "CronJob \(workload.namespace)/\(workload.name): its pod template sets the label \(label), which the API server generates for each Job from the Job's own name and uid; it refuses every Job the CronJob makes (`selector` not auto-generated), so no pod runs, and keycard runs none"
            ))
    }
}
