import Foundation
import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardTestSupport
import KeycardValues
import Testing

/// A live lab programs its Services as `keycard run` does: `keycard up` installs the ClusterIP
/// proxy, `apply`/`delete` of a Service reprogram it, and `keycard probe --to svc/NS/NAME` is
/// judged by the same model cells as a scenario's probe step (one cell per endpoint). As root;
/// `nft` is the independent witness of what the kernel holds.
@Suite("CLI: Services in a live lab")
struct CliLiveServiceTests {
    static let service = """
            - apiVersion: v1
              kind: Service
              metadata: {name: web, namespace: x}
              spec: {selector: {pod: server}, ports: [{port: 8080, targetPort: 80}]}
        """

    /// A live `apply` is judged by the lab's own cluster-change rules, as a scenario step is
    /// (review of Services: the file was checked as a create on an empty cluster with the default
    /// service range): a ClusterIP is allocated from and pinned inside `spec.lab.serviceCIDR`, and
    /// a type change that writes the old type's unchanged fields is an update the API server takes.
    @Test func applyFollowsTheLabsServiceRangeAndUpdateRules() throws {
        let nodePort = """
                - apiVersion: v1
                  kind: Service
                  metadata: {name: np, namespace: x}
                  spec: {type: NodePort, externalTrafficPolicy: Local, selector: {pod: server}, ports: [{port: 80, nodePort: 30080}]}
            """
        let scenario = try CliScenario(
            stem: "cli-svcr", settings: "serviceCIDR: 10.100.0.0/16", pods: [("x", "client"), ("x", "server")], extra: [nodePort])
        defer { scenario.cleanUp() }
        let up = try KeycardCLI.run(["up", scenario.file])
        try #require(up.code == 0, "\(up.err)")
        let lab = scenario.lab
        let pinned = try scenario.write(
            "pinned.yaml",
            """
            apiVersion: v1
            kind: Service
            metadata: {name: pinned, namespace: x}
            spec: {clusterIP: 10.100.0.50, selector: {pod: server}, ports: [{port: 8080, targetPort: 80}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: allocated, namespace: x}
            spec: {selector: {pod: server}, ports: [{port: 9090, targetPort: 80}]}
            """)
        let applied = try KeycardCLI.run(["apply", lab, "-f", pinned])
        #expect(applied.code == 0, "\(applied.err)")
        let table = try Self.nftTable("kc-\(lab).pod.x.client", "kc-\(lab)-svc")
        #expect(table.contains("10.100.0.50"), "\(table)")
        #expect(!table.contains("10.96."), "a ClusterIP outside the lab's service range: \(table)")
        let changed = try scenario.write(
            "np-to-clusterip.yaml",
            """
            apiVersion: v1
            kind: Service
            metadata: {name: np, namespace: x}
            spec: {type: ClusterIP, externalTrafficPolicy: Local, selector: {pod: server}, ports: [{port: 80, nodePort: 30080}]}
            """)
        let update = try KeycardCLI.run(["apply", lab, "-f", changed])
        #expect(update.code == 0, "\(update.err)")
        #expect(update.out.contains("configured"), "\(update.out)")
    }

