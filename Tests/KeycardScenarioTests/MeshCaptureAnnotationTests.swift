import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

/// The capture annotations Istio's injector checks and istio-iptables applies
/// (`includeOutboundIPRanges`, `includeOutboundPorts`, `interceptionMode`), and istio-cni's ingress
/// mode for ambient pods (`ambient.istio.io/bypass-inbound-capture`).
@Suite struct MeshCaptureAnnotationTests {
    typealias A = SidecarCapture.Annotation

    static func outcomes(_ resources: [String], _ probe: String) throws -> [String: Decision] {
        let timeline = try ScenarioLoader.parseTimeline(MeshCaptureTests.scenario(resources, probe: probe), file: "capture.yaml")
        var result: [String: Decision] = [:]
        for cell in timeline.cells(ofProbeStep: 1) { result["\(cell.from)>\(cell.to) \(cell.port)"] = cell.outcome }
        return result
    }

    static let strictSide =
        "{apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: default, namespace: side}, spec: {mtls: {mode: STRICT}}}"

    static func sidePod(_ name: String, _ annotations: String) -> String {
        "{apiVersion: v1, kind: Pod, metadata: {name: \(name), namespace: side, labels: {app: \(name)}, annotations: {\(annotations)}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}}"
    }

    @Test("includeOutboundIPRanges: an empty list or a list without the destination leaves the call plaintext, refused by STRICT")
    func includeOutboundRanges() throws {
        let outcomes = try Self.outcomes(
            [
                Self.sidePod("nocap", "\(A.includeOutboundIPRanges): \"\""),
                Self.sidePod("onecap", "\(A.includeOutboundIPRanges): \"192.0.2.1/32\""),
                Self.sidePod("podcidr", "\(A.includeOutboundIPRanges): \"10.244.0.0/16\""),
                Self.sidePod("star", "\(A.includeOutboundIPRanges): \"*\""),
                Self.sidePod("byport", "\(A.includeOutboundIPRanges): \"\", \(A.includeOutboundPorts): \"8080\""),
                Self.strictSide,
            ],
            "{from: [side/nocap, side/onecap, side/podcidr, side/star, side/byport, side/client], to: [side/server], ports: [TCP/8080]}")
        #expect(outcomes["side/nocap>side/server TCP/8080"] == .denyMTLS)
        #expect(outcomes["side/onecap>side/server TCP/8080"] == .denyMTLS)
        #expect(outcomes["side/podcidr>side/server TCP/8080"] == .allow)
        #expect(outcomes["side/star>side/server TCP/8080"] == .allow)
        #expect(outcomes["side/byport>side/server TCP/8080"] == .allow)
        #expect(outcomes["side/client>side/server TCP/8080"] == .allow)
    }

    @Test("interceptionMode NONE: nothing is captured, inbound or outbound")
    func interceptionNone() throws {
        let outcomes = try Self.outcomes(
            [Self.sidePod("bare", "\(A.interceptionMode): NONE"), Self.strictSide],
            "{from: [plain/client, side/bare, side/client], to: [side/bare, side/server], ports: [TCP/8080]}")
        #expect(outcomes["plain/client>side/bare TCP/8080"] == .allow)
        #expect(outcomes["plain/client>side/server TCP/8080"] == .denyMTLS)
        #expect(outcomes["side/bare>side/server TCP/8080"] == .denyMTLS)
        #expect(outcomes["side/client>side/bare TCP/8080"] == .allow)
    }

