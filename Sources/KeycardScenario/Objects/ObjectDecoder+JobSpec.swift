import KeycardModel

/// A Job's spec, or a CronJob's `jobTemplate.spec`, checked as `validateJobSpec`
/// (pkg/apis/batch/validation/validation.go) checks it: `ValidateJob` calls it for a Job,
/// `ValidateJobTemplateSpec` for a CronJob's template, so what it refuses in a Job it refuses in
/// a CronJob too (the CronJob is refused, not each Job it would make). `path` is where the spec
/// is (`spec`, `spec.jobTemplate.spec`), for messages. Fields that decide no pod are checked only:
/// - `backoffLimit`, `ttlSecondsAfterFinished`, `backoffLimitPerIndex`, `maxFailedIndexes`,
///   `activeDeadlineSeconds`: 0 or more (`ValidateNonnegativeField`);
/// - `maxFailedIndexes` needs `backoffLimitPerIndex`; both, and `successPolicy`, need
///   `completionMode: Indexed`; there `maxFailedIndexes` is at most `completions` and 100,000,
///   and above 100,000 completions with `backoffLimitPerIndex` it is required and at most 10,000;
/// - `podFailurePolicy` (`validatePodFailurePolicy`): the template's `restartPolicy` must be
///   Never; at most 20 rules, each with an action Count, FailIndex (with `backoffLimitPerIndex`),
///   FailJob or Ignore and exactly one of `onExitCodes` (operator In or NotIn; `containerName` one
///   of the template's containers; 1 to 255 values, ordered, unique, no 0 for In) and
///   `onPodConditions` (at most 20; `type` a qualified name; `status` True, False or Unknown);
/// - `successPolicy` (`validateSuccessPolicy`): 1 to 20 rules, each with a well-formed
///   `succeededIndexes` below `completions` or a `succeededCount` of at most `completions` (and of
///   the indexes it lists), or both;
/// - `podReplacementPolicy` (`validatePodReplacementPolicy`): Failed or TerminatingOrFailed, only
///   Failed with a `podFailurePolicy`.
extension ObjectDecoder {
    /// Upstream's limits (validation.go's constants of the same names).
    static let maxFailedIndexesForIndexedJob = 100_000
    static let completionsSoftLimit = 100_000
    static let maxFailedIndexesLimitForHighCompletions = 10_000
    static let maxPodFailurePolicyRules = 20
    static let maxPodFailurePolicyOnExitCodesValues = 255
    static let maxPodFailurePolicyOnPodConditionsPatterns = 20
    /// `maxSuccessPolicyRule` and `maxJobSuccessPolicySucceededIndexesLimit`.
    static let maxSuccessPolicyRules = 20
    static let maxSucceededIndexesLength = 64 * 1024

