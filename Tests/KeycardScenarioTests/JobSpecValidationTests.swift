import KeycardModel
import Testing

@testable import KeycardScenario

private typealias T = ScenarioText

/// A Job prod/`name` whose spec starts with `fields` (indented YAML lines, may be empty) and whose
/// template has `labels` and `restartPolicy`.
private func job(_ fields: String, name: String = "once", labels: String = "{app: once}", restart: String = "Never") -> String {
    """
    - apiVersion: batch/v1
      kind: Job
      metadata: {name: \(name), namespace: prod}
      spec:
    \(T.indent(fields, 4))
        template:
          metadata: {labels: \(labels)}
          spec: {restartPolicy: \(restart), containers: [{name: main, image: i}], initContainers: [{name: setup, image: i}]}
    """
}

/// The same spec as a CronJob prod/nightly's `jobTemplate.spec`.
private func cronJob(_ fields: String, labels: String = "{app: nightly}", restart: String = "Never") -> String {
    """
    - apiVersion: batch/v1
      kind: CronJob
      metadata: {name: nightly, namespace: prod}
      spec:
        schedule: '0 3 * * *'
        jobTemplate:
          spec:
    \(T.indent(fields, 8))
            template:
              metadata: {labels: \(labels)}
              spec: {restartPolicy: \(restart), containers: [{name: main, image: i}], initContainers: [{name: setup, image: i}]}
    """
}

