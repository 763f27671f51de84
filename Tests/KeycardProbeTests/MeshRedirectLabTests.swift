import Foundation
import Glibc
import KeycardCompiler
import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardProbe
import KeycardScenario
import KeycardTopology
import KeycardValues
import Testing

/// The mesh's capture in a real lab, in both placements and both Service enforcement modes: the
/// lab programs policies in the mesh layout, the Service proxy and the capture tables
/// (`LabMeshRedirect`); plain listeners stand in for the proxy on 15006 and 15001. Connections
/// land there with the original destination (SO_ORIGINAL_DST), marked sockets and UDP pass by,
/// NetworkPolicy still judges the original port on ingress and the marked upstream connection on
/// egress, and an ambient pod's capture follows its label.
@Suite(.serialized, .enabled(if: geteuid() == 0, "needs root"))
struct MeshRedirectLabTests {
    static func scenario(serviceEnforcement: ServiceEnforcement) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: mesh-redirect}
        spec:
          lab: {nodes: 2, serviceEnforcement: \(serviceEnforcement == .preDNAT ? "pre-dnat" : "post-dnat")}
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: shop, labels: {istio-injection: enabled}}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: plain}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: amb}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: shop, labels: {app: client}}, spec: {containers: [{name: c}]}}
            - apiVersion: v1
              kind: Pod
              metadata: {name: web, namespace: shop, labels: {app: web}}
              spec: {containers: [{name: c, ports: [{containerPort: 80}, {containerPort: 8080}, {containerPort: 80, protocol: UDP}]}]}
            - apiVersion: v1
              kind: Pod
              metadata: {name: other, namespace: plain, labels: {app: other}}
              spec: {containers: [{name: c, ports: [{containerPort: 80}, {containerPort: 8080}, {containerPort: 80, protocol: UDP}]}]}
            - apiVersion: v1
              kind: Pod
              metadata: {name: a, namespace: amb, labels: {app: a, istio.io/dataplane-mode: ambient}}
              spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
            - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: shop}, spec: {selector: {app: web}, ports: [{port: 80}]}}
            - apiVersion: networking.k8s.io/v1
              kind: NetworkPolicy
              metadata: {name: web-80, namespace: shop}
              spec:
                podSelector: {matchLabels: {app: web}}
                ingress: [{ports: [{port: 80}, {port: 80, protocol: UDP}]}]
            - apiVersion: networking.k8s.io/v1
              kind: NetworkPolicy
              metadata: {name: client-egress, namespace: shop}
              spec:
                podSelector: {matchLabels: {app: client}}
                policyTypes: [Egress]
                egress:
                  - {to: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 80}]}
                  - {to: [{namespaceSelector: {}, podSelector: {matchLabels: {app: other}}}], ports: [{port: 80}, {port: 80, protocol: UDP}]}
          steps:
            - label: {kind: Pod, namespace: amb, name: a, labels: {app: a}}
        """
    }

    /// A lab brought up as `keycard run` does, with the mesh layout and the capture programmed.
    final class MeshLab {
        let timeline: Timeline
        let labName: String
        let lab: LabInstance
        let server: PortServer
        let policies: LabPolicies
        let services: LabServices
        let mesh: LabMeshRedirect

        init(enforcement: Enforcement, serviceEnforcement: ServiceEnforcement) throws {
            timeline = try ScenarioLoader.parseTimeline(
                MeshRedirectLabTests.scenario(serviceEnforcement: serviceEnforcement), file: "mesh-redirect.yaml")
            labName = NinePodModel.labName("mrd")
            lab = try Lab.up(spec: LabSpec(timeline, labName: labName))
            do {
                server = try PortServer(endpoints: LabServing.endpoints(lab.plan))
            } catch {
                _ = try? Lab.down(name: labName)
                throw error
            }
            #expect(LabMeshRedirect.needsMeshLayout(timeline))
            policies = LabPolicies(
                plan: lab.plan, nodes: timeline.plan.nodes, enforcement: enforcement, fresh: true,
                serviceEnforcement: serviceEnforcement, meshLayout: LabMeshRedirect.needsMeshLayout(timeline))
            services = LabServices(plan: lab.plan, enforcement: enforcement)
            mesh = LabMeshRedirect(plan: lab.plan, fresh: true)
        }

        func tearDown() {
            server.stop()
            _ = try? Lab.down(name: labName)
        }

        func pod(_ namespace: String, _ name: String) throws -> PlannedPod {
            try #require(lab.plan.pods.first { $0.namespace == namespace && $0.name == name })
        }

        func program(_ cluster: Cluster) throws {
            try policies.program(cluster)
            try services.program(cluster)
            try mesh.program(for: cluster)
        }
    }

    static let cases: [(Enforcement, ServiceEnforcement)] = Enforcement.allCases.flatMap { enforcement in
        [ServiceEnforcement.postDNAT, .preDNAT].map { (enforcement, $0) }
    }

    @Test(arguments: cases)
    func captureKeepsTheOriginalDestinationAndPoliciesJudgeIt(_ enforcement: Enforcement, _ serviceEnforcement: ServiceEnforcement)
        throws
    {
        let lab = try MeshLab(enforcement: enforcement, serviceEnforcement: serviceEnforcement)
        defer { lab.tearDown() }
        let initial = lab.timeline.initial
        try lab.program(initial)
        let (client, web, other, ambient) = try (
            lab.pod("shop", "client"), lab.pod("shop", "web"), lab.pod("plain", "other"), lab.pod("amb", "a")
        )
        #expect(lab.mesh.capturedPods == [ObjectKey("shop", "client"), ObjectKey("shop", "web"), ObjectKey("amb", "a")])
        let clusterIP = try #require(initial.services[ObjectKey("shop", "web")]?.clusterIP)
        let any = IPv4(0)
        let loopback = IPv4(0x7F00_0001)
        let context = "\(enforcement) \(serviceEnforcement)"

        // The proxy's stand-ins: inbound on 15006 in web and a, outbound on 127.0.0.1:15001 in client.
        let webInbound = try MeshSockets.listen(in: web.netns, any, MeshDataPath.inboundPort)
        defer { close(webInbound) }
        let ambientInbound = try MeshSockets.listen(in: ambient.netns, any, MeshDataPath.inboundPort)
        defer { close(ambientInbound) }
        let clientOutbound = try MeshSockets.listen(in: client.netns, loopback, MeshDataPath.outboundPort)
        defer { close(clientOutbound) }
        let clientOutboundUDP = try MeshSockets.socket(in: client.netns, Int32(SOCK_DGRAM.rawValue))
        defer { close(clientOutboundUDP) }
        try MeshSockets.bind(clientOutboundUDP, loopback, MeshDataPath.outboundPort)

        /// Connects and expects the connection on `listener` with `original` as SO_ORIGINAL_DST.
        func expectCaptured(
            from source: PlannedPod, to address: IPv4, _ port: UInt16, on listener: Int32, original: (IPv4, UInt16), mark: UInt32? = nil,
            _ what: String
        ) throws {
            let connection = try MeshSockets.connect(from: source.netns, to: address, port, mark: mark)
            #expect(connection != nil, "\(context): \(what) should connect")
            defer { connection.map { _ = close($0) } }
            let accepted = MeshSockets.accept(listener)
            #expect(accepted != nil, "\(context): \(what) should land on the proxy")
            guard let accepted else { return }
            defer { close(accepted) }
            let destination = try MeshSocketOptions.originalDestination(of: accepted)
            #expect(destination.address == original.0 && destination.port == original.1, "\(context): \(what): \(destination)")
        }

        /// Connects and expects either the real server's line (`line`) or no connection (nil).
        func expectDirect(from source: PlannedPod, to address: IPv4, _ port: UInt16, mark: UInt32? = nil, line: String?, _ what: String)
            throws
        {
            let connection = try MeshSockets.connect(from: source.netns, to: address, port, mark: mark)
            defer { connection.map { _ = close($0) } }
            let answer = connection.flatMap(MeshSockets.firstLine)
            #expect(answer == line, "\(context): \(what): \(answer ?? "no connection")")
            for listener in [webInbound, ambientInbound, clientOutbound] {
                #expect(MeshSockets.accept(listener, milliseconds: 0) == nil, "\(context): \(what) must not be captured")
            }
        }

        // Inbound: judged on the original port (web allows only 80), then captured with it.
        try expectCaptured(from: other, to: web.address, 80, on: webInbound, original: (web.address, 80), "other -> web:80")
        try expectDirect(from: other, to: web.address, 8080, line: nil, "other -> web:8080 (ingress allows 80 only)")
        try expectCaptured(from: other, to: ambient.address, 80, on: ambientInbound, original: (ambient.address, 80), "other -> a:80")
        // UDP is never captured (R56): the pods' own servers answer.
        #expect(try MeshSockets.udpExchange(from: other.netns, to: web.address, 80) == "shop/web", "\(context): UDP other -> web:80")

        // Outbound: the application's connections land on 15001 with their destination.
        try expectCaptured(from: client, to: other.address, 80, on: clientOutbound, original: (other.address, 80), "client -> other:80")
        // The application's hop to the proxy is not judged; the proxy's upstream is (below). In
        // pod placement with pre-dnat too: a sidecar pod's unmarked packets are judged after the
        // capture (`PolicyCompiler.preDNATSidecarEgress`).
        try expectCaptured(
            from: client, to: other.address, 8080, on: clientOutbound, original: (other.address, 8080), "client -> other:8080")
        // A call to the ClusterIP reaches the proxy with the ClusterIP as its original destination
        // (pre-dnat as well: the proxy dials the backend, `MeshVerdict.sourceProxied`).
        try expectCaptured(from: client, to: clusterIP, 80, on: clientOutbound, original: (clusterIP, 80), "client -> ClusterIP:80")
        #expect(
            try MeshSockets.udpExchange(from: client.netns, to: other.address, 80) == "plain/other", "\(context): UDP client -> other:80")
        #expect(!MeshSockets.hasDatagram(clientOutboundUDP), "\(context): UDP must not reach 15001")

        // The proxy's marked upstream connections: not captured, judged by the client's egress.
        let mark = MeshDataPath.bypassMark
        try expectDirect(from: client, to: other.address, 80, mark: mark, line: "plain/other", "marked client -> other:80")
        try expectDirect(from: client, to: other.address, 8080, mark: mark, line: nil, "marked client -> other:8080 (egress denies)")
        if serviceEnforcement == .postDNAT {
            // Through the Service DNAT to web:80, allowed, then captured by web's inbound capture.
            try expectCaptured(
                from: client, to: clusterIP, 80, on: webInbound, original: (web.address, 80), mark: mark, "marked client -> ClusterIP:80")
        } else {
            // Pre-dnat: the egress policy allows pods, not the ClusterIP.
            try expectDirect(from: client, to: clusterIP, 80, mark: mark, line: nil, "marked client -> ClusterIP:80 (pre-dnat)")
        }
        // Another mark is captured like any application socket.
        try expectCaptured(from: client, to: other.address, 80, on: clientOutbound, original: (other.address, 80), mark: 0x2A, "mark 0x2a")

        // nft as witness: the capture table in web's namespace.
        let table = MeshRedirectCompiler(labName: lab.labName).tableName
        let listed = try Self.run(["ip", "netns", "exec", web.netns, "nft", "list", "table", "ip", table])
        #expect(listed.status == 0, "\(listed.error)")
        #expect(listed.output.contains("type nat hook prerouting priority dstnat; policy accept;"))
        #expect(listed.output.contains("type nat hook output priority -110; policy accept;"))
        #expect(listed.output.contains("meta l4proto tcp redirect to :15006"))
        #expect(listed.output.contains("meta mark 0x00006b63 accept"))
        #expect(listed.output.contains("meta l4proto tcp redirect to :15001"))
        let unmeshed = try Self.run(["ip", "netns", "exec", other.netns, "nft", "list", "table", "ip", table])
        #expect(unmeshed.status != 0, "a pod outside the mesh has no capture table")

        // Ambient follows the label: after the step, a is out of the mesh and its table is gone.
        let after = lab.timeline.cluster(afterStep: 1)
        #expect(after.dataPlane(of: ObjectKey("amb", "a")) == DataPlane.none)
        try lab.program(after)
        #expect(lab.mesh.capturedPods == [ObjectKey("shop", "client"), ObjectKey("shop", "web")])
        #expect(try Self.run(["ip", "netns", "exec", ambient.netns, "nft", "list", "table", "ip", table]).status != 0)
        try expectDirect(from: other, to: ambient.address, 80, line: "amb/a", "other -> a:80 after a left the mesh")
        // Removing every capture restores the plain path.
        try lab.mesh.removeAll()
        #expect(lab.mesh.capturedPods.isEmpty)
        try expectDirect(from: other, to: web.address, 80, line: "shop/web", "other -> web:80 without capture")
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}
