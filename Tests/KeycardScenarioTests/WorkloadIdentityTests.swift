import Foundation
import KeycardModel
import KeycardTestSupport
import Testing

@testable import KeycardScenario

private typealias T = ScenarioText

/// A StatefulSet `name` in prod with `replicas` pods serving TCP/5432.
private func statefulSet(_ name: String, replicas: Int = 2) -> String {
    """
    - apiVersion: apps/v1
      kind: StatefulSet
      metadata: {name: \(name), namespace: prod}
      spec:
        replicas: \(replicas)
        selector: {matchLabels: {app: db}}
        template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 5432}]}]}}
    """
}

/// Pods the API server would refuse are never created (hostname and label rules of the pods a
/// StatefulSet controller makes); metadata limits; what the CLI does with input it cannot read.
@Suite("Workload identity, metadata limits, CLI input")
struct WorkloadIdentityTests {
    /// A 55-character StatefulSet name is valid, but `<name>-<hash>` (its pods'
    /// controller-revision-hash) is over 63 characters: the set exists with no pod, even scaled up,
    /// and the loader says why at its name.
    @Test func statefulSetWhosePodsCannotExistRunsNone() throws {
        let name = String(repeating: "d", count: 55)
        let text = T.scenario(resources: statefulSet(name), steps: "- scale: {workload: prod/statefulset/\(name), replicas: 3}")
        let t = try ScenarioLoader.parseTimeline(text, file: "long.yaml")
        let key = WorkloadKey(.statefulSet, "prod", name)
        #expect(t.initial.workloads[key] != nil)
        #expect(t.cluster(afterStep: 0).pods(of: key).isEmpty)
        #expect(t.cluster(afterStep: 1).pods(of: key).isEmpty)
        let warning = try #require(t.warnings.first { $0.message.contains("controller-revision-hash") })
        #expect(warning.location.line == (Spot.line("kind: StatefulSet").resolve(in: text)?.line ?? 0) + 1)
        #expect(warning.message.contains("creates no pod"))
        // A name short enough for the label runs its pods, each labelled `<name>-<hash>` of at most 63.
        let short = String(repeating: "d", count: 52)
        let ok = try ScenarioLoader.parseTimeline(T.scenario(resources: statefulSet(short)), file: "short.yaml")
        let pods = ok.cluster(afterStep: 0).pods(of: WorkloadKey(.statefulSet, "prod", short))
        #expect(pods.map(\.name) == ["\(short)-0", "\(short)-1"])
        #expect(pods.allSatisfy { ($0.labels["controller-revision-hash"]?.count ?? 99) <= 63 })
    }

    /// The rule itself: the pod name (its hostname) and the revision label.
    @Test func statefulPodProblem() {
        var workload = Workload(
            kind: .statefulSet, namespace: "prod", name: "db", selector: LabelSelector(matchLabels: ["app": "db"]), replicas: 1,
            template: Pod(namespace: "prod", name: "", labels: ["app": "db"]))
        #expect(WorkloadController.statefulPodProblem(workload, ordinal: 0) == nil)
        workload.name = String(repeating: "a", count: 60)
        #expect(WorkloadController.statefulPodProblem(workload, ordinal: 0)?.contains("controller-revision-hash") == true)
        workload.name = String(repeating: "a", count: 62)
        #expect(WorkloadController.statefulPodProblem(workload, ordinal: 10)?.contains("spec.hostname") == true)
    }

    /// `TotalAnnotationSizeLimitB`: keys and values together at most 256 KiB.
    @Test func annotationsTotalSize() throws {
        func pod(valueBytes: Int) -> String {
            """
            - apiVersion: v1
              kind: Pod
              metadata: {name: big, namespace: prod, annotations: {k: "\(String(repeating: "v", count: valueBytes))"}}
              spec: {containers: [{name: c, image: i}]}
            """
        }
        // "k" is one byte: 262143 + 1 is the limit exactly.
        _ = try ScenarioLoader.parseTimeline(T.scenario(resources: pod(valueBytes: 262_143)), file: "a.yaml")
        let over = T.scenario(resources: pod(valueBytes: 262_144))
        #expect {
            _ = try ScenarioLoader.parseTimeline(over, file: "a.yaml")
        } throws: { error in
            guard let error = error as? ScenarioError else { return false }
            return error.message.contains("must have at most 262144 bytes")
                && error.location.line == Spot.line("name: big").resolve(in: over)?.line
        }
    }

    /// A folder holding a dangling link is refused at that file (path:1:1), not at the folder; a
    /// sub-folder named like a manifest is skipped, as `kubectl apply -f DIR` skips it.
    @Test func folderFileThatCannotBeReadIsReportedAtTheFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-folder-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/sub.yaml", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}\n"
            .write(toFile: folder + "/a.yaml", atomically: true, encoding: .utf8)
        _ = try ManifestLoader.timeline([folder])
        try FileManager.default.createSymbolicLink(atPath: folder + "/broken.yaml", withDestinationPath: folder + "/nowhere")
        #expect {
            _ = try ManifestLoader.timeline([folder])
        } throws: { error in
            guard let error = error as? ScenarioError else { return false }
            return error.location.file == folder + "/broken.yaml" && error.location.line == 1 && error.location.column == 1
        }
    }

    /// Usage errors exit 2 (invalid input), as the README and `run --help` say; `--help` exits 0.
    @Test func usageErrorsExitTwo() throws {
        for arguments in [["check", "--bogus"], ["check"], ["check", "--mesh", "bogus", "x.yaml"], ["frobnicate"], []] {
            let result = try KeycardBinary.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(
                result.stderr.contains("Error:") || result.stderr.contains("Usage:") || result.stderr.contains("USAGE:"),
                "\(arguments): \(result.stderr)")
        }
        let help = try KeycardBinary.run(["check", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("USAGE") || help.stdout.contains("Usage"))
    }
}
