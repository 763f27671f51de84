import Foundation
import Glibc
import KeycardProbe
import Testing

@testable import KeycardScenario

/// Flows of real traffic: a client program (`command:`, redis-cli in a loop) talks to two real
/// redis-server pods; after the policies, the kernel forwards its connections to one and drops
/// those to the other, and `keycard run`'s flow log shows both, attributed as probe flows are.
@Suite("Flows of command: programs", .serialized)
struct ProgramTrafficFlowTests {
    /// The client starts talking 2 s after it starts, once the policies are in place: a
    /// connection made just before a policy change and read just after it would be judged by the
    /// new policies (docs/flows.md), which this test does not examine.
    static let clientLoop =
        "sleep 2; while :; do timeout 1 redis-cli -h 10.244.0.10 PING; timeout 2 redis-cli -h 10.244.0.11 PING; sleep 0.1; done"

    /// Two redis-server pods in data (redis-0 allowed from shop, redis-1 isolated) and shop/api
    /// running `loop` (a shell command line).
    static func scenario(lab: String, loop: String = clientLoop) -> String {
        let redisArgs = #"["--port", "6379", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--appendonly", "no"]"#
        return """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: \(lab)}
            spec:
              lab: {podCIDR: 10.244.0.0/24}
              probe: {timeout: 1s, retries: 1}
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: data}}
                - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
                - apiVersion: v1
                  kind: Pod
                  metadata: {name: redis-0, namespace: data, labels: {app: redis}}
                  status: {podIP: 10.244.0.10}
                  spec: {containers: [{name: r, command: [redis-server], args: \(redisArgs), ports: [{containerPort: 6379}]}]}
                - apiVersion: v1
                  kind: Pod
                  metadata: {name: redis-1, namespace: data, labels: {app: cache}}
                  status: {podIP: 10.244.0.11}
                  spec: {containers: [{name: r, command: [redis-server], args: \(redisArgs), ports: [{containerPort: 6379}]}]}
                - apiVersion: v1
                  kind: Pod
                  metadata: {name: api, namespace: shop, labels: {app: api}}
                  spec: {containers: [{name: c, command: [sh, -c, "\(loop)"]}]}
              steps:
                - apply:
                    - apiVersion: networking.k8s.io/v1
                      kind: NetworkPolicy
                      metadata: {name: default-deny, namespace: data}
                      spec: {podSelector: {}, policyTypes: [Ingress]}
                    - apiVersion: networking.k8s.io/v1
                      kind: NetworkPolicy
                      metadata: {name: redis-from-api, namespace: data}
                      spec:
                        podSelector: {matchLabels: {app: redis}}
                        ingress:
                          - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}}]
                            ports: [{port: 6379}]
                - name: api to both
                  probe: {from: [shop/api], to: [data/redis-0, data/redis-1], ports: [TCP/6379]}
                  expect:
                    TCP/6379: |
                      -         data/redis-0  data/redis-1
                      shop/api  .             X
                - name: api to both again
                  probe: {from: [shop/api], to: [data/redis-0, data/redis-1], ports: [TCP/6379]}
                  expect:
                    TCP/6379: |
                      -         data/redis-0  data/redis-1
                      shop/api  .             X

            """
    }

    /// Runs the scenario with `loop` under `enforcement`: the report, its probe flows and the
    /// kernel's flows of other sockets.
    static func run(loop: String, enforcement: Enforcement) throws -> (Report, probes: [HubbleFlowLine], traffic: [HubbleFlowLine]) {
        let lab = ScenarioLibrary.uniqueLabName()
        let path = NSTemporaryDirectory() + "keycard-traffic-\(lab).yaml"
        try Self.scenario(lab: lab, loop: loop).write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let timeline = try ScenarioLoader.timeline(path)
        let run = ScenarioRun(timeline: timeline, options: .init(enforcement: enforcement, labName: lab))
        defer { run.tearDown() }
        let log = FlowLog(scenario: timeline.scenario.name, labName: lab, nodes: timeline.plan.nodes)
        var probeLines: [HubbleFlowLine] = []
        var traffic: [HubbleFlowLine] = []
        run.stepFinished = { step in
            probeLines += log.flows(of: step, cluster: timeline.cluster(afterStep: step.index), time: Date())
            // Probes settle in milliseconds: give the program time to talk under the policies.
            if step.index == 1 { usleep(6_000_000) }
        }
        run.trafficSeen = { index, name, seen in
            traffic += log.trafficFlows(seen, cluster: timeline.cluster(afterStep: index), step: index, stepName: name, time: Date())
        }
        let report = try run.execute()
        #expect(ScenarioLibrary.leftoverNamespaces(lab: lab).isEmpty)
        return (report, probeLines, traffic)
    }