    @Test func upProgramsServicesAndApplyReprogramsThem() throws {
        let scenario = try CliScenario(stem: "cli-svc", pods: [("x", "client"), ("x", "server")], extra: [Self.service])
        defer { scenario.cleanUp() }
        let up = try KeycardCLI.run(["up", scenario.file])
        try #require(up.code == 0, "\(up.err)")
        let lab = scenario.lab
        let table = "kc-\(lab)-svc"
        let clientNetns = "kc-\(lab).pod.x.client"
        #expect(try Self.nftTable(clientNetns, table).contains("8080"), "keycard up installed no Service proxy")

        // Through the ClusterIP on the Service port, answered by the backend on its targetPort.
        let probe = try KeycardCLI.run(["probe", lab, "--from", "x/client", "--to", "svc/x/web", "-o", "json"])
        #expect(probe.code == 0, "\(probe.out)\(probe.err)")
        let results = try Self.results(probe.out)
        #expect(results.count == 1)
        #expect(results.first?["observed"] as? String == "allow")
        #expect(results.first?["to"] as? String == "svc/x/web>x/server", "\(results)")
        // The scenario report's cell record: the Service and backend halves, and the port reached.
        #expect(results.first?["service"] as? String == "svc/x/web", "\(results)")
        #expect(results.first?["backend"] as? String == "x/server", "\(results)")
        #expect(results.first?["targetPort"] as? Int == 80, "\(results)")
        #expect(results.first?["expected"] as? String == "allow", "\(results)")

        // A second Service applied live is programmed; deleted, its port leaves the proxy and
        // probing it is refused as a scenario's probe step would be.
        let second = try scenario.write(
            "svc2.yaml",
            """
            apiVersion: v1
            kind: Service
            metadata: {name: web2, namespace: x}
            spec: {selector: {pod: server}, ports: [{port: 9090, targetPort: 80}]}
            """)
        let apply = try KeycardCLI.run(["apply", lab, "-f", second])
        try #require(apply.code == 0, "\(apply.err)")
        #expect(try Self.nftTable(clientNetns, table).contains("9090"))
        let probe2 = try KeycardCLI.run(["probe", lab, "--from", "x/client", "--to", "svc/x/web2", "-o", "json"])
        #expect(probe2.code == 0, "\(probe2.out)\(probe2.err)")
        #expect(try Self.results(probe2.out).first?["observed"] as? String == "allow")

        let delete = try KeycardCLI.run(["delete", lab, "-f", second])
        try #require(delete.code == 0, "\(delete.err)")
        #expect(try !Self.nftTable(clientNetns, table).contains("9090"))
        let gone = try KeycardCLI.run(["probe", lab, "--from", "x/client", "--to", "svc/x/web2"])
        #expect(gone.code == 2)
        #expect(gone.err.contains("Service x/web2 does not exist"), "\(gone.err)")

        // A policy isolating the server: the Service path is denied, and the model says so too.
        let deny = try scenario.write("deny.yaml", CliScenario.denyIngress("x", podLabel: "server"))
        #expect(try KeycardCLI.run(["apply", lab, "-f", deny]).code == 0)
        let denied = try KeycardCLI.run(["probe", lab, "--from", "x/client", "--to", "svc/x/web", "-o", "json"])
        #expect(denied.code == 0, "\(denied.out)\(denied.err)")
        #expect(try Self.results(denied.out).first?["observed"] as? String == "deny")

        // A pod reaching itself through its own Service (hairpin) is judged by the model only, as in
        // a scenario's probe step: the lab's proxy builds no hairpin path (no masquerade).
        let hairpin = try KeycardCLI.run(["probe", lab, "--from", "x/server", "--to", "svc/x/web", "-o", "json"])
        #expect(hairpin.code == 0, "\(hairpin.out)\(hairpin.err)")
        #expect(try Self.results(hairpin.out).first?["observed"] as? String == "skipped", "\(hairpin.out)")
    }

    /// ExternalName Services in a live lab's cluster DNS: `keycard up` serves the scenario's CNAME
    /// (`up` and the lab process it starts both refresh the server, one at a time: one restart, one
    /// server left), `apply` of another ExternalName adds a CNAME, and `delete` of the Service they
    /// lead to leaves them answering nothing, as the model says.
    /// `keycard scan` over the service range and the pods: the ClusterIP's port is open through
    /// its backend, the backend's undeclared target port (the lab serves it) is open; a Service
    /// applied live later sends a port the lab never listens on, which the model predicts closed.
    @Test func liveScanJudgesServicesAsTheLabServesThem() throws {
        let service = """
                - apiVersion: v1
                  kind: Service
                  metadata: {name: admin, namespace: x}
                  spec: {selector: {pod: server}, ports: [{port: 6000}]}
            """
        let scenario = try CliScenario(stem: "cli-svcscan", pods: [("x", "client"), ("x", "server")], extra: [service])
        defer { scenario.cleanUp() }
        let up = try KeycardCLI.run(["up", scenario.file])
        try #require(up.code == 0, "\(up.err)")
        let lab = scenario.lab
        let range = try KeycardCLI.run(["scan", lab, "--from", "x/client", "--targets", "10.96.1.0/28", "--ports", "6000,7000"])
        #expect(range.code == 0, "\(range.out)\(range.err)")
        #expect(range.out.contains("svc/x/admin>x/server:6000"), "\(range.out)")
        let pods = try KeycardCLI.run(["scan", lab, "--from", "x/client", "--ports", "6000,7000"])
        #expect(pods.code == 0, "\(pods.out)\(pods.err)")
        #expect(pods.out.contains("x/server:6000") && pods.out.contains("observed open, model open"), "\(pods.out)")
        let later = try scenario.write(
            "later.yaml",
            """
            apiVersion: v1
            kind: Service
            metadata: {name: later, namespace: x}
            spec: {selector: {pod: server}, ports: [{port: 7000}]}
            """)
        try #require(try KeycardCLI.run(["apply", lab, "-f", later]).code == 0)
        let after = try KeycardCLI.run(["scan", lab, "--from", "x/client", "--ports", "7000"])
        #expect(after.code == 0, "\(after.out)\(after.err)")
    }