    /// `spec` is the Job spec's non-null fields, `templateValue` its `template`, `template` that
    /// template read (its container names); `indexed` and `completions` as already read.
    func checkJobSpec(
        _ spec: [String: YAMLValue], path: String, indexed: Bool, completions: Int?, templateValue: YAMLValue, template: Pod
    ) throws(ScenarioError) {
        _ = try nonNegative(spec["backoffLimit"], "\(path).backoffLimit")
        _ = try nonNegative(spec["activeDeadlineSeconds"], "\(path).activeDeadlineSeconds", in: 0...Int(Int64.max))
        _ = try nonNegative(spec["ttlSecondsAfterFinished"], "\(path).ttlSecondsAfterFinished")
        let backoffLimitPerIndex = try nonNegative(spec["backoffLimitPerIndex"], "\(path).backoffLimitPerIndex")
        let maxFailedIndexes = try nonNegative(spec["maxFailedIndexes"], "\(path).maxFailedIndexes")
        // Per-index fields need Indexed mode.
        for field in ["backoffLimitPerIndex", "maxFailedIndexes", "successPolicy"] where !indexed {
            if let value = spec[field] { throw value.error("\(path).\(field) requires indexed completion mode") }
        }
        if let value = spec["maxFailedIndexes"], backoffLimitPerIndex == nil {
            throw value.error("\(path).backoffLimitPerIndex is required when maxFailedIndexes is specified")
        }
        if indexed, let value = spec["maxFailedIndexes"], let maxFailedIndexes {
            if let completions, maxFailedIndexes > completions {
                throw value.error("\(path).maxFailedIndexes: Invalid value: \(maxFailedIndexes): must be less than or equal to completions")
            }
            if maxFailedIndexes > Self.maxFailedIndexesForIndexedJob {
                throw value.error(
                    "\(path).maxFailedIndexes: Invalid value: \(maxFailedIndexes): must be less than or equal to \(Self.maxFailedIndexesForIndexedJob)"
                )
            }
        }
        if indexed, let completions, completions > Self.completionsSoftLimit, let perIndex = spec["backoffLimitPerIndex"] {
            guard let value = spec["maxFailedIndexes"], let maxFailedIndexes else {
                throw perIndex.error(
                    "\(path).maxFailedIndexes: Required value: must be specified when completions is above \(Self.completionsSoftLimit)")
            }
            if maxFailedIndexes > Self.maxFailedIndexesLimitForHighCompletions {
                throw value.error(
                    "\(path).maxFailedIndexes: Invalid value: \(maxFailedIndexes): must be less than or equal to \(Self.maxFailedIndexesLimitForHighCompletions) when completions are above \(Self.completionsSoftLimit) and used with backoff limit per index"
                )
            }
        }
        if indexed, let policy = spec["successPolicy"], let completions {
            try checkSuccessPolicy(policy, path: "\(path).successPolicy", completions: completions)
        }
        if let policy = spec["podFailurePolicy"] {
            try checkPodFailurePolicy(
                policy, path: "\(path).podFailurePolicy", perIndex: backoffLimitPerIndex != nil, containers: template.containerNames)
            // Pods that restart in place never fail as a whole, so no rule could judge them.
            let templateSpec = try nonNullFields(templateValue, "spec.template")["spec"]
            if let templateSpec, let restart = try nonNullFields(templateSpec, "spec.template.spec")["restartPolicy"] {
                let written = try restart.string("\(path).template.spec.restartPolicy")
                if written != "Never" {
                    throw restart.error(
                        "\(path).template.spec.restartPolicy: Invalid value: \"\(written)\": only \"Never\" is supported when podFailurePolicy is specified"
                    )
                }
            }
        }
        if let value = spec["podReplacementPolicy"] {
            // Defaulted only when absent (SetDefaults_Job), so "" is refused like any other value.
            let policy = try value.string("\(path).podReplacementPolicy")
            let supported = spec["podFailurePolicy"] == nil ? ["Failed", "TerminatingOrFailed"] : ["Failed"]
            guard supported.contains(policy) else {
                throw value.error(
                    "\(path).podReplacementPolicy: Unsupported value: \"\(policy)\": supported values: \(Self.quoted(supported))"
                        + (spec["podFailurePolicy"] == nil ? "" : " (with a podFailurePolicy)"))
            }
        }
    }

