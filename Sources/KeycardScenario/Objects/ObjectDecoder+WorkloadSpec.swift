import KeycardModel
import KeycardValues
import Yams

/// The spec fields of workloads that decide no pod but that the API server validates, checked as
/// it checks them so what it refuses is refused here, at the field:
/// - Deployment (pkg/apis/apps/validation `ValidateDeploymentSpec`, `ValidateDeploymentStrategy`,
///   `ValidateRollingUpdateDeployment`): `minReadySeconds`, `revisionHistoryLimit`,
///   `progressDeadlineSeconds` 0 or more, `progressDeadlineSeconds` (default 600) greater than
///   `minReadySeconds`; `strategy.rollingUpdate` only with type RollingUpdate; `maxSurge` and
///   `maxUnavailable` an int 0 or more or a percent (`25%`, maxUnavailable at most 100%), not both 0
///   (defaults 25%).
/// - StatefulSet (`ValidateStatefulSetSpec`): `podManagementPolicy` OrderedReady or Parallel;
///   `serviceName` empty or a DNS-1123 label (Kubernetes 1.33, kubernetes/kubernetes#130233);
///   `persistentVolumeClaimRetentionPolicy` Retain or Delete.
/// - CronJob (pkg/apis/batch/validation `validateCronJobSpec`): `concurrencyPolicy` Allow, Forbid or
///   Replace; `startingDeadlineSeconds`, `successfulJobsHistoryLimit`, `failedJobsHistoryLimit` 0 or more.
/// - Every kind with `minReadySeconds` (ReplicaSet, ReplicationController, DaemonSet): 0 or more.
/// A Job's spec and a CronJob's `jobTemplate.spec` are checked with their template (`checkJobSpec`).
extension ObjectDecoder {
    func checkWorkloadSpec(_ kind: WorkloadKind, _ spec: [String: YAMLValue]) throws(ScenarioError) {
        let minReady = try nonNegative(spec["minReadySeconds"], "spec.minReadySeconds") ?? 0
        switch kind {
        case .deployment:
            _ = try nonNegative(spec["revisionHistoryLimit"], "spec.revisionHistoryLimit")
            if let value = spec["progressDeadlineSeconds"], let deadline = try nonNegative(value, "spec.progressDeadlineSeconds"),
                deadline <= minReady
            {
                throw value.error("spec.progressDeadlineSeconds \(deadline) must be greater than minReadySeconds (\(minReady))")
            } else if spec["progressDeadlineSeconds"] == nil, minReady >= 600, let value = spec["minReadySeconds"] {
                throw value.error(
                    "spec.minReadySeconds \(minReady): spec.progressDeadlineSeconds (default 600) must be greater than minReadySeconds")
            }
            if let strategy = spec["strategy"] { try checkDeploymentStrategy(strategy) }
        case .statefulSet:
            _ = try nonNegative(spec["revisionHistoryLimit"], "spec.revisionHistoryLimit")
            if let value = spec["podManagementPolicy"] {
                let policy = try value.string("spec.podManagementPolicy")
                // An empty string is defaulted to OrderedReady before validation (apps/v1 defaults).
                guard ["", "OrderedReady", "Parallel"].contains(policy) else {
                    throw value.error("spec.podManagementPolicy \"\(policy)\" must be 'OrderedReady' or 'Parallel'")
                }
            }
            if let value = spec["serviceName"] {
                let name = try value.string("spec.serviceName")
                // The pods' spec.subdomain; ValidatePodSpec requires a DNS-1123 label there.
                if !name.isEmpty, let problem = NameRules.dns1123LabelProblem(name) {
                    throw value.error("spec.serviceName \"\(name)\" \(problem)")
                }
            }
            if let strategy = spec["updateStrategy"] { try checkStatefulSetStrategy(strategy) }
            if let policy = spec["persistentVolumeClaimRetentionPolicy"] { try checkClaimRetentionPolicy(policy) }
        case .daemonSet:
            _ = try nonNegative(spec["revisionHistoryLimit"], "spec.revisionHistoryLimit")
            if let strategy = spec["updateStrategy"] { try checkDaemonSetStrategy(strategy) }
        case .cronJob:
            if let value = spec["concurrencyPolicy"] {
                let policy = try value.string("spec.concurrencyPolicy")
                // An empty string is defaulted to Allow (batch/v1 defaults).
                guard ["", "Allow", "Forbid", "Replace"].contains(policy) else {
                    throw value.error("spec.concurrencyPolicy \"\(policy)\" is not supported: Allow, Forbid or Replace")
                }
            }
            _ = try nonNegative(spec["startingDeadlineSeconds"], "spec.startingDeadlineSeconds", in: 0...Int(Int64.max))
            _ = try nonNegative(spec["successfulJobsHistoryLimit"], "spec.successfulJobsHistoryLimit")
            _ = try nonNegative(spec["failedJobsHistoryLimit"], "spec.failedJobsHistoryLimit")
        // A Job's spec, and a CronJob's jobTemplate.spec, need the template read: `checkJobSpec`.
        case .job, .replicaSet, .replicationController: break
        }
    }

