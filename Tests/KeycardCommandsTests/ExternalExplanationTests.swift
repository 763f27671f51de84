import KeycardModel
import KeycardScenario
import KeycardValues
import Testing

@testable import KeycardCommands

/// `keycard explain --from external/NAME`: the external has no egress side; a ClusterIP is said
/// to be out of its reach rather than "isolated by" nothing.
@Suite("explain from an external")
struct ExternalExplanationTests {
    static let scenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: explain-external}
        spec:
          externals: [{name: client, ip: 203.0.113.50}]
          resources:
            - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: default, labels: {app: web}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: default}, spec: {selector: {app: web}, ports: [{port: 80}]}}
          steps: []
        """

    func explain(_ to: Endpoint) throws -> String {
        let timeline = try Timeline(ScenarioLoader.parse(Self.scenario, file: "explain.yaml"))
        let cluster = timeline.cluster(afterStep: 0)
        let verdict = PolicyEngine(cluster).evaluate(fromSource: .external("client"), to: to, port: ProtocolPort(.tcp, 80))
        return Explanation(verdict, cluster: cluster, afterStep: 0, of: 0).text
    }

    @Test func podIsReachedUnderItsIngress() throws {
        let text = try explain(.pod(ObjectKey("default", "web")))
        #expect(text.hasPrefix("external/client -> default/web TCP/80, after step 0 of 0: ALLOW"))
        #expect(text.contains("egress of external/client: not a pod"))
    }

    @Test func clusterIPIsOutOfReach() throws {
        let text = try explain(.service(ObjectKey("default", "web"), backend: ObjectKey("default", "web")))
        #expect(text.contains(": DENY"))
        #expect(text.contains("a ClusterIP is cluster-internal"))
        #expect(!text.contains("isolated by"))
    }
}