    @Test func externalNamesFollowLiveChanges() throws {
        let scenario = try CliScenario(stem: "cli-extname", pods: [("x", "client")])
        defer { scenario.cleanUp() }
        let lab = scenario.lab
        _ = try scenario.write(
            "scenario.yaml",
            """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: \(lab)}
            spec:
              lab: {dns: true}
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
                - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: x, labels: {pod: client}}, spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: x}, spec: {clusterIP: 10.96.0.50, selector: {pod: client}, ports: [{port: 80}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: alias, namespace: x}, spec: {type: ExternalName, externalName: web.x.svc.cluster.local}}
              steps: []
            """)
        let up = try KeycardCLI.run(["up", scenario.file])
        try #require(up.code == 0, "\(up.err)")
        func ask(_ name: String) throws -> DNSQueryOutcome {
            try DNSQuery(
                namespace: "kc-\(lab).pod.x.client", name: name, server: "10.96.0.10", search: DNSRecords.searchDomains(namespace: "x")
            )
            .run()
        }
        #expect(try ask("alias") == .answered(["10.96.0.50"]))
        let log = LabPaths.log(lab, namespace: "kube-system", pod: "kube-dns-0")
        #expect(try String(contentsOfFile: log, encoding: .utf8).components(separatedBy: "started, version").count - 1 == 2)

        let late = try scenario.write(
            "late.yaml",
            """
            apiVersion: v1
            kind: Service
            metadata: {name: late, namespace: x}
            spec: {type: ExternalName, externalName: alias.x.svc.cluster.local}
            """)
        let apply = try KeycardCLI.run(["apply", lab, "-f", late])
        try #require(apply.code == 0, "\(apply.err)")
        #expect(try ask("late.x") == .answered(["10.96.0.50"]))

        let web = try scenario.write("web.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: x}\n")
        let delete = try KeycardCLI.run(["delete", lab, "-f", web])
        try #require(delete.code == 0, "\(delete.err)")
        #expect(try ask("alias") == .notFound)
        #expect(try ask("late") == .notFound)
        // The cluster DNS is keycard's: live verbs may not replace its Service nor delete its pod,
        // as a scenario's steps may not (review of Services: both were done, DNS broken for good).
        let dnsService = try scenario.write(
            "kube-dns.yaml",
            "apiVersion: v1\nkind: Service\nmetadata: {name: kube-dns, namespace: kube-system}\nspec: {selector: {app: nothing}, ports: [{port: 53, protocol: UDP}]}\n"
        )
        let replaced = try KeycardCLI.run(["apply", lab, "-f", dnsService])
        #expect(replaced.code == 2 && replaced.err.contains("is the cluster DNS Service keycard runs"), "\(replaced.err)")
        let dnsPod = try scenario.write(
            "kube-dns-0.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: kube-dns-0, namespace: kube-system}\n")
        let removed = try KeycardCLI.run(["delete", lab, "-f", dnsPod])
        #expect(removed.code == 2 && removed.err.contains("cannot be deleted while spec.lab.dns is true"), "\(removed.err)")
        // One server runs, the one the lab's state records.
        let running = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init).filter { pid in
            let argv = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map { String(decoding: $0, as: UTF8.self) } ?? ""
            return argv.contains("--conf-file=\(ClusterDNSServer.configFile(lab))")
        }
        #expect(running.count == 1)
        #expect(try LabState.read(lab)?.processes.first { $0.pod == "kube-system/kube-dns-0" }?.pid == running.first)
    }

    /// `spec.lab.serviceEnforcement: pre-dnat` holds in a live lab as in `keycard run`: the
    /// client's egress, which admits the pods and not the ClusterIP, is judged before translation,
    /// so the Service path is denied while the pods are reached (conformance case 38).
    @Test func preDNATServiceEnforcementHoldsLive() throws {
        let copy = try LibraryScenarioCopy("scenarios/conformance/38-pre-dnat-clusterip.yaml", name: "cf-38-pre-dnat", stem: "cli-pre")
        defer { copy.cleanUp() }
        let lab = copy.lab
        let up = try KeycardCLI.run(["up", copy.file])
        try #require(up.code == 0, "\(up.err)")
        let probe = try KeycardCLI.run(["probe", lab, "--from", "x/client", "--to", "svc/x/web,x/web-1", "-o", "json"])
        #expect(probe.code == 0, "\(probe.out)\(probe.err)")
        let observed = try Self.results(probe.out).map { "\($0["to"] ?? "") \($0["port"] ?? "") \($0["observed"] ?? "")" }.sorted()
        #expect(
            observed == ["svc/x/web>x/web-1 80 deny", "svc/x/web>x/web-2 80 deny", "x/web-1 80 deny", "x/web-1 8080 allow"], "\(observed)")
    }

    private static func results(_ json: String) throws -> [[String: Any]] {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        return try #require(document["results"] as? [[String: Any]])
    }

    /// `nft list table inet NAME` in namespace `netns` (empty when there is no such table).
    private static func nftTable(_ netns: String, _ name: String) throws -> String {
        try runWitness(["ip", "netns", "exec", netns, "nft", "list", "table", "inet", name])
    }
}
