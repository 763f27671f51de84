import Foundation
import KeycardTestSupport
import Testing

/// A Service column whose backends disagree (the client's egress admits one backend's target port
/// and not the other's) is marked `/` in `keycard model`'s table, not `X` as if the Service were
/// unreachable; a pod behind its own Service is no `#` in the why table where the table shows it.
@Suite struct SplitServiceTableTests {
    static let manifests = """
        apiVersion: v1
        kind: Pod
        metadata: {name: web-a, labels: {app: web}}
        spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web-b, labels: {app: web}}
        spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 9000}]}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: cli, labels: {app: cli}}
        spec: {containers: [{name: c, image: x}]}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: cli-out}
        spec: {podSelector: {matchLabels: {app: cli}}, policyTypes: [Egress], egress: [{ports: [{port: 8080}]}]}

        """

    @Test func aServiceHalfReachedIsMarkedSplit() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-split-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.manifests.write(to: folder.appendingPathComponent("all.yaml"), atomically: true, encoding: .utf8)
        let result = try KeycardBinary.run(["model", folder.path])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let table = try #require(lines.firstIndex { $0.hasPrefix("  TCP/80") && $0.contains("svc/default/web") })
        let rows = lines[(table + 1)...].prefix(4)
        #expect(rows.contains { $0.hasPrefix("  default/cli") && $0.hasSuffix("/") }, "\(rows)")
        #expect(rows.contains { $0.hasPrefix("  default/web-b") && $0.hasSuffix(".") }, "\(rows)")
        #expect(result.stdout.contains("(/: through the Service some backends are reached and others blocked"))
        // The why table agrees with the table: web-b through its Service is no pod to itself.
        let why = try #require(lines[table...].firstIndex { $0.hasPrefix("  why") && $0.contains("svc/default/web") })
        let whyRows = lines[(why + 1)...].prefix(3)
        #expect(whyRows.contains { $0.hasPrefix("  default/web-b") && $0.hasSuffix(".") }, "\(whyRows)")
        #expect(whyRows.contains { $0.hasPrefix("  default/cli") && $0.hasSuffix("E") }, "\(whyRows)")
    }
}