    /// A StatefulSet's `persistentVolumeClaimRetentionPolicy`: `whenDeleted` and `whenScaled` each
    /// Retain or Delete (`ValidatePersistentVolumeClaimRetentionPolicy`, pkg/apis/apps/validation);
    /// absent or "" is Retain (`SetDefaults_StatefulSet`). keycard has no volumes; only the values
    /// the API server would refuse matter here.
    private func checkClaimRetentionPolicy(_ policy: YAMLValue) throws(ScenarioError) {
        let path = "spec.persistentVolumeClaimRetentionPolicy"
        try policy.requireKnownFields(path, known: ["whenDeleted", "whenScaled"])
        let fields = try nonNullFields(policy, path)
        for field in ["whenDeleted", "whenScaled"] {
            guard let value = fields[field] else { continue }
            let written = try value.string("\(path).\(field)")
            guard ["", "Retain", "Delete"].contains(written) else {
                throw value.error("\(path).\(field): Unsupported value: \"\(written)\": supported values: \"Retain\", \"Delete\"")
            }
        }
    }

    /// A StatefulSet's `updateStrategy` (`ValidateStatefulSetUpdateStrategy`): `rollingUpdate`
    /// only with type RollingUpdate (the default), its `partition` 0 or more, `maxUnavailable` an
    /// int above 0 or a percent.
    private func checkStatefulSetStrategy(_ strategy: YAMLValue) throws(ScenarioError) {
        guard
            let rollingFields = try rollingUpdateFields(
                strategy, onDelete: "spec.updateStrategy.rollingUpdate: Invalid value: only allowed for updateStrategy 'RollingUpdate'")
        else { return }
        _ = try nonNegative(rollingFields["partition"], "spec.updateStrategy.rollingUpdate.partition")
        if let value = rollingFields["maxUnavailable"],
            try intOrPercent(value, "spec.updateStrategy.rollingUpdate.maxUnavailable", atMost100: true) == 0
        {
            throw value.error("spec.updateStrategy.rollingUpdate.maxUnavailable must be greater than 0")
        }
    }

    /// A DaemonSet's `updateStrategy` (`ValidateRollingUpdateDaemonSet`): `rollingUpdate` only
    /// with type RollingUpdate; `maxUnavailable` (default 1) and `maxSurge` (default 0) ints or
    /// percents, exactly one of them non-zero.
    private func checkDaemonSetStrategy(_ strategy: YAMLValue) throws(ScenarioError) {
        guard
            let rollingFields = try rollingUpdateFields(
                strategy, onDelete: "spec.updateStrategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'OnDelete'")
        else { return }
        let unavailable =
            rollingFields["maxUnavailable"] == nil
            ? 1 : try intOrPercent(rollingFields["maxUnavailable"], "spec.updateStrategy.rollingUpdate.maxUnavailable", atMost100: true)
        let surge =
            rollingFields["maxSurge"] == nil
            ? 0 : try intOrPercent(rollingFields["maxSurge"], "spec.updateStrategy.rollingUpdate.maxSurge", atMost100: true)
        if unavailable == 0, surge == 0 {
            throw (rollingFields["maxUnavailable"] ?? strategy).error(
                "spec.updateStrategy.rollingUpdate.maxUnavailable cannot be 0 when maxSurge is 0")
        }
        if unavailable != 0, surge != 0 {
            throw (rollingFields["maxSurge"] ?? strategy).error(
                "spec.updateStrategy.rollingUpdate.maxSurge may not be set when maxUnavailable is non-zero (maxUnavailable defaults to 1)")
        }
    }

    /// The fields of a StatefulSet's or DaemonSet's `updateStrategy.rollingUpdate`, nil when it
    /// has none; beside `type: OnDelete` it is refused with `onDelete` (the kinds word it apart).
    private func rollingUpdateFields(_ strategy: YAMLValue, onDelete: String) throws(ScenarioError) -> [String: YAMLValue]? {
        let fields = try nonNullFields(strategy, "spec.updateStrategy")
        guard let rolling = fields["rollingUpdate"] else { return nil }
        if try fields["type"]?.string("spec.updateStrategy.type") == "OnDelete" { throw rolling.error(onDelete) }
        return try nonNullFields(rolling, "spec.updateStrategy.rollingUpdate")
    }

