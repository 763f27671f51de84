import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

/// Where the mesh puts a connection on the wire: HBONE hops to port 15008 between meshed pods where
/// either is ambient (NetworkPolicy judges TCP/15008), and a sidecar's capture annotations
/// (`traffic.sidecar.istio.io/...`) that leave ports to the plain network.
@Suite struct MeshCaptureTests {
    /// `amb` is ambient, `side` injects sidecars, `plain` is outside the mesh. amb/my-app serves
    /// 8080; amb/client, side/client and plain/client call it.
    static func scenario(_ resources: [String], probe: String) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: mesh-capture}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: amb, labels: {istio.io/dataplane-mode: ambient}}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: side, labels: {istio-injection: enabled}}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: plain}}
            - {apiVersion: v1, kind: Pod, metadata: {name: my-app, namespace: amb, labels: {app.kubernetes.io/name: my-app}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: amb, labels: {app: client}}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: server, namespace: side, labels: {app: server}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: side, labels: {app: client}}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: plain, labels: {app: client}}, spec: {containers: [{name: c, image: i}]}}
        \(resources.map { "    - " + $0 }.joined(separator: "\n"))
          steps:
            - probe: \(probe)
        """
    }

    static func outcomes(_ resources: [String], _ probe: String) throws -> [String: Decision] {
        let timeline = try ScenarioLoader.parseTimeline(scenario(resources, probe: probe), file: "capture.yaml")
        var result: [String: Decision] = [:]
        for cell in timeline.cells(ofProbeStep: 1) { result["\(cell.from)>\(cell.to)"] = cell.outcome }
        return result
    }

    static func ingress(_ namespace: String, _ name: String, selector: String, ports: String) -> String {
        "{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: \(name), namespace: \(namespace)}, spec: {podSelector: {matchLabels: {\(selector)}}, ingress: [{ports: [\(ports)]}]}}"
    }

    static let allCallers = "{from: [amb/client, side/client, plain/client], to: [amb/my-app, side/server], ports: [TCP/8080]}"

    @Test("HBONE: an ingress policy allowing only the application port blocks meshed callers of an ambient pod, not plaintext ones")
    func ingressAppPortOnly() throws {
        let outcomes = try Self.outcomes(
            [
                Self.ingress(
                    "amb", "my-app-allow-ingress-web", selector: "app.kubernetes.io/name: my-app", ports: "{port: 8080, protocol: TCP}")
            ],
            Self.allCallers)
        #expect(outcomes["amb/client>amb/my-app"] == .deny)
        #expect(outcomes["side/client>amb/my-app"] == .deny)
        #expect(outcomes["plain/client>amb/my-app"] == .allow)
        // Sidecar to sidecar keeps mutual TLS on the application port; ambient to sidecar tunnels.
        #expect(outcomes["side/client>side/server"] == .allow)
        #expect(outcomes["amb/client>side/server"] == .allow)
    }

    @Test("HBONE: a policy allowing 15008 and not the application port lets meshed callers through, and only them")
    func ingressHBONEOnly() throws {
        let outcomes = try Self.outcomes(
            [
                Self.ingress("amb", "hbone-only", selector: "app.kubernetes.io/name: my-app", ports: "{port: 15008, protocol: TCP}"),
                Self.ingress("side", "hbone-only", selector: "app: server", ports: "{port: 15008, protocol: TCP}"),
            ],
            Self.allCallers)
        #expect(outcomes["amb/client>amb/my-app"] == .allow)
        #expect(outcomes["side/client>amb/my-app"] == .allow)
        #expect(outcomes["plain/client>amb/my-app"] == .deny)
        #expect(outcomes["amb/client>side/server"] == .allow)
        #expect(outcomes["side/client>side/server"] == .deny)
        #expect(outcomes["plain/client>side/server"] == .deny)
    }

    @Test("HBONE: the source's egress policy judges TCP/15008 too; a probe that escapes its proxy keeps the application port")
    func egress() throws {
        let egress =
            "{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: client-egress-8080-only, namespace: amb}, spec: {podSelector: {matchLabels: {app: client}}, policyTypes: [Egress], egress: [{ports: [{port: 8080, protocol: TCP}]}]}}"
        let outcomes = try Self.outcomes([egress], "{from: [amb/client], to: [amb/my-app, side/server], ports: [TCP/8080]}")
        #expect(outcomes["amb/client>amb/my-app"] == .deny)
        #expect(outcomes["amb/client>side/server"] == .deny)
        let escaped = try Self.outcomes([egress], "{from: [amb/client], to: [amb/my-app], ports: [TCP/8080], identity: none}")
        #expect(escaped["amb/client>amb/my-app"] == .allow)
    }

    @Test("HBONE: the mesh verdict names the tunnel, and NetworkPolicy's verdict is on the hop")
    func verdictNamesTheHop() throws {
        let timeline = try ScenarioLoader.parseTimeline(
            Self.scenario([], probe: "{from: [amb/client, plain/client], to: [amb/my-app], ports: [TCP/8080]}"), file: "capture.yaml")
        let cluster = timeline.cluster(afterStep: 1)
        let engine = MeshEngine(cluster)
        let meshed = engine.evaluate(from: ObjectKey("amb", "client"), to: .pod(ObjectKey("amb", "my-app")), port: ProtocolPort(.tcp, 8080))
        #expect(meshed.tunnel == ObjectKey("amb", "my-app"))
        let verdict = PolicyEngine(cluster).evaluate(
            fromSource: ObjectKey("amb", "client"), to: .pod(ObjectKey("amb", "my-app")), port: ProtocolPort(.tcp, 8080), mesh: meshed)
        #expect(verdict.port == ProtocolPort(.tcp, 15008))
        let plain = engine.evaluate(
            from: ObjectKey("plain", "client"), to: .pod(ObjectKey("amb", "my-app")), port: ProtocolPort(.tcp, 8080))
        #expect(plain.tunnel == nil)
    }

    @Test("Capture: an excluded inbound port of a STRICT sidecar pod is reached in plaintext, unjudged; the others are refused")
    func excludedInboundPort() throws {
        let resources = [
            "{apiVersion: v1, kind: Pod, metadata: {name: metrics, namespace: side, labels: {app: metrics}, annotations: {traffic.sidecar.istio.io/excludeInboundPorts: \"9100\"}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}, {containerPort: 9100}]}]}}",
            "{apiVersion: v1, kind: Pod, metadata: {name: listed, namespace: side, labels: {app: listed}, annotations: {traffic.sidecar.istio.io/includeInboundPorts: \"8080\"}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}, {containerPort: 9100}]}]}}",
            "{apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: default, namespace: side}, spec: {mtls: {mode: STRICT}}}",
        ]
        let timeline = try ScenarioLoader.parseTimeline(
            Self.scenario(
                resources, probe: "{from: [plain/client, side/client], to: [side/metrics, side/listed], ports: [TCP/8080, TCP/9100]}"),
            file: "capture.yaml")
        var outcomes: [String: Decision] = [:]
        for cell in timeline.cells(ofProbeStep: 1) { outcomes["\(cell.from)>\(cell.to) \(cell.port)"] = cell.outcome }
        #expect(outcomes["plain/client>side/metrics TCP/9100"] == .allow)
        #expect(outcomes["plain/client>side/metrics TCP/8080"] == .denyMTLS)
        #expect(outcomes["plain/client>side/listed TCP/9100"] == .allow)
        #expect(outcomes["plain/client>side/listed TCP/8080"] == .denyMTLS)
        #expect(outcomes["side/client>side/metrics TCP/9100"] == .allow)
        #expect(outcomes["side/client>side/metrics TCP/8080"] == .allow)
        let cell = try #require(timeline.cells(ofProbeStep: 1).first { $0.from == ObjectKey("plain", "client") && $0.port.port == 9100 })
        #expect(cell.mesh?.bypass?.contains("not captured by its sidecar") == true)
    }

    @Test("Capture: an excluded outbound port or range makes a sidecar pod's call plaintext, refused by STRICT")
    func excludedOutbound() throws {
        let resources = [
            "{apiVersion: v1, kind: Pod, metadata: {name: legacy, namespace: side, labels: {app: legacy}, annotations: {traffic.sidecar.istio.io/excludeOutboundPorts: \"8080\"}}, spec: {containers: [{name: c, image: i}]}}",
            "{apiVersion: v1, kind: Pod, metadata: {name: ranged, namespace: side, labels: {app: ranged}, annotations: {traffic.sidecar.istio.io/excludeOutboundIPRanges: \"0.0.0.0/0\"}}, spec: {containers: [{name: c, image: i}]}}",
            "{apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: default, namespace: side}, spec: {mtls: {mode: STRICT}}}",
        ]
        let outcomes = try Self.outcomes(resources, "{from: [side/legacy, side/ranged, side/client], to: [side/server], ports: [TCP/8080]}")
        #expect(outcomes["side/legacy>side/server"] == .denyMTLS)
        #expect(outcomes["side/ranged>side/server"] == .denyMTLS)
        #expect(outcomes["side/client>side/server"] == .allow)
    }

    @Test("Capture annotations: '*', lists, bad entries")
    func parsing() {
        typealias A = SidecarCapture.Annotation
        let all = SidecarCapture(annotations: [A.includeInboundPorts: "*", A.excludeInboundPorts: "9100,x, 70000"])
        #expect(all.capturesInbound(port: 8080) && !all.capturesInbound(port: 9100) && !all.capturesInbound(port: 15008))
        #expect(all.ignored == ["\(A.excludeInboundPorts): x", "\(A.excludeInboundPorts): 70000"])
        let listed = SidecarCapture(annotations: [A.includeInboundPorts: "8080", A.excludeInboundPorts: "8080"])
        #expect(listed.capturesInbound(port: 8080) && !listed.capturesInbound(port: 9090))
        #expect(!SidecarCapture(annotations: [A.includeInboundPorts: ""]).capturesInbound(port: 8080))
        let out = SidecarCapture(annotations: [A.excludeOutboundIPRanges: "10.96.0.0/12", A.excludeOutboundPorts: "5432"])
        #expect(!out.capturesOutbound(address: IPv4("10.96.0.10"), port: 80))
        #expect(!out.capturesOutbound(address: IPv4("10.244.0.2"), port: 5432))
        #expect(out.capturesOutbound(address: IPv4("10.244.0.2"), port: 80))
        #expect(SidecarCapture(annotations: [:]).isDefault)
    }
}
