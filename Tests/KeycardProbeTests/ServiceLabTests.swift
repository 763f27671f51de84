import Foundation
import KeycardKernel
import KeycardModel
import KeycardProbe
import KeycardRuleset
import KeycardScenario
import KeycardTopology
import KeycardValues
import Testing

/// Services in a real lab, both placements: `keycard run` programs the proxy table next to the
/// policies, backends serve their Services' target ports (declared or not), and a connection from a
/// pod to the ClusterIP, from a source port aimed with `ServiceHash`, reaches the backend that
/// port picks — confirmed by the line that backend's server writes (its pod's name) — unless the
/// client's egress policy denies that backend.
@Suite(.serialized, .enabled(if: geteuid() == 0, "needs root"))
struct ServiceLabTests {
    static func scenario(name: String, serviceEnforcement: String = "post-dnat") -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: \(name)}
        spec:
          lab: {nodes: 2, serviceEnforcement: \(serviceEnforcement)}
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: shop, labels: {app: client}}, spec: {containers: [{name: c}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web-1, namespace: shop, labels: {app: web, v: "1"}}, spec: {containers: [{name: c, ports: [{containerPort: 8080, name: http}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web-2, namespace: shop, labels: {app: web, v: "2"}}, spec: {containers: [{name: c, ports: [{containerPort: 8080, name: http}]}]}}
            - apiVersion: v1
              kind: Service
              metadata: {name: web, namespace: shop}
              spec:
                selector: {app: web}
                ports: [{name: http, port: 80, targetPort: http}, {name: admin, port: 9000, targetPort: 9090}]
            - apiVersion: networking.k8s.io/v1
              kind: NetworkPolicy
              metadata: {name: client-egress, namespace: shop}
              spec:
                podSelector: {matchLabels: {app: client}}
                policyTypes: [Egress]
                egress: [{to: [{podSelector: {matchLabels: {v: "1"}}}]}]
          steps:
            - probe: {from: [shop/client]}
        """
    }

    @Test(arguments: Enforcement.allCases)
    func clusterIPReachesEachBackendThroughTheLab(_ enforcement: Enforcement) throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario(name: "svc"), file: "svc.yaml")
        let run = ScenarioRun(
            timeline: timeline, options: .init(enforcement: enforcement, keep: true, labName: NinePodModel.labName("svc")))
        defer { run.tearDown() }
        let report = try run.execute()
        #expect(report.passed)
        let plan = try #require(run.lab?.plan)
        let client = try #require(plan.pods.first { $0.name == "client" })
        // web-2 serves 9090 though it declares only 8080: a Service sends it there.
        let web2 = try #require(plan.pods.first { $0.name == "web-2" })
        #expect(web2.ports.contains(ServedPort(.tcp, 9090)))

        let clusterIP = try #require(timeline.initial.services[ObjectKey("shop", "web")]?.clusterIP)
        var used: Set<UInt16> = []
        for (servicePort, target) in [(UInt16(80), "http"), (UInt16(9000), "admin")] {
            for index in 0..<2 {
                let port = try #require(ServiceHash.sourcePort(landingOn: index, of: 2, in: 41000...49000, skipping: used))
                used.insert(port)
                let line = try Self.firstLine(namespace: client.netns, from: client.address, port: port, to: clusterIP, servicePort)
                // Backends in pod order: index 0 is web-1 (allowed), index 1 web-2 (denied by egress).
                #expect(line == (index == 0 ? "shop/web-1" : nil), "\(enforcement) \(target) backend \(index): \(line ?? "blocked")")
            }
        }
    }

    /// pre-dnat: the client's egress filter sees the ClusterIP, which its policy (allowing pods
    /// labelled v=1) does not allow, so no backend is reached through it, though web-1 is reached by
    /// its pod address (the run's pod-IP probe step agrees with the model).
    @Test(arguments: Enforcement.allCases)
    func preDNATBreaksTheClusterIPPath(_ enforcement: Enforcement) throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario(name: "svc", serviceEnforcement: "pre-dnat"), file: "svc.yaml")
        let run = ScenarioRun(
            timeline: timeline, options: .init(enforcement: enforcement, keep: true, labName: NinePodModel.labName("pre")))
        defer { run.tearDown() }
        #expect(try run.execute().passed)
        let plan = try #require(run.lab?.plan)
        let client = try #require(plan.pods.first { $0.name == "client" })
        let web1 = try #require(plan.pods.first { $0.name == "web-1" })
        let clusterIP = try #require(timeline.initial.services[ObjectKey("shop", "web")]?.clusterIP)
        for index in 0..<2 {
            let port = try #require(ServiceHash.sourcePort(landingOn: index, of: 2, in: 42000...49000))
            #expect(try Self.firstLine(namespace: client.netns, from: client.address, port: port, to: clusterIP, 80) == nil)
        }
        #expect(try Self.firstLine(namespace: client.netns, from: client.address, port: 43999, to: web1.address, 8080) == "shop/web-1")
    }

    /// Connects from `source:port` inside `namespace` and returns the first line the server sends,
    /// or nil when the connection does not open within a second.
    static func firstLine(namespace: String, from source: IPv4, port: UInt16, to address: IPv4, _ destinationPort: UInt16) throws
        -> String?
    {
        let fd = try NetworkNamespace.perform(in: namespace) { socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0) }
        guard fd >= 0 else { throw ServiceLabError("socket: errno \(errno)") }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        func sockaddr(_ ip: IPv4, _ port: UInt16) -> sockaddr_in {
            var value = sockaddr_in()
            value.sin_family = sa_family_t(AF_INET)
            value.sin_port = port.bigEndian
            value.sin_addr.s_addr = ip.value.bigEndian
            return value
        }
        var local = sockaddr(source, port)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw ServiceLabError("bind \(port): errno \(errno)") }
        var remote = sockaddr(address, destinationPort)
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n").first.map(String.init)
    }
}

struct ServiceLabError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