    /// `spec.strategy`: type RollingUpdate (default) or Recreate; `rollingUpdate` only with RollingUpdate.
    private func checkDeploymentStrategy(_ strategy: YAMLValue) throws(ScenarioError) {
        let fields = try nonNullFields(strategy, "spec.strategy")
        var type = "RollingUpdate"
        if let typeValue = fields["type"] {
            // "" is unset: SetDefaults_Deployment makes it RollingUpdate.
            type = try typeValue.string("spec.strategy.type")
            if type.isEmpty { type = "RollingUpdate" }
            guard type == "RollingUpdate" || type == "Recreate" else {
                throw typeValue.error("spec.strategy.type must be RollingUpdate or Recreate, found \"\(type)\"")
            }
        }
        guard let rolling = fields["rollingUpdate"] else { return }
        if type == "Recreate" {
            throw rolling.error("spec.strategy.rollingUpdate may not be specified when strategy `type` is 'Recreate'")
        }
        let rollingFields = try nonNullFields(rolling, "spec.strategy.rollingUpdate")
        // Both default to 25% (apps/v1 SetDefaults_Deployment).
        let unavailable = try intOrPercent(rollingFields["maxUnavailable"], "spec.strategy.rollingUpdate.maxUnavailable", atMost100: true)
        let surge = try intOrPercent(rollingFields["maxSurge"], "spec.strategy.rollingUpdate.maxSurge", atMost100: false)
        if unavailable == 0, surge == 0 {
            throw (rollingFields["maxUnavailable"] ?? rolling).error(
                "spec.strategy.rollingUpdate.maxUnavailable may not be 0 when `maxSurge` is 0")
        }
    }

    /// An IntOrString of `ValidatePositiveIntOrPercent`: a plain integer 0 or more, or a string
    /// `N%`; nil (absent) is the default 25%. Returns the number (the percent's, for a string).
    private func intOrPercent(_ value: YAMLValue?, _ field: String, atMost100: Bool) throws(ScenarioError) -> Int {
        guard let value else { return 25 }
        if value.isPlainNumber { return try value.int("\(field) (0 or more)", in: 0...Int(Int32.max)) }
        let text = try value.string(field)
        // `IsValidPercent` is `^[0-9]+%$`; the number is read by `Atoi`, which saturates where it
        // overflows (apps `getPercentValue`), so a huge percent is valid and as large as it gets.
        let digits = text.dropLast()
        guard text.hasSuffix("%"), !digits.isEmpty, digits.allSatisfy({ ("0"..."9").contains($0) }) else {
            throw value.error(
                "\(field) \"\(text)\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%')")
        }
        let percent = Int(digits) ?? Int.max
        if atMost100, percent > 100 { throw value.error("\(field) \"\(text)\" must not be greater than 100%") }
        return percent
    }

    /// An int field `ValidateNonnegativeField` checks (Int32 unless `range` says otherwise); nil when absent.
    func nonNegative(_ value: YAMLValue?, _ field: String, in range: ClosedRange<Int> = 0...Int(Int32.max)) throws(ScenarioError)
        -> Int?
    {
        guard let value else { return nil }
        return try value.int("\(field) (0 or more)", in: range)
    }
}

extension ObjectDecoder {
    /// A StatefulSet's fields that may not change (`Workload.fixedSpec`), and a warning at its
    /// name when the controller could not create its pods (`WorkloadController.statefulPodProblem`):
    /// the API server accepts the StatefulSet, its pods are never created, and keycard runs none.
    mutating func readStatefulIdentity(_ spec: [String: YAMLValue], _ metadata: YAMLValue, _ workload: inout Workload)
        throws(ScenarioError)
    {
        let policy = try spec["podManagementPolicy"]?.string("spec.podManagementPolicy") ?? ""
        workload.fixedSpec = [
            "serviceName": workload.serviceName ?? "",
            "podManagementPolicy": policy.isEmpty ? "OrderedReady" : policy,
            "volumeClaimTemplates": try spec["volumeClaimTemplates"]?.canonicalText() ?? "[]",
        ]
        let end = workload.startOrdinal + workload.replicas
        guard
            let ordinal = (workload.startOrdinal..<end).first(where: { WorkloadController.statefulPodProblem(workload, ordinal: $0) != nil }
            ),
            let problem = WorkloadController.statefulPodProblem(workload, ordinal: ordinal)
        else { return }
        let nameValue = try nameNode(metadata)
        let which = ordinal == workload.startOrdinal ? "no pod" : "no pod from ordinal \(ordinal) on"
        let runs = ordinal == workload.startOrdinal ? "none" : "only those before it"
        warnings.append(
            ScenarioWarning(
                location: nameValue.location,
                message:
                    "StatefulSet \(workload.namespace)/\(workload.name): \(problem); the API server refuses such pods, so the controller creates \(which), and keycard runs \(runs)"
            ))
    }
}

extension YAMLValue {
    /// The value written out with mapping keys sorted: equal for equal values however they are
    /// laid out (flow or block, key order, quoting), to compare fields that may not change. Every
    /// node visited spends the document's budget, so aliases cannot make it explode.
    func canonicalText() throws(ScenarioError) -> String {
        try budget.spend(at: location)
        func text(_ node: Node) throws(ScenarioError) -> String {
            try YAMLValue(node, file: file, budget: budget, marks: marks).canonicalText()
        }
        switch node {
        case .scalar(let scalar): return isNull ? "null" : "\"\(scalar.string)\""
        case .mapping(let mapping):
            var pairs: [String] = []
            for (key, value) in mapping { pairs.append("\(try text(key)):\(try text(value))") }
            return "{" + pairs.sorted().joined(separator: ",") + "}"
        case .sequence(let sequence):
            var items: [String] = []
            for item in sequence { items.append(try text(item)) }
            return "[" + items.joined(separator: ",") + "]"
        default: return "?"
        }
    }
}
