import KeycardModel
import Testing

@testable import KeycardScenario

private typealias T = ScenarioText

/// A bare pod of prod (written at column 1) whose container serves 80 with `port` (YAML flow
/// mapping fields, e.g. `hostPort: 8080`); `spec` adds pod spec fields.
private func pod(_ name: String, port: String = "hostPort: 8080", spec: String = "") -> String {
    """
    - apiVersion: v1
      kind: Pod
      metadata: {name: \(name), namespace: prod, labels: {app: \(name)}}
      spec: {\(spec)containers: [{name: c, image: i, ports: [{containerPort: 80, \(port)}]}]}
    """
}

/// A Deployment `web` in prod with `replicas` pods claiming host port 8080.
private func hostPortDeployment(replicas: Int) -> String {
    """
    - apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web, namespace: prod}
      spec:
        replicas: \(replicas)
        selector: {matchLabels: {app: hp}}
        template:
          metadata: {labels: {app: hp}}
          spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80, hostPort: 8080}]}]}
    """
}

private func hostPortTimeline(_ resources: String, steps: String? = nil, nodes: Int = 1) throws -> Timeline {
    try ScenarioLoader.parseTimeline(
        T.scenario(resources: resources, steps: steps) + "  lab: {nodes: \(nodes)}\n", file: "hostport.yaml")
}

private let web = WorkloadKey(.deployment, "prod", "web")

/// The scheduler's NodePorts filter (pkg/scheduler/framework/plugins/nodeports) for explicit
/// `hostPort`s: no two pods claiming the same port, protocol and host IP on one node; the later
/// one stays Pending (or, bound by its own `nodeName`, is refused by the kubelet).
@Suite("Host ports and scheduling")
struct HostPortSchedulingTests {
    /// The reviewer's case: three replicas with hostPort 8080 on one node: one runs, two are
    /// Pending (not in the cluster that runs, not probed), each warned about.
    @Test func replicasBeyondTheNodesStayPending() throws {
        let steps = "- probe: {from: [prod/web], to: [prod/deployment/web], ports: [TCP/80]}"
        let t = try hostPortTimeline(hostPortDeployment(replicas: 3), steps: steps)
        #expect(t.initial.pods(of: web).count == 1)
        let probe = try #require(t.probes[1])
        #expect(probe.destinations.count == 1)
        let pending = t.warnings.filter { $0.message.contains("stays Pending: host port 8080/TCP is taken on node-0") }
        #expect(pending.count == 2, "\(t.warnings)")
        // The pods exist for the API server all along: the controller makes no third and fourth.
        #expect(t.everyPod.filter { if case .pod(let p) = $0.object { p.owner?.workload == web } else { false } }.count == 3)
        // Three nodes: one each, no warning.
        let three = try hostPortTimeline(hostPortDeployment(replicas: 3), steps: steps, nodes: 3)
        let placed = three.initial.pods(of: web).compactMap { three.plan.nodes[$0.key] }
        #expect(Set(placed) == [0, 1, 2])
        #expect(three.warnings.isEmpty, "\(three.warnings)")
        // Two nodes: two run, on different nodes.
        let two = try hostPortTimeline(hostPortDeployment(replicas: 3), nodes: 2)
        #expect(Set(two.initial.pods(of: web).compactMap { two.plan.nodes[$0.key] }) == [0, 1])
    }

    /// A Pending pod is bound once the pod holding its port is gone.
    @Test func aPendingPodRunsOnceThePortIsFree() throws {
        let t = try hostPortTimeline(
            pod("a") + "\n" + hostPortDeployment(replicas: 1),
            steps: "- delete: [{kind: Pod, namespace: prod, name: a}]")
        #expect(t.initial.pods(of: web).isEmpty)
        let made = t.everyPod.compactMap { loaded -> Pod? in
            guard case .pod(let made) = loaded.object, made.owner?.workload == web else { return nil }
            return made
        }
        let waiting = try #require(made.first)
        let after = t.cluster(afterStep: 1).pods(of: web)
        #expect(after.map(\.key) == [waiting.key], "the same pod, bound now")
        #expect(t.warnings.contains { $0.message.contains("pod \(waiting.key) stays Pending") && $0.message.contains("by pod prod/a") })
    }

