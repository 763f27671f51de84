import Foundation
import Glibc
import KeycardKernel
import Testing

/// `keycard observe LAB` on a live lab: follows the flows of `keycard probe` (and any other
/// socket) as Hubble JSON lines, attributes them with the policies the lab holds at that moment
/// (a policy applied while observing included), and ends with exit 0 on SIGINT, leaving nothing.
@Suite(.serialized) struct CliObserveTests {
    init() throws {
        try #require(geteuid() == 0, "the CLI lab tests need root")
        try #require(FileManager.default.isExecutableFile(atPath: KeycardCLI.binary), "keycard is not built at \(KeycardCLI.binary)")
    }

    @Test func observeFollowsProbesWithThePoliciesAppliedMeanwhileUntilSIGINT() throws {
        let scenario = try CliScenario(stem: "cli-obs", pods: [("x", "a"), ("x", "b"), ("y", "c")])
        defer { scenario.cleanUp() }
        let up = try KeycardCLI.run(["up", scenario.file])
        try #require(up.code == 0, "\(up.err)")
        let lab = scenario.lab
        let tablesBefore = try keycardTables(in: "kc-\(lab).pod.x.a")

        let out = "\(scenario.folder)/observe.out"
        let err = "\(scenario.folder)/observe.err"
        FileManager.default.createFile(atPath: out, contents: nil)
        FileManager.default.createFile(atPath: err, contents: nil)
        let observe = Process()
        observe.executableURL = URL(fileURLWithPath: KeycardCLI.binary)
        observe.arguments = ["observe", lab]
        observe.standardOutput = FileHandle(forWritingAtPath: out)
        observe.standardError = FileHandle(forWritingAtPath: err)
        try observe.run()
        defer { if observe.isRunning { kill(observe.processIdentifier, SIGKILL) } }
        let started = waitUntil { ((try? String(contentsOfFile: err, encoding: .utf8)) ?? "").contains("observing new flows") }
        try #require(started, "\((try? String(contentsOfFile: err, encoding: .utf8)) ?? "")")

        // A policy applied while observing: x/a is isolated for ingress from now on.
        let policy = try scenario.write("deny.yaml", CliScenario.denyIngress("x", podLabel: "a"))
        #expect(try KeycardCLI.run(["apply", lab, "-f", policy]).code == 0)
        #expect(try KeycardCLI.probeOne(lab, from: "x/b", to: "x/a").observed == "deny")
        #expect(try KeycardCLI.probeOne(lab, from: "y/c", to: "x/b").observed == "allow")
        // Both probes' flows written (what is logged before SIGINT is written after it too).
        let written = waitUntil(seconds: 20) {
            let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            return text.contains("\"DROPPED\"") && text.contains("\"FORWARDED\"")
        }
        #expect(written, "observe wrote no drop and forward within 20 s")
        kill(observe.processIdentifier, SIGINT)
        observe.waitUntilExit()
        #expect(observe.terminationReason == .exit && observe.terminationStatus == 0)

        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        let flows = try lines.map { line -> [String: Any] in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return try #require(object["flow"] as? [String: Any], "\(line)")
        }
        func pod(_ flow: [String: Any], _ end: String) -> String {
            let endpoint = flow[end] as? [String: Any] ?? [:]
            return "\(endpoint["namespace"] as? String ?? "")/\(endpoint["pod_name"] as? String ?? "")"
        }
        let dropped = flows.filter {
            $0["verdict"] as? String == "DROPPED" && pod($0, "source") == "x/b" && pod($0, "destination") == "x/a"
        }
        #expect(!dropped.isEmpty, "\(lines)")
        // A dropped packet is its policy verdict (type 5, naming the policy), then the drop event (type 1).
        let eventTypes = dropped.map { ($0["event_type"] as? [String: Any])?["type"] as? Int ?? 0 }
        #expect(eventTypes.filter { $0 == 5 }.count == eventTypes.filter { $0 == 1 }.count, "\(eventTypes)")
        for flow in dropped {
            let denied = flow["ingress_denied_by"] as? [[String: String]]
            let verdictEvent = (flow["event_type"] as? [String: Any])?["type"] as? Int == 5
            #expect(denied == (verdictEvent ? [["name": "deny-in", "namespace": "x", "kind": "NetworkPolicy"]] : nil))
            #expect(flow["traffic_direction"] as? String == "INGRESS")
            let facts = (flow["extensions"] as? [String: Any])?["value"] as? [String: Any]
            #expect(facts?["reason"] as? String == "dropped: kc deny ingress x/a")
            #expect(facts?["confirmed"] as? Bool == true)
            #expect(facts?["origin"] as? String == "prober")
        }
        let forwarded = flows.filter {
            $0["verdict"] as? String == "FORWARDED" && pod($0, "source") == "y/c" && pod($0, "destination") == "x/b"
        }
        #expect(forwarded.count >= 1, "\(lines)")
        #expect(forwarded.allSatisfy { (($0["l4"] as? [String: Any])?["TCP"] as? [String: Any])?["destination_port"] as? Int == 80 })
        // Nothing else: every flow is one of the two probes.
        #expect(flows.count == dropped.count + forwarded.count, "\(lines)")
        // observe added no table and left no process.
        #expect(try keycardTables(in: "kc-\(lab).pod.x.a") == tablesBefore)
    }

