import Foundation
import KeycardTestSupport
import Testing

/// `keycard model` names a disagreeing cell as `keycard run` does (`ProbeResult.cellDescription`):
/// a replica's share of a workload cell names the workload cell and the replica
/// (docs/scenario-format.md, "Workloads in probes").
struct ModelDisagreementNameTests {
    static let scenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: wlnames}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
            - apiVersion: apps/v1
              kind: Deployment
              metadata: {name: web, namespace: shop}
              spec:
                replicas: 2
                selector: {matchLabels: {app: web}}
                template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: db, namespace: shop}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 5432}]}]}}
          steps:
            - probe: {from: [shop/deployment/web], to: [shop/db], ports: [TCP/5432]}
              expect:
                TCP/5432: |
                  -                    shop/db
                  shop/deployment/web  X

        """

    @Test func aWorkloadCellIsNamedByItsWorkloadAndReplica() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-wlnames-\(UUID().uuidString).yaml")
        try Self.scenario.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try KeycardBinary.run(["model", file.path])
        #expect(result.status == 1, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("!") }
        #expect(lines.count == 2, "\(result.stdout)")
        for line in lines {
            #expect(line.hasPrefix("! shop/deployment/web -> shop/db TCP/5432 (replica shop/web-"), "\(line)")
            #expect(line.hasSuffix("): the file expects deny, the model says allow"), "\(line)")
        }
    }
}
