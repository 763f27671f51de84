import KeycardModel
import KeycardScenario
import KeycardValues
import Testing

/// A scan step's `expect.open` (`ResolvedScan`), without root: a pod's address is that pod, and
/// an endpoint of the only scanner (which never scans itself) is refused with its line.
struct ScanExpectationTests {
    /// x/a scans; x/b has a pinned address; x/web is a Deployment of `replicas` pods.
    static func scenario(from: String = "x/a", targets: String = "10.244.0.48/29", open: String, replicas: Int = 2) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: scan-expect}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
            - apiVersion: v1
              kind: Pod
              metadata: {name: a, namespace: x, labels: {app: a}}
              status: {podIP: 10.244.0.49}
              spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}
            - apiVersion: v1
              kind: Pod
              metadata: {name: b, namespace: x, labels: {app: b}}
              status: {podIP: 10.244.0.50}
              spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}
            - apiVersion: apps/v1
              kind: Deployment
              metadata: {name: web, namespace: x}
              spec:
                replicas: \(replicas)
                selector: {matchLabels: {app: web}}
                template:
                  metadata: {labels: {app: web}}
                  spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}
          steps:
            - scan: {from: \(from), targets: \(targets), ports: [80]}
              expect:
                open: [\(open)]
        """
    }

    /// `10.244.0.50:80` is x/b's port 80, which the report names `x/b:80`: the expectation was
    /// kept as a bare address, never matched, and the step failed against a model that agrees.
    @Test func aPodsAddressIsThatPod() throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario(open: "'10.244.0.50:80'"), file: "scan-expect.yaml")
        let report = ModelReport.build(timeline)
        #expect(report.steps.first?.passed == true, "\(report.steps.first?.summary ?? "-")")
        #expect(timeline.scans.values.first?.expectOpen == [try #require(ScanEndpoint.parse("x/b:80"))])
    }

    /// The scanning pod, by name or by its address: a scan skips itself, so the expectation was
    /// silently dropped from the comparison (`expectOpen(for:)`).
    @Test(arguments: [
        ("'x/a:80'", "expect.open: x/a:80 is the scanning pod itself"),
        ("'10.244.0.49:80'", "expect.open: 10.244.0.49:80 (the address of x/a) is the scanning pod itself"),
    ])
    func theScanningPodItselfIsRefused(_ open: String, _ message: String) {
        let error = #expect(throws: ScenarioError.self) {
            try ScenarioLoader.parseTimeline(Self.scenario(open: "'x/b:80', \(open)"), file: "scan-expect.yaml")
        }
        #expect(error?.message.hasPrefix(message) == true, "\(error?.message ?? "-")")
        // The entry's own line and column (line 29: `open: [...]`), not the step's.
        #expect(error?.location.file == "scan-expect.yaml" && error?.location.line == 29)
        #expect(error?.location.column == 16 + "'x/b:80', ".count)
    }

    /// A workload's replicas scan in turn: one replica is expected open by the others. With a
    /// single replica it is the only scanner, and refused as above.
    @Test func aReplicaOfTheScanningWorkloadIsExpectedByTheOthers() throws {
        let text = Self.scenario(from: "x/deployment/web", targets: "pods", open: "'x/deployment/web:80', 'x/a:80', 'x/b:80'")
        let timeline = try ScenarioLoader.parseTimeline(text, file: "scan-expect.yaml")
        #expect(ModelReport.build(timeline).steps.first?.passed == true)
        let alone = Self.scenario(from: "x/deployment/web", targets: "pods", open: "'x/deployment/web:80'", replicas: 1)
        let error = #expect(throws: ScenarioError.self) { try ScenarioLoader.parseTimeline(alone, file: "scan-expect.yaml") }
        #expect(error?.message.contains("is the scanning pod itself") == true, "\(error?.message ?? "-")")
    }
}

extension ScanExpectationTests {
    /// `targets: pods` dials pods' addresses only: an address no pod has (here the lab's first
    /// node) could never be open, and was accepted to fail the step at run time.
    @Test func anAddressNoPodHasIsRefusedForAPodsScan() throws {
        let error = #expect(throws: ScenarioError.self) {
            try ScenarioLoader.parseTimeline(Self.scenario(targets: "pods", open: "'100.64.0.2:80'"), file: "scan-expect.yaml")
        }
        #expect(error?.message.contains("is no pod's address at this step") == true, "\(error?.message ?? "-")")
        #expect(error?.location.line == 29)
        // A pod's address is scanned: accepted, as that pod.
        let timeline = try ScenarioLoader.parseTimeline(
            Self.scenario(targets: "pods", open: "'10.244.0.50:80'"), file: "scan-expect.yaml")
        #expect(timeline.scans.values.first?.expectOpen?.contains(try #require(ScanEndpoint.parse("x/b:80"))) == true)
    }
}