    @Test(
        "a program's connections: FORWARDED by redis-from-api, DROPPED by data's isolation, confirmed by the kernel, origin program",
        arguments: [Enforcement.pod, .node])
    func programFlows(enforcement: Enforcement) throws {
        try #require(geteuid() == 0, "needs root")
        let (report, probeLines, traffic) = try Self.run(loop: Self.clientLoop, enforcement: enforcement)
        #expect(report.passed, "\(ScenarioLibrary.failures(report).joined(separator: "\n"))")

        // The probes' flows say they are the prober's; the kernel's flows of the run are the program's only.
        #expect(!probeLines.isEmpty && probeLines.allSatisfy { $0.flow.extensions?.value.origin == "prober" })
        #expect(!traffic.isEmpty && traffic.allSatisfy { $0.flow.extensions?.value.origin == "program" })
        #expect(traffic.allSatisfy { $0.flow.extensions?.value.kind == "traffic" && $0.flow.source.pod_name == "api" })

        // Made once the policies were in place (the cluster as after step 1, the apply).
        let after = traffic.filter { ($0.flow.extensions?.value.step ?? 0) >= 1 }
        let forwarded = after.filter { $0.flow.verdict == "FORWARDED" }
        let dropped = after.filter { $0.flow.verdict == "DROPPED" }
        #expect(!forwarded.isEmpty, "\(traffic.map(\.flow.verdict))")
        #expect(!dropped.isEmpty, "\(traffic.map(\.flow.verdict))")
        for line in forwarded {
            #expect(line.flow.destination.pod_name == "redis-0")
            #expect(line.flow.ingress_allowed_by == [.init(name: "redis-from-api", namespace: "data")])
            #expect(line.flow.traffic_direction == "INGRESS")
            #expect(line.flow.l4.TCP?.destination_port == 6379 && line.flow.l4.TCP?.source_port != nil)
            #expect(line.flow.extensions?.value.confirmed == true)
            #expect(line.flow.extensions?.value.rule == "data/redis-from-api#ingress[0]")
        }
        // Each dropped connection is its policy verdict (with the isolating policy), then its drop event.
        #expect(dropped.count % 2 == 0 && dropped.count == 2 * dropped.filter { $0.flow.event_type.type == 5 }.count)
        for line in dropped {
            #expect(line.flow.destination.pod_name == "redis-1")
            #expect(line.flow.drop_reason_desc == "POLICY_DENIED")
            let verdictEvent = line.flow.event_type.type == 5
            #expect(line.flow.ingress_denied_by == (verdictEvent ? [.init(name: "default-deny", namespace: "data")] : nil))
            #expect(line.flow.extensions?.value.reason == "dropped: kc deny ingress data/redis-1")
            #expect(line.flow.extensions?.value.confirmed == true)
        }
        // One flow per connection: no source port twice. A dropped connect retransmits its SYN
        // after 1 s (redis-cli gets 2 s): the retransmission is counted, not repeated.
        // (The kernel may give connections to different servers the same source port.)
        let ports = after.filter { $0.flow.event_type.type == 5 }.compactMap { line in
            line.flow.l4.TCP?.source_port.map { "\(line.flow.IP.destination):\($0)" }
        }
        #expect(Set(ports).count == ports.count, "\(ports)")
        #expect(
            dropped.contains { ($0.flow.extensions?.value.attempts ?? 0) >= 2 },
            "\(dropped.map { $0.flow.extensions?.value.attempts ?? 0 })")
        if HubbleReader.available {
            let read = try HubbleReader.read(try FlowLog.encode(probeLines + traffic))
            #expect(read.status == 0, "\(read.stderr)")
        }
    }

    @Test("the prober's own connections from a program pod are not written twice: a silent program makes no traffic flow")
    func proberConnectionsAreNotProgramTraffic() throws {
        try #require(geteuid() == 0, "needs root")
        let (report, probeLines, traffic) = try Self.run(loop: "sleep 600", enforcement: .pod)
        #expect(report.passed, "\(ScenarioLibrary.failures(report).joined(separator: "\n"))")
        // Both probe steps probed from shop/api (a program pod), forwarded and dropped.
        #expect(Set(probeLines.map(\.flow.verdict)) == ["FORWARDED", "DROPPED"])
        #expect(traffic.isEmpty, "\(traffic.map { "\($0.flow.verdict) \($0.flow.IP.source) -> \($0.flow.IP.destination)" })")
    }
}