    /// Other protocols and distinct host IPs do not conflict; 0.0.0.0 (or none) conflicts with every IP.
    @Test func protocolAndHostIP() throws {
        let udp = try hostPortTimeline(pod("a") + "\n" + pod("b", port: "hostPort: 8080, protocol: UDP"))
        #expect(udp.initial.pods[ObjectKey("prod", "b")] != nil)
        let ips = try hostPortTimeline(
            pod("a", port: "hostPort: 8080, hostIP: 10.0.0.1") + "\n" + pod("b", port: "hostPort: 8080, hostIP: 10.0.0.2"))
        #expect(ips.initial.pods[ObjectKey("prod", "b")] != nil)
        #expect(ips.warnings.isEmpty, "\(ips.warnings)")
        let any = try hostPortTimeline(
            pod("a", port: "hostPort: 8080, hostIP: 10.0.0.1") + "\n" + pod("b", port: "hostPort: 8080, hostIP: \"\""))
        #expect(any.initial.pods[ObjectKey("prod", "b")] == nil)
        #expect(
            any.warnings.contains { $0.message.contains("pod prod/b stays Pending: host port 8080/TCP is taken on node-0 by pod prod/a") })
        // Without hostPort, the container port is the pod's own.
        let plain = try hostPortTimeline(pod("a", port: "name: http") + "\n" + pod("b", port: "name: http"))
        #expect(plain.initial.pods[ObjectKey("prod", "b")] != nil)
    }

    /// A pod claiming a port goes to the next node with it free, instead of its round-robin turn;
    /// pods without claims keep their round-robin nodes.
    @Test func placementPrefersANodeWithThePortFree() throws {
        // The head's web and api take node-0 and node-1; then a (node-0), c (node-1), b (its turn: node-0).
        let t = try hostPortTimeline(pod("a") + "\n" + pod("c", port: "name: http") + "\n" + pod("b"), nodes: 2)
        #expect(t.plan.nodes[ObjectKey("prod", "a")] == 0)
        #expect(t.plan.nodes[ObjectKey("prod", "c")] == 1)
        #expect(t.plan.nodes[ObjectKey("prod", "b")] == 1)
        #expect(t.initial.pods[ObjectKey("prod", "b")] != nil)
        #expect(t.warnings.isEmpty, "\(t.warnings)")
    }

    /// A bare pod with nodeName skips the scheduler; the kubelet refuses the conflicting pod,
    /// and it does not run even once the port is free (the kubelet failed it).
    @Test func nodeNameSkipsTheSchedulerAndTheKubeletRefuses() throws {
        let t = try hostPortTimeline(
            pod("a", spec: "nodeName: node-1, ") + "\n" + pod("b", spec: "nodeName: node-1, "),
            steps: "- delete: [{kind: Pod, namespace: prod, name: a}]", nodes: 2)
        let b = ObjectKey("prod", "b")
        #expect(t.initial.pods[b] == nil)
        #expect(t.cluster(afterStep: 1).pods[b] == nil)
        #expect(t.warnings.contains { $0.message.contains("pod prod/b: spec.nodeName binds it to node-1 without the scheduler") })
        // The same through a hostname nodeSelector: scheduled, so Pending, then bound.
        let selected = try hostPortTimeline(
            pod("a", spec: "nodeSelector: {kubernetes.io/hostname: node-1}, ") + "\n"
                + pod("b", spec: "nodeSelector: {kubernetes.io/hostname: node-1}, "),
            steps: "- delete: [{kind: Pod, namespace: prod, name: a}]", nodes: 2)
        #expect(selected.initial.pods[b] == nil)
        #expect(selected.cluster(afterStep: 1).pods[b] != nil)
    }

    /// A host-network pod's container ports are host ports: an explicit hostPort on the same
    /// node waits for them too.
    @Test func hostNetworkPortsCount() throws {
        let host = pod("exporter", port: "name: m", spec: "hostNetwork: true, ").replacingOccurrences(
            of: "containerPort: 80", with: "containerPort: 8080")
        let t = try hostPortTimeline(host + "\n" + pod("b"))
        #expect(t.initial.pods[ObjectKey("prod", "b")] == nil)
        #expect(t.warnings.contains { $0.message.contains("pod prod/b stays Pending") && $0.message.contains("by pod prod/exporter") })
    }

    /// checkHostPortConflicts (ValidatePodSpec): one protocol, hostIP and hostPort twice in a
    /// pod's containers is refused; a host-network pod's hostPort defaults to its containerPort.
    @Test func duplicateHostPortsInAPodAreRefused() throws {
        let twice = """
            - apiVersion: v1
              kind: Pod
              metadata: {name: twice, namespace: prod}
              spec:
                containers:
                - {name: a, image: i, ports: [{containerPort: 80, hostPort: 8080}]}
                - {name: b, image: i, ports: [{containerPort: 81, hostPort: 8080}]}
            """
        let error = try #require(throws: ScenarioError.self) { try hostPortTimeline(twice) }
        #expect(error.message.contains("hostPort: Duplicate value: \"TCP//8080\""), "\(error.message)")
        _ = try hostPortTimeline(
            twice.replacingOccurrences(of: "containerPort: 81, hostPort: 8080", with: "containerPort: 81, hostPort: 8080, protocol: UDP"))
        let host = """
            - apiVersion: v1
              kind: Pod
              metadata: {name: twice, namespace: prod}
              spec:
                hostNetwork: true
                containers:
                - {name: a, image: i, ports: [{containerPort: 9100}]}
                - {name: b, image: i, ports: [{containerPort: 9100}]}
            """
        let hostError = try #require(throws: ScenarioError.self) { try hostPortTimeline(host) }
        #expect(hostError.message.contains("Duplicate value: \"TCP//9100\""), "\(hostError.message)")
    }
}