    /// `validateSuccessPolicy` and `validateSuccessPolicyRule` (pkg/apis/batch/validation): 1 to 20
    /// rules, each with `succeededIndexes` (a list of indexes and ranges below `completions`,
    /// increasing: `validateIndexesFormat`; at most 64 KiB), `succeededCount` (0 to `completions`,
    /// and no more than the indexes listed), or both. Only an Indexed Job reaches here
    /// (`completions` is then required). A null rule is the zero rule, refused for naming neither.
    private func checkSuccessPolicy(_ value: YAMLValue, path: String, completions: Int) throws(ScenarioError) {
        try value.requireKnownFields(path, known: ["rules"])
        let rulesValue = try nonNullFields(value, path)["rules"]
        let rules = try rulesValue?.items("\(path).rules") ?? []
        if rules.isEmpty {
            throw (rulesValue ?? value).error(
                "\(path).rules: Required value: at least one rules must be specified when the successPolicy is specified")
        }
        if rules.count > Self.maxSuccessPolicyRules, let rulesValue {
            throw rulesValue.error("\(path).rules: Too many: \(rules.count): must have at most \(Self.maxSuccessPolicyRules) items")
        }
        for (index, rule) in rules.enumerated() {
            let rulePath = "\(path).rules[\(index)]"
            let fields = try itemFields(rule, rulePath, known: ["succeededIndexes", "succeededCount"])
            let indexesValue = fields["succeededIndexes"]
            let countValue = fields["succeededCount"]
            if indexesValue == nil, countValue == nil {
                throw rule.error("\(rulePath): Required value: at least one of succeededCount or succeededIndexes must be specified")
            }
            var listed: Int?
            if let indexesValue {
                let indexes = try indexesValue.string("\(rulePath).succeededIndexes")
                if indexes.utf8.count > Self.maxSucceededIndexesLength {
                    throw indexesValue.error(
                        "\(rulePath).succeededIndexes: Too long: may not be more than \(Self.maxSucceededIndexesLength) bytes")
                }
                switch Self.indexCount(indexes, completions: completions) {
                case .success(let count): listed = count
                case .failure(let problem):
                    throw indexesValue.error(
                        "\(rulePath).succeededIndexes: Invalid value: \"\(indexes)\": error parsing succeededIndexes: \(problem.text)")
                }
            }
            if let countValue {
                let count = try countValue.int("\(rulePath).succeededCount", in: Int(Int32.min)...Int(Int32.max))
                if count < 0 {
                    throw countValue.error("\(rulePath).succeededCount: Invalid value: \(count): must be greater than or equal to 0")
                }
                if count > completions {
                    throw countValue.error(
                        "\(rulePath).succeededCount: Invalid value: \(count): must be less than or equal to \(completions) (the number of specified completions)"
                    )
                }
                if let listed, count > listed {
                    throw countValue.error(
                        "\(rulePath).succeededCount: Invalid value: \(count): must be less than or equal to \(listed) (the number of indexes in the specified succeededIndexes field)"
                    )
                }
            }
        }
    }

    /// Why `validateIndexesFormat` refuses a list of indexes (as a Job's `completedIndexes` is
    /// written: `1,3-5,7`), for `IndexListProblem`.
    struct IndexListProblem: Error { var text: String }

    /// How many indexes `text` lists, as `validateIndexesFormat` and `parseIndexInterval`
    /// (pkg/apis/batch/validation/validation.go) count them: intervals split at `,`, each a number
    /// or `a-b` with `a < b`, every number below `completions` and each interval after the last;
    /// a number is read by Go's `strconv.Atoi` (an optional sign, decimal digits, within int64).
    /// The empty text lists none.
    static func indexCount(_ text: String, completions: Int) -> Result<Int, IndexListProblem> {
        if text.isEmpty { return .success(0) }
        func atoi(_ piece: Substring) -> Int? {
            var digits = piece
            if digits.first == "+" || digits.first == "-" { digits = digits.dropFirst() }
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int(piece.first == "+" ? digits : piece)
        }
        var total = 0
        var last: Int?
        for interval in text.split(separator: ",", omittingEmptySubsequences: false) {
            let limits = interval.split(separator: "-", omittingEmptySubsequences: false)
            if limits.count > 2 {
                return .failure(
                    IndexListProblem(
                        text:
                            "the fragment \"\(interval)\" violates the requirement that an index interval can have at most two parts separated by '-'"
                    ))
            }
            var bounds: [Int] = []
            for limit in limits {
                guard let number = atoi(limit) else {
                    return .failure(IndexListProblem(text: "cannot convert string to integer for index: \"\(limit)\""))
                }
                if number >= completions { return .failure(IndexListProblem(text: "too large index: \"\(limit)\"")) }
                bounds.append(number)
            }
            let (x, y) = (bounds[0], bounds.count == 2 ? bounds[1] : bounds[0])
            if bounds.count == 2, x >= y { return .failure(IndexListProblem(text: "non-increasing order, previous: \(x), current: \(y)")) }
            if let last, last >= x { return .failure(IndexListProblem(text: "non-increasing order, previous: \(last), current: \(x)")) }
            total += y - x + 1
            last = y
        }
        return .success(total)
    }

