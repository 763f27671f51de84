import Foundation
import KeycardTestSupport
import Testing

/// `keycard explain --identity` takes only what a scenario's probe `identity` takes: the scenario
/// parser's check (MeshSettings), so no verdict is explained for a certificate the lab CA could not
/// have signed.
@Suite("explain --identity")
struct ExplainIdentityTests {
    static let scenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: explain-identity}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: prod, labels: {istio-injection: enabled}}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: dev, labels: {istio-injection: enabled}}}
            - {apiVersion: v1, kind: Pod, metadata: {name: api, namespace: prod, labels: {app: api}}, spec: {serviceAccountName: api, containers: [{name: c, image: x, ports: [{containerPort: 9000}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: dev, labels: {app: web}}, spec: {serviceAccountName: web, containers: [{name: c, image: x}]}}
            - {apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: default, namespace: istio-system}, spec: {mtls: {mode: STRICT}}}
            - {apiVersion: security.istio.io/v1, kind: AuthorizationPolicy, metadata: {name: only-web, namespace: istio-system}, spec: {rules: [{from: [{source: {principals: [cluster.local/ns/dev/sa/web]}}]}]}}
          steps:
            - probe: {from: [dev/web], to: [prod/api], ports: [TCP/9000]}
        """

    static func explain(_ identity: String) throws -> KeycardBinary.Result {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-explain-id-\(UUID().uuidString).yaml").path
        try scenario.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try KeycardBinary.run([
            "explain", path, "--from", "dev/web", "--to", "prod/api", "--port", "TCP/9000", "--identity", identity,
        ])
    }

    @Test(
        "a stolen identity the lab CA cannot sign is refused (exit 2)",
        arguments: [
            "stolen=spiffe://evil.example/ns/dev/sa/web", "stolen=spiffe://cluster.local/ns/a/sa/b/c/d",
            "stolen=spiffe://cluster.local/ns//sa/web",
        ])
    func foreignStolenIdentity(_ identity: String) throws {
        let result = try Self.explain(identity)
        #expect(result.status == 2, "\(result.stdout)")
        #expect(
            result.stderr.contains(
                "--identity stolen=URI must be a lab identity spiffe://cluster.local/ns/<namespace>/sa/<serviceAccount> (the lab CA signs only its trust domain), found \(identity.dropFirst("stolen=".count))"
            ), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test("a spoofed identity must carry a SPIFFE URI beyond the scheme (exit 2)")
    func emptySpoofedIdentity() throws {
        let result = try Self.explain("spoofed=spiffe://")
        #expect(result.status == 2)
        #expect(result.stderr.contains("--identity spoofed=URI must be a SPIFFE URI"), "\(result.stderr)")
    }

    /// The forms the check admits are still explained: a lab identity passes STRICT and the rule.
    @Test("a lab identity is explained")
    func labIdentity() throws {
        let result = try Self.explain("stolen=spiffe://cluster.local/ns/dev/sa/web")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("allow"), "\(result.stdout)")
    }
}
