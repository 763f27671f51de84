import Foundation
import KeycardTestSupport
import Testing

/// A live lab schedules as a scenario's steps do (`HeldCluster`): a pod the NodePorts filter keeps
/// Pending is bound once a live `delete` frees its port, and a pod applied live onto a taken port
/// stays Pending, with a warning. As root, on conformance case 40 (two host-network exporters
/// that declare TCP 9100 on the only node).
@Suite("CLI: Pending pods in a live lab")
struct CliLivePendingTests {
    @Test func aLiveDeleteBindsThePodThatWaited() throws {
        let copy = try LibraryScenarioCopy(
            "scenarios/conformance/40-host-network-port-pending.yaml", name: "cf-40-hostnet-pending", stem: "cli-pend")
        defer { copy.cleanUp() }
        let (lab, folder, file) = (copy.lab, copy.folder, copy.file)
        let exporterA = """
            apiVersion: v1
            kind: Pod
            metadata: {name: exporter-a, namespace: x, labels: {app: exporter-a}}
            spec: {hostNetwork: true, containers: [{name: c, image: i, ports: [{containerPort: 9100}]}]}
            """
        try exporterA.write(toFile: folder + "/a.yaml", atomically: true, encoding: .utf8)

        let up = try KeycardCLI.run(["up", file])
        try #require(up.code == 0, "\(up.err)")
        #expect(try Self.pending(lab) == ["x/exporter-b"])
        let refused = try KeycardCLI.run(["probe", lab, "--from", "x/web", "--to", "x/exporter-b"])
        #expect(refused.code == 2, "a Pending pod is probed: \(refused.out)\(refused.err)")

        let delete = try KeycardCLI.run(["delete", lab, "-f", folder + "/a.yaml"])
        try #require(delete.code == 0, "\(delete.err)")
        #expect(delete.out.contains("pod x/exporter-b is bound now"), "\(delete.out)")
        #expect(try Self.pending(lab).isEmpty)
        let probe = try KeycardCLI.run(["probe", lab, "--from", "x/web", "--to", "x/exporter-b", "--ports", "TCP/9100", "-o", "json"])
        #expect(probe.code == 0, "\(probe.out)\(probe.err)")
        #expect(probe.out.contains("\"observed\" : \"allow\""), "\(probe.out)")

        // Applied again, exporter-a finds the port taken: it waits, and says so.
        let apply = try KeycardCLI.run(["apply", lab, "-f", folder + "/a.yaml"])
        try #require(apply.code == 0, "\(apply.err)")
        #expect(
            apply.err.contains("pod x/exporter-a stays Pending: host port 9100/TCP is taken on node-0 by pod x/exporter-b"), "\(apply.err)")
        #expect(try Self.pending(lab) == ["x/exporter-a"])
    }

    /// The pods `keycard status LAB -o json` reports Pending.
    private static func pending(_ lab: String) throws -> [String] {
        let status = try KeycardCLI.run(["status", lab, "-o", "json"])
        let json = try JSONSerialization.jsonObject(with: Data(status.out.utf8)) as? [String: Any]
        let labs = json?["labs"] as? [[String: Any]]
        let pods = try #require(labs?.first?["pods"] as? [[String: Any]], "\(status.out)")
        return pods.filter { $0["pending"] as? Bool == true }.map { "\($0["namespace"] ?? "")/\($0["name"] ?? "")" }.sorted()
    }
}