    /// `validatePodFailurePolicy` and `validatePodFailurePolicyRule`. A null rule is the zero rule
    /// (the JSON decoder's), refused for its missing action.
    private func checkPodFailurePolicy(_ value: YAMLValue, path: String, perIndex: Bool, containers: [String]) throws(ScenarioError) {
        try value.requireKnownFields(path, known: ["rules"])
        guard let rulesValue = try nonNullFields(value, path)["rules"] else { return }
        let rules = try rulesValue.items("\(path).rules")
        if rules.count > Self.maxPodFailurePolicyRules {
            throw rulesValue.error("\(path).rules: Too many: \(rules.count): must have at most \(Self.maxPodFailurePolicyRules) items")
        }
        let actions = ["Count", "FailIndex", "FailJob", "Ignore"]
        for (index, rule) in rules.enumerated() {
            let rulePath = "\(path).rules[\(index)]"
            let fields = try itemFields(rule, rulePath, known: ["action", "onExitCodes", "onPodConditions"])
            let action = try fields["action"]?.string("\(rulePath).action") ?? ""
            let actionValue = fields["action"] ?? rule
            if action.isEmpty {
                throw actionValue.error("\(rulePath).action: Required value: valid values: \(Self.goList(actions))")
            } else if action == "FailIndex" {
                if !perIndex {
                    throw actionValue.error("\(rulePath).action: Invalid value: \"FailIndex\": requires the backoffLimitPerIndex to be set")
                }
            } else if !actions.contains(action) {
                throw actionValue.error("\(rulePath).action: Unsupported value: \"\(action)\": supported values: \(Self.quoted(actions))")
            }
            if let onExitCodes = fields["onExitCodes"] {
                try checkOnExitCodes(onExitCodes, path: "\(rulePath).onExitCodes", containers: containers)
            }
            var patterns: [YAMLValue] = []
            if let onPodConditions = fields["onPodConditions"] {
                patterns = try onPodConditions.items("\(rulePath).onPodConditions")
                try checkOnPodConditions(onPodConditions, patterns, path: "\(rulePath).onPodConditions")
            }
            if fields["onExitCodes"] != nil, !patterns.isEmpty {
                throw rule.error("\(rulePath): Invalid value: specifying both OnExitCodes and OnPodConditions is not supported")
            }
            if fields["onExitCodes"] == nil, patterns.isEmpty {
                throw rule.error("\(rulePath): Invalid value: specifying one of OnExitCodes and OnPodConditions is required")
            }
        }
    }

    /// `validatePodFailurePolicyRuleOnExitCodes`.
    private func checkOnExitCodes(_ value: YAMLValue, path: String, containers: [String]) throws(ScenarioError) {
        try value.requireKnownFields(path, known: ["containerName", "operator", "values"])
        let fields = try nonNullFields(value, path)
        let operators = ["In", "NotIn"]
        let opValue = fields["operator"] ?? value
        let op = try fields["operator"]?.string("\(path).operator") ?? ""
        if op.isEmpty { throw opValue.error("\(path).operator: Required value: valid values: \(Self.goList(operators))") }
        if !operators.contains(op) {
            throw opValue.error("\(path).operator: Unsupported value: \"\(op)\": supported values: \(Self.quoted(operators))")
        }
        if let nameValue = fields["containerName"] {
            let name = try nameValue.string("\(path).containerName")
            if !containers.contains(name) {
                throw nameValue.error(
                    "\(path).containerName: Invalid value: \"\(name)\": must be one of the container or initContainer names in the pod template"
                )
            }
        }
        let valuesValue = fields["values"]
        let items = try valuesValue?.items("\(path).values") ?? []
        if items.isEmpty {
            throw (valuesValue ?? value).error("\(path).values: Invalid value: []: at least one value is required")
        }
        if items.count > Self.maxPodFailurePolicyOnExitCodesValues {
            throw (valuesValue ?? value).error(
                "\(path).values: Too many: \(items.count): must have at most \(Self.maxPodFailurePolicyOnExitCodesValues) items")
        }
        var codes: [Int] = []
        for (index, item) in items.enumerated() {
            // An int32; a null item is the JSON decoder's zero.
            let code = item.isNull ? 0 : try item.int("\(path).values[\(index)]", in: Int(Int32.min)...Int(Int32.max))
            if op == "In", code == 0 {
                throw item.error("\(path).values[\(index)]: Invalid value: 0: must not be 0 for the In operator")
            }
            if codes.contains(code) { throw item.error("\(path).values[\(index)]: Duplicate value: \(code)") }
            codes.append(code)
        }
        if codes != codes.sorted(), let valuesValue {
            let list = "[" + codes.map(String.init).joined(separator: " ") + "]"
            throw valuesValue.error("\(path).values: Invalid value: \(list): must be ordered")
        }
    }

