import Foundation
import KeycardTestSupport
import Testing

/// `keycard model`'s "why" table for a Service port without endpoints says what `keycard explain`
/// says (no path, no policy), not `B` (both sides' policies block it): hostile review 2, §15.
@Suite struct ServiceNoPathMarkTests {
    static let scenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: nopath}
        spec:
          resources:
            - {apiVersion: v1, kind: Pod, metadata: {name: cli}, spec: {containers: [{name: c, image: x}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web, labels: {app: web}}, spec: {containers: [{name: c, image: x}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: ext}, spec: {ports: [{port: 80}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: web}, spec: {selector: {app: web}, ports: [{port: 80}]}}
            - apiVersion: networking.k8s.io/v1
              kind: NetworkPolicy
              metadata: {name: deny-all}
              spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
          steps:
            - probe: {from: [default/cli], to: [svc/default/ext, svc/default/web], ports: [TCP/80]}

        """

    @Test func aServicePortWithoutEndpointsIsMarkedNoPathAndAPolicyBlockStaysB() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-nopath-\(UUID().uuidString).yaml")
        try Self.scenario.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try KeycardBinary.run(["model", file.path])
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let header = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix("why") }, "\(result.stdout)")
        let row = lines[header + 1].split(separator: " ").map(String.init)
        // Columns: svc/default/ext (no endpoints), svc/default/web (deny-all blocks both sides).
        #expect(row == ["default/cli", "N", "B"], "\(result.stdout)")
        #expect(result.stdout.contains("N no path, no policy decides it"))
    }
}
