import Foundation
import KeycardModel
import KeycardScenario
import KeycardValues
import Testing

@testable import KeycardCommands

/// `keycard explain` of a ClusterIP cell names the connection policies judged: the backend on its
/// target port (Service port 80 → `http` 8080), on both sides; with `serviceEnforcement: pre-dnat`
/// the egress side judged the ClusterIP on the Service port.
@Suite("explain a Service's target port")
struct ServicePortExplanationTests {
    static func scenario(egress: String, enforcement: String = "post-dnat") -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: explain-target}
        spec:
          lab: {serviceEnforcement: \(enforcement)}
          resources:
            - {apiVersion: v1, kind: Pod, metadata: {name: web, labels: {app: web}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080, name: http}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, labels: {app: client}}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: web}, spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}}
            - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: out}, spec: {podSelector: {matchLabels: {app: client}}, policyTypes: [Egress], egress: [{ports: [{port: \(egress)}]}]}}
            - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: in}, spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress], ingress: [{ports: [{port: 80}]}]}}
          steps:
            - probe: {from: [default/client], to: [svc/default/web], ports: [TCP/80]}

        """
    }

    static func explain(_ text: String) throws -> String {
        let timeline = try Timeline(ScenarioLoader.parse(text, file: "explain.yaml"))
        let cluster = timeline.cluster(afterStep: 0)
        let key = ObjectKey("default", "web")
        let source = Endpoint.pod(ObjectKey("default", "client"))
        let port = ProtocolPort(.tcp, 80)
        let target = Endpoint.service(key, backend: key)
        var explanation = Explanation(
            PolicyEngine(cluster).evaluate(from: source, to: target, port: port), cluster: cluster, afterStep: 0, of: 1)
        explanation.describeClusterIPPath(cluster, from: source, key, backend: key, port: port)
        return explanation.text
    }

    @Test func bothSidesNameTheTargetPort() throws {
        let text = try Self.explain(Self.scenario(egress: "80"))
        #expect(text.contains("no egress rule of these policies allows default/web on TCP/8080"), "\(text)")
        #expect(text.contains("no ingress rule of these policies allows default/client on TCP/8080"), "\(text)")
        // Said under the header, before any verdict line: the cell asks for 80, policies see 8080.
        let lines = text.split(separator: "\n")
        #expect(
            lines.dropFirst().first
                == "  the ClusterIP sends TCP/80 to default/web on its target port TCP/8080: both sides' policies judge TCP/8080",
            "\(text)")
    }

    @Test func preDNATEgressNamesTheServicePort() throws {
        let text = try Self.explain(Self.scenario(egress: "8080", enforcement: "pre-dnat"))
        #expect(text.contains("no egress rule of these policies allows svc/default/web>default/web on TCP/80"), "\(text)")
        #expect(text.contains("no ingress rule of these policies allows default/client on TCP/8080"), "\(text)")
        #expect(text.contains("egress (pre-dnat) judges TCP/80, ingress TCP/8080"), "\(text)")
    }
}