    /// `validatePodFailurePolicyRuleOnPodConditions`. An empty `status` is True: `SetDefaults_Job`
    /// sets it, and since kubernetes/kubernetes#131525 (1.34) a CronJob's template gets the same
    /// default (before, such a CronJob was refused: "status: Required value").
    private func checkOnPodConditions(_ value: YAMLValue, _ patterns: [YAMLValue], path: String) throws(ScenarioError) {
        if patterns.count > Self.maxPodFailurePolicyOnPodConditionsPatterns {
            throw value.error(
                "\(path): Too many: \(patterns.count): must have at most \(Self.maxPodFailurePolicyOnPodConditionsPatterns) items")
        }
        let statuses = ["False", "True", "Unknown"]
        for (index, pattern) in patterns.enumerated() {
            let patternPath = "\(path)[\(index)]"
            let fields = try itemFields(pattern, patternPath, known: ["type", "status"])
            let type = try fields["type"]?.string("\(patternPath).type") ?? ""
            if let problem = NameRules.labelKeyProblem(type, as: "type") {
                throw (fields["type"] ?? pattern).error("\(patternPath).type: \(problem) (a qualified name, as a label key)")
            }
            if let statusValue = fields["status"] {
                let status = try statusValue.string("\(patternPath).status")
                if !status.isEmpty, !statuses.contains(status) {
                    throw statusValue.error(
                        "\(patternPath).status: Unsupported value: \"\(status)\": supported values: \(Self.quoted(statuses))")
                }
            }
        }
    }

    /// A Job's spec fields an update may not change (`ValidateJobSpecUpdate`,
    /// pkg/apis/batch/validation/validation.go: `completionMode`, `podFailurePolicy`,
    /// `backoffLimitPerIndex`, `managedBy`, `successPolicy` are immutable), each as written
    /// (`completionMode` with its default, NonIndexed: `SetDefaults_Job`), "" when absent, for
    /// `Workload.fixedSpec`. `completions`, the selector and the template have rules of their own
    /// (`ClusterChange.checkJobUpdate`).
    static func immutableJobFields(_ spec: [String: YAMLValue]) throws(ScenarioError) -> [String: String] {
        var fields: [String: String] = [:]
        for name in ["podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"] {
            fields[name] = try spec[name]?.canonicalText() ?? ""
        }
        let mode = try spec["completionMode"]?.string("spec.completionMode") ?? ""
        fields["completionMode"] = mode.isEmpty ? "NonIndexed" : mode
        return fields
    }

    /// `"a", "b"`, as `field.NotSupported` lists supported values.
    static func quoted(_ values: [String]) -> String { values.map { "\"\($0)\"" }.joined(separator: ", ") }

    /// `["a" "b"]`, as Go's `%q` prints a list (upstream's "Required value: valid values: %q").
    static func goList(_ values: [String]) -> String { "[" + values.map { "\"\($0)\"" }.joined(separator: " ") + "]" }
}
