import KeycardModel

/// The fields the Kubernetes API defines (core/v1, apps/v1, batch/v1, as of 1.34) for the objects
/// keycard reads. kubectl's default `--validate=strict` makes the API server refuse any other field
/// ("strict decoding error: unknown field"), and a typo there is no harmless extra: `namespce`
/// puts a deny-all policy in `default`, `lables` leaves a pod unselected, `replica` runs one pod.
///
/// Where the schema is small and stable (the object, ObjectMeta, workload specs, pod templates,
/// container ports) an unknown field is refused like the API server refuses it. PodSpec and
/// Container grow in most releases; there an unknown field is a warning, so that a manifest
/// written for a newer cluster still loads.
enum KnownFields {
    /// Every object keycard decodes.
    static let object: Set<String> = ["apiVersion", "kind", "metadata", "spec", "status"]

    /// ObjectMeta (meta/v1).
    static let objectMeta: Set<String> = [
        "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
        "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers",
        "managedFields",
    ]

    /// PodTemplateSpec, and a CronJob's JobTemplateSpec.
    static let template: Set<String> = ["metadata", "spec"]

    /// The `spec` of each workload kind.
    static func workloadSpec(_ kind: WorkloadKind) -> Set<String> {
        switch kind {
        case .deployment:
            [
                "replicas", "selector", "template", "strategy", "minReadySeconds", "revisionHistoryLimit", "paused",
                "progressDeadlineSeconds",
            ]
        case .replicaSet: ["replicas", "minReadySeconds", "selector", "template"]
        case .replicationController: ["replicas", "minReadySeconds", "selector", "template"]
        case .statefulSet:
            [
                "replicas", "selector", "template", "volumeClaimTemplates", "serviceName", "podManagementPolicy", "updateStrategy",
                "revisionHistoryLimit", "minReadySeconds", "persistentVolumeClaimRetentionPolicy", "ordinals",
            ]
        case .daemonSet: ["selector", "template", "updateStrategy", "minReadySeconds", "revisionHistoryLimit"]
        case .job: jobSpec
        case .cronJob:
            [
                "schedule", "timeZone", "startingDeadlineSeconds", "concurrencyPolicy", "suspend", "jobTemplate",
                "successfulJobsHistoryLimit", "failedJobsHistoryLimit",
            ]
        }
    }

    /// JobSpec (batch/v1).
    static let jobSpec: Set<String> = [
        "parallelism", "completions", "activeDeadlineSeconds", "podFailurePolicy", "successPolicy", "backoffLimit",
        "backoffLimitPerIndex", "maxFailedIndexes", "selector", "manualSelector", "template", "ttlSecondsAfterFinished",
        "completionMode", "suspend", "podReplacementPolicy", "managedBy",
    ]

    /// ContainerPort.
    static let containerPort: Set<String> = ["name", "hostPort", "containerPort", "protocol", "hostIP"]

    /// ServiceSpec (warned about, not refused: it grows, e.g. trafficDistribution in 1.30).
    static let serviceSpec: Set<String> = [
        "ports", "selector", "clusterIP", "clusterIPs", "type", "externalIPs", "sessionAffinity", "loadBalancerIP",
        "loadBalancerSourceRanges", "externalName", "externalTrafficPolicy", "healthCheckNodePort", "publishNotReadyAddresses",
        "sessionAffinityConfig", "ipFamilies", "ipFamilyPolicy", "allocateLoadBalancerNodePorts", "loadBalancerClass",
        "internalTrafficPolicy", "trafficDistribution",
    ]

    /// ServicePort.
    static let servicePort: Set<String> = ["name", "protocol", "appProtocol", "port", "targetPort", "nodePort"]

    /// PodSpec (warned about, not refused).
    static let podSpec: Set<String> = [
        "volumes", "initContainers", "containers", "ephemeralContainers", "restartPolicy", "terminationGracePeriodSeconds",
        "activeDeadlineSeconds", "dnsPolicy", "nodeSelector", "serviceAccountName", "serviceAccount",
        "automountServiceAccountToken", "nodeName", "hostNetwork", "hostPID", "hostIPC", "shareProcessNamespace",
        "securityContext", "imagePullSecrets", "hostname", "hostnameOverride", "subdomain", "affinity", "schedulerName", "tolerations",
        "hostAliases", "priorityClassName", "priority", "dnsConfig", "readinessGates", "runtimeClassName",
        "enableServiceLinks", "preemptionPolicy", "overhead", "topologySpreadConstraints", "setHostnameAsFQDN", "os",
        "hostUsers", "schedulingGates", "resourceClaims", "resources",
    ]

    /// Container (warned about, not refused).
    static let container: Set<String> = [
        "name", "image", "command", "args", "workingDir", "ports", "envFrom", "env", "resources", "resizePolicy",
        "restartPolicy", "restartPolicyRules", "volumeMounts", "volumeDevices", "livenessProbe", "readinessProbe",
        "startupProbe", "lifecycle", "terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy",
        "securityContext", "stdin", "stdinOnce", "tty",
    ]
}

extension YAMLValue {
    /// The keys of this mapping that `known` does not hold, with where each is written.
    func unknownFields(_ what: String, known: Set<String>) throws(ScenarioError) -> [(key: String, location: SourceLocation)] {
        try entries(what).filter { !known.contains($0.key) }.map { ($0.key, $0.keyLocation) }
    }

    /// Refuses a field the API does not define, as the API server does under kubectl's default
    /// `--validate=strict`.
    func requireKnownFields(_ what: String, known: Set<String>) throws(ScenarioError) {
        if let unknown = try unknownFields(what, known: known).first {
            throw ScenarioError(
                unknown.location, "unknown field \"\(unknown.key)\" in \(what) (kubectl's default --validate=strict refuses it)")
        }
    }
}

extension ObjectDecoder {
    /// Warns about fields a schema that grows each release does not hold (yet, for keycard).
    mutating func warnUnknownFields(_ value: YAMLValue, _ what: String, known: Set<String>) throws(ScenarioError) {
        for unknown in try value.unknownFields(what, known: known) {
            warnings.append(
                ScenarioWarning(
                    location: unknown.location,
                    message:
                        "unknown field \"\(unknown.key)\" in \(what): ignored here; the API server refuses it under kubectl's default --validate=strict unless the cluster is newer than keycard knows"
                ))
        }
    }
}