/// Where `spot` is in `text`, as the error's location must be.
private func expectSpot(_ error: ScenarioError, _ spot: Spot, in text: String, _ comment: String) {
    guard let (line, column) = spot.resolve(in: text) else {
        Issue.record("test bug: \(spot.needle) is not in the text (\(comment))")
        return
    }
    #expect(error.location.line == line, "\(comment): \(error)")
    if let column { #expect(error.location.column == column, "\(comment): \(error)") }
}

@Suite("Jobs and CronJobs: spec validation (validateJobSpec, ValidateJobTemplateSpec)")
struct JobSpecValidationTests {
    /// A CronJob's Jobs always get generated selectors: any `selector` in its jobTemplate, `{}`
    /// included, and `manualSelector: true` are refused at the field (a Job may have both).
    @Test(arguments: [
        ("selector: {}", "selector: {}", "spec.jobTemplate.spec.selector: Invalid value: `selector` will be auto-generated"),
        (
            "manualSelector: false\nselector: {matchLabels: {app: nightly}}", "selector: {m",
            "spec.jobTemplate.spec.selector: Invalid value: `selector` will be auto-generated"
        ),
        (
            "selector: {matchLabels: {batch.kubernetes.io/job-name: nightly}}", "selector: {m",
            "spec.jobTemplate.spec.selector: Invalid value: `selector` will be auto-generated"
        ),
        (
            "manualSelector: true", "manualSelector: true",
            "spec.jobTemplate.spec.manualSelector: Unsupported value: true: supported values: \"nil\", \"false\""
        ),
    ])
    func aCronJobTemplateSelectorIsRefused(_ fields: String, _ at: String, _ message: String) throws {
        let text = T.scenario(resources: cronJob(fields))
        let error = try #require(parseError(text))
        #expect(error.message.contains(message), "\(error)")
        let token = String(at.split(separator: " ").last ?? "")
        expectSpot(error, .at(at, column: token), in: text, fields)
    }

    /// What ValidateJobTemplateSpec leaves alone loads: `selector: null`, `manualSelector: false`.
    @Test func aCronJobTemplateWithoutASelectorLoads() throws {
        let t = try timeline(T.scenario(resources: cronJob("selector: null\nmanualSelector: false")))
        #expect(t.initial.pods(of: WorkloadKey(.cronJob, "prod", "nightly")).count == 1)
    }

    /// A manualSelector Job keeps its own selector (WL-14), and `selector: {}` on a Job still
    /// loads (WL-44): the CronJob rule is the CronJob's only.
    @Test func aJobsSelectorRulesStay() throws {
        let manual = job("manualSelector: true\nselector: {matchLabels: {app: once}}")
        #expect(try timeline(T.scenario(resources: manual)).initial.pods(of: WorkloadKey(.job, "prod", "once")).count == 1)
        let open = job("selector: {}")
        #expect(try timeline(T.scenario(resources: open)).initial.pods(of: WorkloadKey(.job, "prod", "once")).count == 1)
    }

    /// The fields `validateJobSpec` refuses, each at its field, in a Job (`spec.`) and in a
    /// CronJob's jobTemplate (`spec.jobTemplate.spec.`): the same function checks both.
    static let invalid: [(fields: String, restart: String, at: Spot, message: String)] = [
        ("backoffLimit: -1", "Never", .at("backoffLimit: -1", column: "-1"), "backoffLimit (0 or more)"),
        ("activeDeadlineSeconds: -3", "Never", .at("activeDeadlineSeconds", column: "-3"), "activeDeadlineSeconds (0 or more)"),
        ("ttlSecondsAfterFinished: -5", "Never", .at("ttlSecondsAfterFinished", column: "-5"), "ttlSecondsAfterFinished (0 or more)"),
        (
            "completionMode: Indexed\ncompletions: 2\nbackoffLimitPerIndex: -1", "Never", .at("backoffLimitPerIndex", column: "-1"),
            "backoffLimitPerIndex (0 or more)"
        ),
        (
            "completionMode: Indexed\ncompletions: 2\nbackoffLimitPerIndex: 1\nmaxFailedIndexes: -1", "Never",
            .at("maxFailedIndexes", column: "-1"), "maxFailedIndexes (0 or more)"
        ),
        (
            "completionMode: Indexed\ncompletions: 2\nbackoffLimitPerIndex: 1\nmaxFailedIndexes: 5", "Never",
            .at("maxFailedIndexes", column: "5"), "maxFailedIndexes: Invalid value: 5: must be less than or equal to completions"
        ),
        (
            "completionMode: Indexed\ncompletions: 2\nmaxFailedIndexes: 1", "Never", .at("maxFailedIndexes", column: "1"),
            "backoffLimitPerIndex is required when maxFailedIndexes is specified"
        ),
        (
            "backoffLimitPerIndex: 1", "Never", .at("backoffLimitPerIndex", column: "1"),
            "backoffLimitPerIndex requires indexed completion mode"
        ),
        (
            "completionMode: Indexed", "Never", .at("completionMode", column: "Indexed"),
            "completions is required when completionMode is Indexed"
        ),
        (
            "podFailurePolicy: {rules: [{action: FailJob, onExitCodes: {operator: In, values: [42]}}]}", "OnFailure",
            .at("restartPolicy: OnFailure", column: "OnFailure"),
            "restartPolicy: Invalid value: \"OnFailure\": only \"Never\" is supported when podFailurePolicy is specified"
        ),
        (
            "podFailurePolicy: {rules: [{action: Explode, onExitCodes: {operator: In, values: [42]}}]}", "Never",
            .at("Explode", column: "Explode"),
            "podFailurePolicy.rules[0].action: Unsupported value: \"Explode\": supported values: \"Count\", \"FailIndex\", \"FailJob\", \"Ignore\""
        ),
        (
            "podFailurePolicy: {rules: [{onExitCodes: {operator: In, values: [42]}}]}", "Never", .at("podFailurePolicy", column: "{onExit"),
            "podFailurePolicy.rules[0].action: Required value: valid values: [\"Count\" \"FailIndex\" \"FailJob\" \"Ignore\"]"
        ),
        (
            "podFailurePolicy: {rules: [{action: FailIndex, onExitCodes: {operator: In, values: [42]}}]}", "Never",
            .at("FailIndex", column: "FailIndex"), "action: Invalid value: \"FailIndex\": requires the backoffLimitPerIndex to be set"
        ),
        (
            "podFailurePolicy: {rules: [{action: Ignore}]}", "Never", .at("podFailurePolicy", column: "{action"),
            "podFailurePolicy.rules[0]: Invalid value: specifying one of OnExitCodes and OnPodConditions is required"
        ),
        (
            "podFailurePolicy: {rules: [{action: Ignore, onPodConditions: []}]}", "Never", .at("podFailurePolicy", column: "{action"),
            "specifying one of OnExitCodes and OnPodConditions is required"
        ),
        (
            "podFailurePolicy: {rules: [{action: Ignore, onExitCodes: {operator: In, values: [1]}, onPodConditions: [{type: DisruptionTarget}]}]}",
            "Never", .at("podFailurePolicy", column: "{action"),
            "specifying both OnExitCodes and OnPodConditions is not supported"
        ),
        (
            "podFailurePolicy: {rules: [{action: FailJob, onExitCodes: {operator: Between, values: [1]}}]}", "Never",
            .at("Between", column: "Between"), "onExitCodes.operator: Unsupported value: \"Between\": supported values: \"In\", \"NotIn\""
        ),
        (
            "podFailurePolicy: {rules: [{action: FailJob, onExitCodes: {values: [1]}}]}", "Never", .at("onExitCodes", column: "{values"),
            "onExitCodes.operator: Required value"
        ),
        (
            "podFailurePolicy: {rules: [{action: FailJob, onExitCodes: {operator: In, values: [0, 1]}}]}", "Never",
            .at("values: [0", column: "0, 1"), "values[0]: Invalid value: 0: must not be 0 for the In operator"
        ),
        (
            "podFailurePolicy: {rules: [{action: FailJob, onExitCodes: {operator: NotIn, values: [3, 1]}}]}", "Never",
            .at("values: [3", column: "[3"), "values: Invalid value: [3 1]: must be ordered"
        ),
        (
            "podFailurePolicy: {rules: [{action: FailJob, onExitCodes: {operator: NotIn, values: [1, 1]}}]}", "Never",
            .at("values: [1", column: "1]"), "values[1]: Duplicate value: 1"
        ),
        (
            "podFailurePolicy: {rules: [{action: FailJob, onExitCodes: {operator: In, values: []}}]}", "Never",
            .at("values: []", column: "[]"), "values: Invalid value: []: at least one value is required"
        ),
        (
            "podFailurePolicy: {rules: [{action: FailJob, onExitCodes: {containerName: sidecar, operator: In, values: [1]}}]}", "Never",
            .at("sidecar", column: "sidecar"),
            "containerName: Invalid value: \"sidecar\": must be one of the container or initContainer names"
        ),
        (
            "podFailurePolicy: {rules: [{action: Ignore, onPodConditions: [{type: DisruptionTarget, status: Maybe}]}]}", "Never",
            .at("Maybe", column: "Maybe"), "status: Unsupported value: \"Maybe\": supported values: \"False\", \"True\", \"Unknown\""
        ),
        (
            "podFailurePolicy: {rules: [{action: Ignore, onPodConditions: [{type: 'bad type'}]}]}", "Never",
            .at("bad type", column: "'bad type'"), "onPodConditions[0].type: type \"bad type\""
        ),
        (
            "podFailurePolicy: {rules: [{action: Ignore, onPodConditions: [{type: DisruptionTarget, stauts: 'True'}]}]}", "Never",
            .at("stauts", column: "stauts"), "unknown field \"stauts\""
        ),
        (
            "podReplacementPolicy: Sometimes", "Never", .at("podReplacementPolicy", column: "Sometimes"),
            "podReplacementPolicy: Unsupported value: \"Sometimes\": supported values: \"Failed\", \"TerminatingOrFailed\""
        ),
        (
            "podReplacementPolicy: TerminatingOrFailed\npodFailurePolicy: {rules: [{action: Ignore, onPodConditions: [{type: DisruptionTarget}]}]}",
            "Never", .at("podReplacementPolicy", column: "TerminatingOrFailed"),
            "podReplacementPolicy: Unsupported value: \"TerminatingOrFailed\": supported values: \"Failed\""
        ),
    ]

    @Test func aJobsInvalidSpecIsRefusedAtTheField() throws {
        for (fields, restart, spot, message) in Self.invalid {
            let text = T.scenario(resources: job(fields, restart: restart))
            guard let error = parseError(text) else { continue }
            #expect(error.message.contains(message), "Job \(fields): \(error)")
            #expect(!error.message.contains("spec.jobTemplate"), "Job \(fields): \(error)")
            expectSpot(error, spot, in: text, "Job \(fields)")
        }
    }

    @Test func aCronJobsInvalidJobTemplateSpecIsRefusedAtTheField() throws {
        for (fields, restart, spot, message) in Self.invalid {
            let text = T.scenario(resources: cronJob(fields, restart: restart))
            guard let error = parseError(text) else { continue }
            #expect(error.message.contains(message), "CronJob \(fields): \(error)")
            // Messages name the field where it is (a Job's spec. is the jobTemplate's spec. here).
            if message.contains(":") || message.contains("required") || message.contains("requires") {
                #expect(error.message.contains("spec.jobTemplate.spec."), "CronJob \(fields): \(error)")
            }
            expectSpot(error, spot, in: text, "CronJob \(fields)")
        }
    }

    /// What `validateJobSpec` accepts loads, and the pods run: every action and operator, an
    /// empty `status` (True by default), `podReplacementPolicy` Failed beside a podFailurePolicy,
    /// an Indexed Job's per-index fields within their bounds.
    @Test(arguments: [
        "podFailurePolicy: {rules: [{action: FailJob, onExitCodes: {containerName: main, operator: In, values: [1, 42]}}, "
            + "{action: Ignore, onPodConditions: [{type: DisruptionTarget}]}, {action: Count, onExitCodes: {containerName: setup, operator: NotIn, values: [0]}}]}",
        "podFailurePolicy: {rules: []}\npodReplacementPolicy: Failed",
        "podFailurePolicy: {}",
        "podReplacementPolicy: TerminatingOrFailed",
        "completionMode: Indexed\ncompletions: 2\nbackoffLimitPerIndex: 0\nmaxFailedIndexes: 2\n"
            + "podFailurePolicy: {rules: [{action: FailIndex, onPodConditions: [{type: example.com/broken, status: 'False'}]}]}",
        "backoffLimit: 0\nactiveDeadlineSeconds: 0\nttlSecondsAfterFinished: 0",
    ])
    func aValidJobSpecLoads(_ fields: String) throws {
        let jobTimeline = try timeline(T.scenario(resources: job(fields)))
        #expect(!jobTimeline.initial.pods(of: WorkloadKey(.job, "prod", "once")).isEmpty)
        let cronTimeline = try timeline(T.scenario(resources: cronJob(fields)))
        #expect(!cronTimeline.initial.pods(of: WorkloadKey(.cronJob, "prod", "nightly")).isEmpty)
    }

    /// More than 20 rules, or more than 255 exit codes, are refused (`maxPodFailurePolicyRules`,
    /// `maxPodFailurePolicyOnExitCodesValues`).
    @Test func podFailurePolicyLimits() throws {
        let rule = "{action: Ignore, onPodConditions: [{type: DisruptionTarget}]}"
        let many = Array(repeating: rule, count: 21).joined(separator: ", ")
        let rules = try #require(parseError(T.scenario(resources: job("podFailurePolicy: {rules: [\(many)]}"))))
        #expect(rules.message.contains("podFailurePolicy.rules: Too many: 21: must have at most 20 items"), "\(rules)")
        let codes = (1...256).map(String.init).joined(separator: ", ")
        let values = try #require(
            parseError(
                T.scenario(
                    resources: job("podFailurePolicy: {rules: [{action: FailJob, onExitCodes: {operator: In, values: [\(codes)]}}]}"))))
        #expect(values.message.contains("values: Too many: 256: must have at most 255 items"), "\(values)")
    }

    /// A CronJob whose pod template writes a label the API server generates for each Job loads with
    /// a warning at that label and runs no pod: every Job made from it is refused. The same label
    /// in a Job's template is refused outright (its value is not the Job's own).
    @Test(arguments: ["job-name", "batch.kubernetes.io/job-name", "controller-uid", "batch.kubernetes.io/controller-uid"])
    func aCronJobTemplateWritingAGeneratedLabelRunsNoPod(_ label: String) throws {
        let text = T.scenario(resources: cronJob("", labels: "{app: nightly, \(label): x}"))
        let t = try timeline(text)
        #expect(t.initial.workloads[WorkloadKey(.cronJob, "prod", "nightly")] != nil)
        #expect(t.initial.pods(of: WorkloadKey(.cronJob, "prod", "nightly")).isEmpty)
        let warning = try #require(t.warnings.first { $0.message.contains("sets the label \(label),") }, "\(t.warnings)")
        #expect(warning.message.contains("it refuses every Job the CronJob makes"), "\(warning)")
        let spot = try #require(Spot.at("metadata: {labels: {app: nightly,", column: "\(label):").resolve(in: text))
        #expect(warning.location.line == spot.line && warning.location.column == spot.column, "\(warning)")
        let refused = try #require(parseError(T.scenario(resources: job("", labels: "{app: once, \(label): x}"))))
        #expect(refused.message.contains("conflicts with the generated \(label)="), "\(refused)")
    }
}
