import Foundation
import KeycardModel
import KeycardScenario
import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardCommands

/// `keycard explain` and `keycard model` say when internalTrafficPolicy Local keeps a ClusterIP
/// connection from a backend on another node: no path, no policy (the why-mark `N`).
@Suite("explain internalTrafficPolicy Local")
struct InternalTrafficPolicyExplanationTests {
    static let scenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: explain-itp}
        spec:
          lab: {nodes: 2}
          resources:
            - {apiVersion: v1, kind: Pod, metadata: {name: web, labels: {app: web}}, spec: {nodeName: node-0, containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client-0}, spec: {nodeName: node-0, containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client-1}, spec: {nodeName: node-1, containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: local}, spec: {internalTrafficPolicy: Local, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: cluster}, spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}}
          steps:
            - probe: {from: [default/client-0, default/client-1], to: [svc/default/local, svc/default/cluster], ports: [TCP/80]}

        """

    func explain(from client: String, _ service: String) throws -> String {
        let timeline = try Timeline(ScenarioLoader.parse(Self.scenario, file: "explain.yaml"))
        let cluster = timeline.cluster(afterStep: 0)
        let key = ObjectKey("default", service)
        let backend = ObjectKey("default", "web")
        let source = Endpoint.pod(ObjectKey("default", client))
        let port = ProtocolPort(.tcp, 80)
        var explanation = Explanation(
            PolicyEngine(cluster).evaluate(from: source, to: .service(key, backend: backend), port: port), cluster: cluster, afterStep: 0,
            of: 1)
        explanation.describeClusterIPPath(cluster, from: source, key, backend: backend, port: port)
        return explanation.text
    }

    @Test func aClientOnAnotherNodeHasNoPath() throws {
        let text = try explain(from: "client-1", "local")
        #expect(
            text.contains(
                ": DENY (no path: internalTrafficPolicy Local: the proxy on node-1 (the client's node) sends only to its own endpoints and default/web runs on node-0; node-1 has none, so it drops the connection)"
            ), "\(text)")
        #expect(text.contains("no policy: the connection has no path to that endpoint"), "\(text)")
        #expect(!text.contains("isolated by"))
    }

    @Test func aClientOnTheEndpointsNodeIsAllowedAndToldWhy() throws {
        let text = try explain(from: "client-0", "local")
        #expect(text.contains(": ALLOW (internalTrafficPolicy Local: default/web runs on node-0, the client's node)"), "\(text)")
    }

    @Test func clusterAddsNothing() throws {
        let text = try explain(from: "client-1", "cluster")
        #expect(text.contains(": ALLOW"), "\(text)")
        #expect(!text.contains("internalTrafficPolicy"))
    }

    @Test func theModelTableMarksTheDroppedColumnNoPath() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-itp-\(UUID().uuidString).yaml")
        try Self.scenario.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try KeycardBinary.run(["model", file.path])
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let header = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix("why") }, "\(result.stdout)")
        // Columns: svc/default/local, svc/default/cluster.
        #expect(lines[header + 1].split(separator: " ").map(String.init) == ["default/client-0", ".", "."], "\(result.stdout)")
        #expect(lines[header + 2].split(separator: " ").map(String.init) == ["default/client-1", "N", "."], "\(result.stdout)")
        let explained = try KeycardBinary.run([
            "explain", file.path, "--from", "default/client-1", "--to", "svc/default/local", "--port", "TCP/80",
        ])
        #expect(explained.stdout.contains("no path: internalTrafficPolicy Local"), "\(explained.stdout)")
    }
}
