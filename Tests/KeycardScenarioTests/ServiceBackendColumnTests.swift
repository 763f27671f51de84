import Foundation
import KeycardModel
import KeycardTestSupport
import Testing

@testable import KeycardScenario

/// A probe column written with its backend (`svc/ns/name>ns/pod`) carries its own expectation, in
/// a table and in allow/deny lists, and only a pod the Service selects is a backend (hostile
/// review 3, §1 and §7: such expectations were never checked, a non-backend was accepted).
@Suite struct ServiceBackendColumnTests {
    static func scenario(_ steps: String) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: backend-column}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: x}, spec: {containers: [{name: c, image: i}]}}
            - apiVersion: v1
              kind: Pod
              metadata: {name: web, namespace: x, labels: {app: web}}
              spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}
            - apiVersion: v1
              kind: Service
              metadata: {name: web, namespace: x}
              spec: {selector: {app: web}, ports: [{port: 8080, targetPort: 80}]}
          steps:
        \(steps)
        """
    }

    /// No policy: the model allows the client through the Service, so a written deny disagrees.
    @Test(arguments: [
        """
            - probe: {from: [x/client], to: ['svc/x/web>x/web'], ports: [TCP/8080]}
              expect:
                TCP/8080: |
                  -         svc/x/web>x/web
                  x/client  X
        """,
        """
            - probe: {from: [x/client], to: ['svc/x/web>x/web'], ports: [TCP/8080]}
              expect: {default: allow, deny: [{from: x/client, to: 'svc/x/web>x/web', port: TCP/8080}]}
        """,
    ])
    func anExpectationOnABackendColumnIsChecked(_ step: String) throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario(step), file: "b.yaml")
        let cells = timeline.cells(ofProbeStep: 1)
        #expect(cells.count == 1)
        #expect(cells.first?.expected == .explicit(.deny))
        #expect(cells.first?.verdict.decision == .allow)
        #expect(ModelReport.build(timeline).passed == false)
    }

    @Test func theModelTableShowsTheBackendColumn() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-backend-\(UUID().uuidString).yaml")
        try Self.scenario("    - probe: {from: [x/client], to: ['svc/x/web>x/web'], ports: [TCP/8080]}\n").write(
            to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try KeycardBinary.run(["model", file.path])
        let row = result.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.first { $0.hasPrefix("x/client") }?
            .split(separator: " ").map(String.init)
        #expect(row == ["x/client", "."], "\(result.stdout)")
    }

    @Test func aPodTheServiceDoesNotSelectIsNoBackend() throws {
        let text = Self.scenario("    - probe: {from: [x/web], to: ['svc/x/web>x/client'], ports: [TCP/8080]}\n")
        #expect(throws: ScenarioError.self) { try ScenarioLoader.parseTimeline(text, file: "b.yaml") }
        do {
            _ = try ScenarioLoader.parseTimeline(text, file: "b.yaml")
        } catch {
            #expect(error.message == "probe.to: svc/x/web>x/client: pod x/client is not a backend of Service x/web at this step")
            #expect(error.location.line == 17)
        }
    }
    /// A Service port whose named targetPort the pod does not declare has no endpoint on it (the
    /// EndpointSlice controller's `FindPort` fails): a probe steered to that pod on that port is
    /// refused at check, not aborted by `run` (review: "no source port reaches that backend").
    @Test func aPodWithoutTheNamedTargetPortIsNoBackendOnThatPort() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: named}
            spec:
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
                - apiVersion: v1
                  kind: Pod
                  metadata: {name: b, namespace: x, labels: {app: w}}
                  spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080, name: http}]}]}
                - {apiVersion: v1, kind: Pod, metadata: {name: cl, namespace: x}, spec: {containers: [{name: c, image: i}]}}
                - apiVersion: v1
                  kind: Service
                  metadata: {name: s, namespace: x}
                  spec: {selector: {app: w}, ports: [{name: web, port: 80, targetPort: http}, {name: m, port: 9090, targetPort: metrics}]}
              steps:
                - probe: {from: [x/cl], to: ['svc/x/s>x/b'], ports: [TCP/80, TCP/9090]}
            """
        do {
            _ = try ScenarioLoader.parseTimeline(text, file: "n.yaml")
            Issue.record("a probe steered to a pod with no endpoint on TCP/9090 passed")
        } catch {
            #expect(
                error.message
                    == "probe.to: svc/x/s>x/b: pod x/b is not a backend of Service x/s on TCP/9090 at this step (targetPort metrics names no TCP container port of the pod)"
            )
            #expect(error.location.line == 17)
        }
        // On the port it has an endpoint on, the same destination is probed.
        let fine = text.replacingOccurrences(of: "ports: [TCP/80, TCP/9090]}", with: "ports: [TCP/80]}")
        #expect(try ScenarioLoader.parseTimeline(fine, file: "n.yaml").cells(ofProbeStep: 1).count == 1)
    }

    /// Two host-network pods of one node are one endpoint `IP:port` (kube-proxy keeps the first):
    /// the second is no backend of the port, so a probe steered to it is refused at check.
    @Test func theSecondHostNetworkPodAtOneAddressIsNoBackend() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: hostnet}
            spec:
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
                - {apiVersion: v1, kind: Pod, metadata: {name: h1, namespace: x, labels: {app: w}}, spec: {nodeName: node-0, hostNetwork: true, containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: h2, namespace: x, labels: {app: w}}, spec: {nodeName: node-0, hostNetwork: true, containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: cl, namespace: x}, spec: {containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: s, namespace: x}, spec: {selector: {app: w}, ports: [{port: 80, targetPort: 8080}]}}
              steps:
                - probe: {from: [x/cl], to: ['svc/x/s>x/h2'], ports: [TCP/80]}
            """
        do {
            _ = try ScenarioLoader.parseTimeline(text, file: "h.yaml")
            Issue.record("a probe steered to a duplicate host-network endpoint passed")
        } catch {
            #expect(error.message.hasPrefix("probe.to: svc/x/s>x/h2: pod x/h2 is not a backend of Service x/s on TCP/80 at this step"))
            #expect(error.message.contains("another host-network pod of its node"))
        }
    }
}
