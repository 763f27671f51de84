import Foundation
import KeycardTestSupport
import Testing

/// `keycard run`'s table shows a Service column as the model's table does, whichever backend was
/// probed last (new-user review: the column showed `.` or `X` by backend order): `/` where one
/// backend answers and another refuses, `X` where every backend refuses.
@Suite struct RunTableServiceColumnTests {
    static func scenario(lab: String, openBackend: String) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: \(lab)}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: shop, labels: {app: client}}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web-a, namespace: shop, labels: {app: web, backend: a}}, spec: {containers: [{name: w, image: i, ports: [{containerPort: 80}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web-b, namespace: shop, labels: {app: web, backend: b}}, spec: {containers: [{name: w, image: i, ports: [{containerPort: 80}]}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: shop}, spec: {selector: {app: web}, ports: [{port: 80}]}}
            - apiVersion: networking.k8s.io/v1
              kind: NetworkPolicy
              metadata: {name: closed-web, namespace: shop}
              spec:
                podSelector: {matchExpressions: [{key: backend, operator: NotIn, values: [\(openBackend)]}, {key: app, operator: In, values: [web]}]}
                policyTypes: [Ingress]
          steps:
            - probe: {from: [shop/client], to: [svc/shop/web], ports: [TCP/80]}
        """
    }

    @Test(arguments: [("a", "/"), ("b", "/"), ("none", "X")])
    func theColumnAgreesWithTheModel(_ openBackend: String, _ mark: String) throws {
        let lab = ScenarioLibrary.uniqueLabName()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-svc-column-\(lab).yaml")
        try Self.scenario(lab: lab, openBackend: openBackend).write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let model = try KeycardBinary.run(["model", file.path])
        let run = try KeycardBinary.run(["run", file.path])
        #expect(run.status == 0, "\(run.stderr)")
        func clientRow(_ text: String, after title: String) -> String? {
            let lines = text.split(separator: "\n").map(String.init)
            guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(title) }) else { return nil }
            return lines[start...].first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("shop/client") }
        }
        #expect(clientRow(model.stdout, after: "TCP/80")?.hasSuffix(mark) == true, "\(model.stdout)")
        #expect(clientRow(run.stdout, after: "TCP/80 observed")?.hasSuffix(mark) == true, "\(run.stdout)")
        #expect(ScenarioLibrary.leftoverNamespaces(lab: lab).isEmpty)
    }
}
