import Foundation
import Testing

/// A live lab holding a Deployment: `keycard probe` names the workload, and a change that would
/// make its controller want a pod the lab was not built with is refused. As root.
@Suite("CLI: workloads in a live lab")
struct CliWorkloadTests {
    static let deployment = """
            - apiVersion: apps/v1
              kind: Deployment
              metadata: {name: web, namespace: x}
              spec:
                replicas: 2
                selector: {matchLabels: {app: web}}
                template:
                  metadata: {labels: {app: web}}
                  spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}
        """

    @Test func probeAWorkloadAndRefuseAnUnbuiltReplacement() throws {
        let scenario = try CliScenario(stem: "cli-wl", pods: [("x", "client")], extra: [Self.deployment])
        defer { scenario.cleanUp() }
        let up = try KeycardCLI.run(["up", scenario.file])
        try #require(up.code == 0, "\(up.err)")
        let lab = scenario.lab

        let probe = try KeycardCLI.run(["probe", lab, "--from", "x/client", "--to", "x/deployment/web", "--ports", "TCP/80", "-o", "json"])
        #expect(probe.code == 0, "\(probe.err)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(probe.out.utf8)) as? [String: Any])
        let results = try #require(document["results"] as? [[String: Any]])
        let replicas = results.compactMap { $0["to"] as? String }
        #expect(replicas.count == 2 && replicas.allSatisfy { $0.hasPrefix("x/web-") })
        #expect(results.allSatisfy { $0["observed"] as? String == "allow" })

        // Relabelled out of its selector, a replica is released and the controller wants a new
        // pod, which a live lab cannot add: refused, exit 2, nothing changed.
        let replica = try #require(replicas.first)
        let label = try KeycardCLI.run(["label", lab, "pod", replica, "app=stray"])
        #expect(label.code == 2)
        #expect(label.err.contains("x/deployment/web wants pod x/web-"), "\(label.err)")
        let again = try KeycardCLI.run(["probe", lab, "--from", "x/client", "--to", "x/deployment/web", "--ports", "TCP/80", "-o", "json"])
        #expect(again.code == 0 && again.out.contains(replica))
    }
}
