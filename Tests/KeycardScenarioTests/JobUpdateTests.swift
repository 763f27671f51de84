import KeycardModel
import Testing

@testable import KeycardScenario

/// What an update of a Job may change (`ValidateJobSpecUpdate`, pkg/apis/batch/validation, with
/// the options of pkg/registry/batch/job/strategy.go), and what a CronJob edit does to the Job it
/// started (nothing: only Jobs started later see it).
@Suite("Job updates: immutable fields, scheduling directives of a never-started Job; CronJob edits")
struct JobUpdateTests {
    /// A scenario creating `resource` and applying each of `updates`, one a step.
    static func scenario(_ resource: String, updates: [String]) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: job-updates}
        spec:
          resources:
            - \(resource)
          steps:
        \(updates.map { "    - apply:\n        - \($0)" }.joined(separator: "\n"))
        """
    }

    /// Job `j` with the spec fields `fields` (a flow-mapping prefix) and template labels `labels`.
    static func job(_ fields: String, labels: String = "{app: j}", port: Int = 80) -> String {
        "{apiVersion: batch/v1, kind: Job, metadata: {name: j}, spec: {\(fields)template: {metadata: {labels: \(labels)}, spec: "
            + "{restartPolicy: Never, containers: [{name: c, image: x, ports: [{containerPort: \(port)}]}]}}}}"
    }

    /// The error the scenario stops with, if any.
    static func error(_ text: String) -> ScenarioError? {
        do {
            _ = try ScenarioLoader.parseTimeline(text, file: "jobs.yaml")
            return nil
        } catch {
            return error
        }
    }

    /// The line of the first applied object (the step's item).
    static func updateLine(_ text: String) -> Int {
        (text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("- apply:") } ?? -1) + 2
    }

    /// Each update the API server refuses, with the field its message names.
    @Test(arguments: [
        ("completions: 2, parallelism: 2, ", "completions: 2, parallelism: 2, completionMode: Indexed, ", "spec.completionMode"),
        ("completions: 2, ", "completions: 3, ", "spec.completions"),
        (
            "completions: 2, parallelism: 2, completionMode: Indexed, ", "completions: 3, parallelism: 2, completionMode: Indexed, ",
            "spec.completions"
        ),
        ("", "managedBy: kueue.x-k8s.io/multikueue, ", "spec.managedBy"),
        ("managedBy: kueue.x-k8s.io/multikueue, ", "", "spec.managedBy"),
        (
            "completions: 2, completionMode: Indexed, backoffLimitPerIndex: 1, ",
            "completions: 2, completionMode: Indexed, backoffLimitPerIndex: 2, ", "spec.backoffLimitPerIndex"
        ),
    ])
    func anImmutableFieldChangeIsRefusedAtTheStep(created: String, updated: String, field: String) throws {
        let text = Self.scenario(Self.job(created), updates: [Self.job(updated)])
        let error = try #require(Self.error(text))
        #expect(error.message.contains("Job default/j: \(field):"))
        #expect(error.location.line == Self.updateLine(text))
    }

    /// An Indexed Job's completions may change together with its parallelism, to the same value.
    @Test func anIndexedJobScalesCompletionsWithParallelism() throws {
        let t = try ScenarioLoader.parseTimeline(
            Self.scenario(
                Self.job("completions: 2, parallelism: 2, completionMode: Indexed, "),
                updates: [Self.job("completions: 3, parallelism: 3, completionMode: Indexed, ")]),
            file: "jobs.yaml")
        #expect(t.cluster(afterStep: 1).pods(of: WorkloadKey(.job, "default", "j")).count == 3)
    }

    /// A Job created suspended and resumed by the update that adds a queue label to its template
    /// (Kueue's way): allowed (`AllowMutableSchedulingDirectives`), and its pods carry the label.
    @Test func aNeverStartedJobMayChangeItsTemplateLabelsWhenResumed() throws {
        let t = try ScenarioLoader.parseTimeline(
            Self.scenario(
                Self.job("suspend: true, "), updates: [Self.job("suspend: false, ", labels: "{app: j, kueue.x-k8s.io/queue-name: q}")]),
            file: "jobs.yaml")
        let pods = t.cluster(afterStep: 1).pods(of: WorkloadKey(.job, "default", "j"))
        #expect(pods.count == 1)
        #expect(pods.allSatisfy { $0.labels["kueue.x-k8s.io/queue-name"] == "q" })
    }

    /// The same label change on a Job that has run, or any other template change on a suspended
    /// one, stays refused.
    @Test(arguments: [
        ("", "", "{app: j, kueue.x-k8s.io/queue-name: q}", 80),
        ("suspend: true, ", "suspend: false, ", "{app: j}", 8080),
    ])
    func otherTemplateChangesStayRefused(created: String, updated: String, labels: String, port: Int) throws {
        let text = Self.scenario(Self.job(created), updates: [Self.job(updated, labels: labels, port: port)])
        let error = try #require(Self.error(text))
        #expect(error.message.contains("Job default/j: spec.template: Invalid value: field is immutable"))
        #expect(error.location.line == Self.updateLine(text))
    }

    /// A Job resumed once has started, even if suspended again: its template is fixed.
    @Test func aJobSuspendedAfterRunningKeepsItsTemplate() {
        let text = Self.scenario(
            Self.job("suspend: true, "),
            updates: [Self.job("suspend: false, "), Self.job("suspend: true, "), Self.job("suspend: true, ", labels: "{app: j, tier: b}")])
        #expect(Self.error(text)?.message.contains("spec.template: Invalid value: field is immutable") == true)
    }

    /// SetDefaults_Job: a Job written with neither `completions` nor `parallelism` stores both as
    /// 1, so re-applying it with `completions: 1` is no change; one re-applied writing only
    /// `parallelism: 2` keeps the stored completions (kubectl apply's three-way merge leaves a
    /// field neither configuration wrote) and runs one pod.
    @Test func defaultedCompletionsAreOneAndKept() throws {
        let text = Self.scenario(Self.job(""), updates: [Self.job("completions: 1, ")])
        #expect(Self.error(text) == nil, "\(Self.error(text)?.description ?? "")")
        let again = Self.scenario(Self.job(""), updates: [Self.job("parallelism: 2, ")])
        let t = try ScenarioLoader.parseTimeline(again, file: "jobs.yaml")
        #expect(t.cluster(afterStep: 1).pods(of: WorkloadKey(.job, "default", "j")).count == 1)
        #expect(Self.error(Self.scenario(Self.job(""), updates: [Self.job("completions: 2, ")])) != nil, "1 → 2 is a change")
    }

}

/// A CronJob's edits reach only the Jobs it starts later: keycard's one Job keeps its pods.
@Suite("CronJob edits leave the started Job alone")
struct CronJobEditTests {
    /// CronJob `nightly` with `fields` in its spec and `parallelism` in its job template.
    static func cronJob(_ fields: String = "", parallelism: Int = 1, labels: String = "{app: nightly}") -> String {
        "{apiVersion: batch/v1, kind: CronJob, metadata: {name: nightly}, spec: {\(fields)schedule: \"0 3 * * *\", jobTemplate: {spec: "
            + "{parallelism: \(parallelism), template: {metadata: {labels: \(labels)}, spec: {restartPolicy: Never, "
            + "containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}}}}}}"
    }

    static let key = WorkloadKey(.cronJob, "default", "nightly")

    static func pods(_ created: String, updates: [String], step: Int) throws -> [Pod] {
        try ScenarioLoader.parseTimeline(JobUpdateTests.scenario(created, updates: updates), file: "cron.yaml")
            .cluster(afterStep: step).pods(of: key)
    }

    /// parallelism 1 → 3, new labels, then `suspend: true`: the started Job's one pod runs on, unchanged.
    @Test func editsAndSuspendKeepTheStartedJobsPods() throws {
        let before = try Self.pods(Self.cronJob(), updates: [], step: 0)
        #expect(before.count == 1)
        let updates = [Self.cronJob(parallelism: 3, labels: "{app: nightly, v: two}"), Self.cronJob("suspend: true, ", parallelism: 3)]
        #expect(try Self.pods(Self.cronJob(), updates: updates, step: 1) == before)
        #expect(try Self.pods(Self.cronJob(), updates: updates, step: 2) == before)
    }

    /// Created suspended, no Job has started: the first unsuspended apply starts it from the job
    /// template then written.
    @Test func aSuspendedCronJobStartsItsJobFromTheTemplateWhenResumed() throws {
        let pods = try Self.pods(Self.cronJob("suspend: true, "), updates: [Self.cronJob(parallelism: 3)], step: 1)
        #expect(pods.count == 3)
        #expect(try Self.pods(Self.cronJob("suspend: true, "), updates: [], step: 0).isEmpty)
    }
}