    /// Review of Istio's samples (grpc-echo): `inject.istio.io/templates: grpc-agent` renders a
    /// pilot-agent without Envoy or istio-init (istio/istio `selectTemplates`, files/grpc-agent.yaml).
    @Test("inject.istio.io/templates with only proxyless gRPC templates: nothing is captured; with sidecar, as usual")
    func proxylessTemplates() throws {
        let outcomes = try Self.outcomes(
            [
                Self.sidePod("grpc", "\(A.injectTemplates): grpc-agent"),
                Self.sidePod("both", "\(A.injectTemplates): \"grpc-simple, grpc-agent\""),
                Self.sidePod("spire", "\(A.injectTemplates): \"sidecar,spire\""),
                Self.strictSide,
            ],
            "{from: [plain/client, side/grpc, side/both, side/spire], to: [side/grpc, side/both, side/server], ports: [TCP/8080]}")
        #expect(outcomes["plain/client>side/grpc TCP/8080"] == .allow)
        #expect(outcomes["plain/client>side/both TCP/8080"] == .allow)
        #expect(outcomes["side/grpc>side/server TCP/8080"] == .denyMTLS)
        #expect(outcomes["side/both>side/server TCP/8080"] == .denyMTLS)
        #expect(outcomes["side/spire>side/server TCP/8080"] == .allow)
        #expect(outcomes["plain/client>side/server TCP/8080"] == .denyMTLS)

        let warned = try ScenarioLoader.parseTimeline(
            MeshCaptureTests.scenario(
                [Self.sidePod("grpc", "\(A.injectTemplates): grpc-agent"), Self.sidePod("gw", "\(A.injectTemplates): gateway")],
                probe: "{from: [side/grpc], to: [side/gw], ports: [TCP/8080]}"),
            file: "templates.yaml"
        ).warnings.map(\.message)
        #expect(warned.contains { $0.contains("side/grpc") && $0.contains("injects no Envoy and no capture") })
        #expect(warned.contains { $0.contains("side/gw") && $0.contains("judges the pod as an Envoy sidecar") })
        #expect(SidecarCapture(annotations: [A.injectTemplates: "sidecar"]).isDefault)
        #expect(!SidecarCapture(annotations: [A.injectTemplates: " grpc-agent "]).capturesInbound(port: 8080))
    }

    @Test("Parsing: the order of istio-iptables' ISTIO_OUTPUT, and what the injector's checks let through")
    func parsing() {
        let capture = SidecarCapture(annotations: [
            A.includeOutboundIPRanges: "10.96.0.0/12,fd00::/8", A.excludeOutboundIPRanges: "10.96.0.10/32", A.includeOutboundPorts: "5432",
            A.excludeOutboundPorts: "5432 , 9999",
        ])
        #expect(capture.includedOutboundRanges == [CIDR.parse("10.96.0.0/12")!])
        #expect(capture.capturesOutbound(address: IPv4("10.96.0.11"), port: 80))
        #expect(!capture.capturesOutbound(address: IPv4("10.96.0.10"), port: 80), "excluded ranges come first")
        #expect(!capture.capturesOutbound(address: IPv4("10.244.0.2"), port: 80), "outside the included ranges")
        #expect(!capture.capturesOutbound(address: IPv4("10.244.0.2"), port: 5432), "excluded ports come before included ones")
        #expect(!capture.isDefault)
        let ports = SidecarCapture(annotations: [A.includeOutboundIPRanges: "", A.includeOutboundPorts: "8080"])
        #expect(ports.capturesOutbound(address: IPv4("10.244.0.2"), port: 8080) && !ports.capturesOutbound(address: nil, port: 80))
        #expect(SidecarCapture(annotations: [A.includeInboundPorts: " 0, 080 "]).includedInboundPorts == [0, 80])
        #expect(SidecarCapture(annotations: [A.includeOutboundIPRanges: "*"]).isDefault)
        let none = SidecarCapture(annotations: [A.interceptionMode: "NONE", A.includeInboundPorts: "*"])
        #expect(!none.capturesInbound(port: 8080) && !none.capturesOutbound(address: IPv4("10.244.0.2"), port: 8080))
        #expect(SidecarCapture(annotations: [A.interceptionMode: "TPROXY"]).isDefault)
    }

