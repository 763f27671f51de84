import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

/// A scan from a sidecar pod dials pod addresses straight: Istio's passthrough cluster sends them
/// in plaintext (spec mesh.md R15, istio/istio#36596), as a probe `via: pod-ip`; a Service
/// address goes through the Service, with the pod's identity (2.7).
@Suite("Mesh: what a scanner presents")
struct MeshScanRouteTests {
    static let scenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: scan-route}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: sc, labels: {istio-injection: enabled}}}
            - {apiVersion: v1, kind: Pod, metadata: {name: b, namespace: sc, labels: {app: b}}, spec: {serviceAccountName: b, containers: [{name: c, image: x, ports: [{containerPort: 8080}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: d, namespace: sc, labels: {app: d}}, spec: {containers: [{name: c, image: x, ports: [{containerPort: 8080}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: sc, labels: {app: a}}, spec: {containers: [{name: c, image: x, ports: [{containerPort: 8080}]}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: d, namespace: sc}, spec: {selector: {app: d}, ports: [{port: 80, targetPort: 8080}]}}
            - apiVersion: security.istio.io/v1
              kind: AuthorizationPolicy
              metadata: {name: d-deny-b, namespace: sc}
              spec:
                selector: {matchLabels: {app: d}}
                action: DENY
                rules: [{from: [{source: {principals: [cluster.local/ns/sc/sa/b]}}]}]
            - apiVersion: security.istio.io/v1
              kind: PeerAuthentication
              metadata: {name: a-strict, namespace: sc}
              spec: {selector: {matchLabels: {app: a}}, mtls: {mode: STRICT}}
          steps: []
        """

    @Test func podAddressesArePlaintextServiceAddressesCarryTheIdentity() throws {
        let cluster = try ScenarioLoader.parseTimeline(Self.scenario, file: "scan-route.yaml").initial
        let judge = ScanJudge(cluster, source: ObjectKey("sc", "b"), meshIdentity: .mesh)
        let tcp = ProtocolPort(.tcp, 8080)
        // Plaintext: STRICT refuses it, and a DENY on b's principal cannot match it (R30).
        #expect(judge.state(.pod(ObjectKey("sc", "a")), tcp) == .refused)
        #expect(judge.state(.pod(ObjectKey("sc", "d")), tcp) == .open)
        // Through the Service the sidecar presents b's SVID: the DENY matches.
        #expect(judge.state(.service(ObjectKey("sc", "d"), backend: ObjectKey("sc", "d")), ProtocolPort(.tcp, 80)) == .refused)
        #expect(MeshRequest.scan(.mesh, to: .pod(ObjectKey("sc", "a"))).route == .podIP)
        #expect(MeshRequest.scan(.mesh, to: .service(ObjectKey("sc", "d"), backend: nil)).route == .service)
    }
}