    /// Echo requests and a node's own connections: `keycard probe --ports ICMP` into an isolated pod
    /// is confirmed by that pod's drop log (it was a bare timeout, `confirmed: false`), and observe
    /// writes the echo requests (dropped and forwarded) and node-0's connection (source
    /// `reserved:host`, the node that saw it), which it left out.
    @Test func observeWritesEchoRequestsAndNodeSourcedConnections() throws {
        let scenario = try CliScenario(stem: "cli-obsi", pods: [("x", "a"), ("x", "b")])
        defer { scenario.cleanUp() }
        let up = try KeycardCLI.run(["up", scenario.file])
        try #require(up.code == 0, "\(up.err)")
        let lab = scenario.lab
        let policy = try scenario.write("deny.yaml", CliScenario.denyIngress("x", podLabel: "a"))
        #expect(try KeycardCLI.run(["apply", lab, "-f", policy]).code == 0)

        let out = "\(scenario.folder)/observe.out"
        let err = "\(scenario.folder)/observe.err"
        FileManager.default.createFile(atPath: out, contents: nil)
        FileManager.default.createFile(atPath: err, contents: nil)
        let observe = Process()
        observe.executableURL = URL(fileURLWithPath: KeycardCLI.binary)
        observe.arguments = ["observe", lab, "-o", "compact"]
        observe.standardOutput = FileHandle(forWritingAtPath: out)
        observe.standardError = FileHandle(forWritingAtPath: err)
        try observe.run()
        defer { if observe.isRunning { kill(observe.processIdentifier, SIGKILL) } }
        let started = waitUntil { ((try? String(contentsOfFile: err, encoding: .utf8)) ?? "").contains("observing new flows") }
        try #require(started, "\((try? String(contentsOfFile: err, encoding: .utf8)) ?? "")")

        // observe holds the drop log meanwhile: the ICMP probe's confirmation is checked after it ends.
        #expect(try KeycardCLI.probeOne(lab, from: "x/b", to: "x/a", port: "ICMP").observed == "deny")
        #expect(try KeycardCLI.probeOne(lab, from: "x/a", to: "x/b", port: "ICMP").observed == "allow")
        #expect(try KeycardCLI.probeOne(lab, from: "node/node-0", to: "x/b").observed == "allow")
        // The last probe's flow written (the earlier ones' came first).
        let written = waitUntil(seconds: 20) {
            ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").contains(" -> x/b:80/TCP FORWARDED INGRESS")
        }
        #expect(written, "observe wrote no flow of node-0's connection within 20 s")
        kill(observe.processIdentifier, SIGINT)
        observe.waitUntilExit()
        #expect(observe.terminationReason == .exit && observe.terminationStatus == 0)
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map {
            String($0.drop { $0 != " " }.dropFirst())
        }
        #expect(lines.contains("x/b -> x/a ICMP DENIED INGRESS by x/deny-in"), "\(lines)")
        #expect(lines.contains("x/b -> x/a ICMP DROPPED INGRESS"), "\(lines)")
        #expect(lines.contains("x/a -> x/b ICMP FORWARDED INGRESS"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("100.64.0.2:") && $0.hasSuffix(" -> x/b:80/TCP FORWARDED INGRESS") }, "\(lines)")

        let probe = try KeycardCLI.run(["probe", lab, "--from", "x/b", "--to", "x/a", "--ports", "ICMP", "-o", "json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(probe.out.utf8)) as? [String: Any], "\(probe.err)")
        let cell = try #require((document["results"] as? [[String: Any]])?.first)
        #expect(cell["observed"] as? String == "deny")
        #expect(cell["reason"] as? String == "dropped: kc deny ingress x/a", "\(cell)")
        #expect(cell["confirmed"] as? Bool == true, "\(cell)")
        #expect(cell["attempts"] as? Int == 1, "\(cell)")
    }

    /// A `--pod` filter without a namespace matched no flow and observe waited in silence: it is
    /// refused before any lab is opened.
    @Test func aPodFilterWithoutNamespaceIsRefused() throws {
        let result = try KeycardCLI.run(["observe", "cli-obs-nolab", "--pod", "frontend"])
        #expect(result.code == 2, "\(result.err)")
        #expect(result.err.contains("--pod frontend: write namespace/name"), "\(result.err)")
    }

    private func waitUntil(seconds: Double = 10, _ condition: () -> Bool) -> Bool {
        CliLiveLifecycleTests.waitUntil(seconds: seconds, condition)
    }
}