    /// Each check of `validateAnnotations` (pkg/kube/inject/validate.go) on values it takes and
    /// values it refuses.
    @Test(
        arguments: [
            (A.interceptionMode, "REDIRECT", true), (A.interceptionMode, "TPROXY", true), (A.interceptionMode, "NONE", true),
            (A.interceptionMode, "redirect", false), (A.interceptionMode, "FOO", false), (A.interceptionMode, "", false),
            (A.includeInboundPorts, "*", true), (A.includeInboundPorts, "", true), (A.includeInboundPorts, " 80 , 0,065535", true),
            (A.includeInboundPorts, "70000", false), (A.includeInboundPorts, " * ", false), (A.includeInboundPorts, "80,", false),
            (A.includeInboundPorts, "+80", false), (A.includeInboundPorts, "8_0", false), (A.excludeInboundPorts, "*", false),
            (A.excludeOutboundPorts, "\u{A0}5432\n", true), (A.excludeOutboundPorts, "-1", false),
            (A.includeOutboundIPRanges, "*", true), (A.includeOutboundIPRanges, "", true),
            (A.includeOutboundIPRanges, "10.0.0.1/8,fd00::/8", true), (A.includeOutboundIPRanges, "garbage", false),
            (A.includeOutboundIPRanges, "192.0.2.1", false), (A.includeOutboundIPRanges, "10.0.0.0/8, 10.1.0.0/16", false),
            (A.includeOutboundIPRanges, "10.0.0.0/8,", false), (A.includeOutboundIPRanges, "010.0.0.0/8", false),
            (A.includeOutboundIPRanges, "10.0.0.0/08", false), (A.includeOutboundIPRanges, "10.0.0.0/33", false),
            (A.excludeOutboundIPRanges, "*", false), (A.excludeOutboundIPRanges, "", true),
            ("status.sidecar.istio.io/port", " 15020 ", true), ("status.sidecar.istio.io/port", "", false),
            ("readiness.status.sidecar.istio.io/periodSeconds", "4294967295", true),
            ("readiness.status.sidecar.istio.io/periodSeconds", "4294967296", false),
            ("readiness.status.sidecar.istio.io/failureThreshold", " 3", false),
            ("traffic.sidecar.istio.io/excludeInterfaces", "", true),
            ("traffic.sidecar.istio.io/excludeInterfaces", "eth0, net1.2_x-y", true),
            ("traffic.sidecar.istio.io/kubevirtInterfaces", "eth0,", false), ("istio.io/reroute-virtual-interfaces", "0eth", false),
            ("istio.io/reroute-virtual-interfaces", "abcdefghijklmnop", false),
            ("prometheus.istio.io/merge-metrics", "True", true), ("prometheus.istio.io/merge-metrics", "yes", false),
            ("sidecar.istio.io/proxyCPU", "100m", true), ("sidecar.istio.io/proxyMemory", "1.5Gi", true),
            ("sidecar.istio.io/proxyCPULimit", " 1", false), ("sidecar.istio.io/proxyMemoryLimit", "1\u{7}Gi", false),
            ("sidecar.istio.io/proxyMemoryLimit", "lots", false), ("sidecar.istio.io/unchecked", "anything", true),
        ])
    func injectorChecks(_ name: String, _ value: String, _ accepted: Bool) {
        let refusals = SidecarInjectorAnnotations.refusals([name: value])
        #expect(refusals.isEmpty == accepted, "\(name): \(value.debugDescription): \(refusals.map(\.message))")
        if let refusal = refusals.first { #expect(refusal.message.hasPrefix("invalid value '\(value)' for annotation '\(name)': ")) }
    }

    static func podScenario(namespaceLabels: String, annotations: String, steps: String = "") -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: inject}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: side, labels: {\(namespaceLabels)}}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: side, annotations: {\(annotations)}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}}
            - {apiVersion: apps/v1, kind: Deployment, metadata: {name: api, namespace: side}, spec: {replicas: 1, selector: {matchLabels: {app: api}}, template: {metadata: {labels: {app: api}, annotations: {\(annotations)}}, spec: {containers: [{name: c, image: i}]}}}}
          steps:
            - probe: {from: [side/web], to: [side/web], ports: [TCP/8080]}
        \(steps)
        """
    }

    @Test("The injector refuses a pod it would inject with a bad annotation; other pods keep it")
    func injectorRefusesThePod() throws {
        let bad = "\(A.includeInboundPorts): \"70000\""
        do {
            _ = try ScenarioLoader.parseTimeline(
                Self.podScenario(namespaceLabels: "istio-injection: enabled", annotations: bad), file: "i.yaml")
            Issue.record("a pod with includeInboundPorts 70000 was injected")
        } catch {
            #expect(error.location.line == 7, "\(error)")
            #expect(
                error.message.contains(
                    "pod side/web: the Istio sidecar injector refuses it, so the API server does not create it: invalid value '70000' for annotation 'traffic.sidecar.istio.io/includeInboundPorts': includeInboundPorts invalid: failed parsing port '70000'"
                ), "\(error)")
        }
        // A namespace that does not inject, an opted-out pod: no injection, no check.
        _ = try ScenarioLoader.parseTimeline(Self.podScenario(namespaceLabels: "team: a", annotations: bad), file: "i.yaml")
        _ = try ScenarioLoader.parseTimeline(
            Self.podScenario(namespaceLabels: "istio-injection: enabled", annotations: "\(bad), sidecar.istio.io/inject: \"false\""),
            file: "i.yaml")
        // A dump of a pod injected earlier is not injected again: its bad entry is ignored, with a warning.
        let dumped = try ScenarioLoader.parseTimeline(
            Self.podScenario(namespaceLabels: "istio-injection: enabled", annotations: "\(bad), sidecar.istio.io/status: \"{}\""),
            file: "i.yaml")
        #expect(dumped.warnings.contains { $0.message.contains("includeInboundPorts: 70000 is not a port") }, "\(dumped.warnings)")
    }

    @Test("A workload's new pods meet the injector when they are created: a scale step after the namespace starts injecting is refused")
    func injectorRefusesWorkloadPods() throws {
        let bad = "\(A.excludeOutboundIPRanges): \"10.0.0.0/8, 10.1.0.0/16\""
        let steps = """
                - label: {kind: Namespace, name: side, labels: {istio-injection: enabled}}
                - scale: {workload: side/deployment/api, replicas: 2}
            """
        do {
            _ = try ScenarioLoader.parseTimeline(
                Self.podScenario(namespaceLabels: "team: a", annotations: bad, steps: steps), file: "i.yaml")
            Issue.record("a Deployment's new pod was injected with a bad excludeOutboundIPRanges")
        } catch {
            #expect(error.message.contains("(created by Deployment side/api): the Istio sidecar injector refuses it"), "\(error)")
            #expect(error.message.contains("failed parsing cidr ' 10.1.0.0/16'"), "\(error)")
            #expect(error.location.line == 12, "\(error)")
        }
    }

    static func ambientScenario(_ annotation: String) -> [String] {
        [
            "{apiVersion: v1, kind: Pod, metadata: {name: gw, namespace: amb, labels: {app: gw}, annotations: {\(Pod.ambientBypassInboundCapture): \"\(annotation)\"}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}}",
            "{apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: strict, namespace: amb}, spec: {mtls: {mode: STRICT}}}",
            "{apiVersion: security.istio.io/v1, kind: AuthorizationPolicy, metadata: {name: nothing, namespace: amb}, spec: {}}",
        ]
    }

    @Test("Ambient ingress mode: plaintext reaches the application unjudged; HBONE from meshed pods still meets ztunnel")
    func ambientBypassInboundCapture() throws {
        let probe = "{from: [plain/client, amb/client, side/client], to: [amb/gw], ports: [TCP/8080]}"
        let bypassed = try Self.outcomes(Self.ambientScenario("true"), probe)
        #expect(bypassed["plain/client>amb/gw TCP/8080"] == .allow)
        #expect(bypassed["amb/client>amb/gw TCP/8080"] == .denyRBAC)
        #expect(bypassed["side/client>amb/gw TCP/8080"] == .denyRBAC)
        let spoofed = try Self.outcomes(
            Self.ambientScenario("T"),
            "{from: [plain/client], to: [amb/gw], ports: [TCP/8080], identity: {spoofed: \"spiffe://cluster.local/ns/amb/sa/default\"}}")
        #expect(spoofed["plain/client>amb/gw TCP/8080"] == .allow)
        // Only what strconv.ParseBool reads as true: istio-cni ignores any other value.
        for value in ["false", "yes", ""] {
            let captured = try Self.outcomes(Self.ambientScenario(value), probe)
            #expect(captured["plain/client>amb/gw TCP/8080"] == .denyMTLS, "\(value)")
        }
        let timeline = try ScenarioLoader.parseTimeline(
            MeshCaptureTests.scenario(Self.ambientScenario("1"), probe: probe), file: "capture.yaml")
        let cell = try #require(timeline.cells(ofProbeStep: 1).first { $0.from == ObjectKey("plain", "client") })
        #expect(cell.mesh?.bypass?.contains("is not redirected to ztunnel (ambient.istio.io/bypass-inbound-capture)") == true)
    }
}
