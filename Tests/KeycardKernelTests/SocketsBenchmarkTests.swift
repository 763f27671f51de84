import Foundation
import Glibc
import KeycardKernel
import KeycardTestSupport
import KeycardValues
import Testing

/// N pod namespaces routed through one router namespace (pod i: 10.77.i.2/24, gateway 10.77.i.1).
private struct RoutedPods {
    let world = SocketsTestWorld()
    let pods: [String]

    static func address(_ index: Int) -> IPv4 { IPv4(10 << 24 | 77 << 16 | UInt32(index) << 8 | 2) }

    init(count: Int) throws {
        let world = self.world
        let router = try world.namespace("router")
        let pods = try (0..<count).map { try world.namespace("pod.bench.p\($0)") }
        self.pods = pods
        var routerBatch = ""
        for (index, pod) in pods.enumerated() {
            routerBatch += "link add r\(index) type veth peer name eth0 netns \(pod)\n"
            routerBatch += "addr add 10.77.\(index).1/24 dev r\(index)\nlink set r\(index) up\n"
        }
        try SocketsTestWorld.ip(["-n", router, "-b", "-"], stdin: routerBatch)
        for (index, pod) in pods.enumerated() {
            try SocketsTestWorld.ip(
                ["-n", pod, "-b", "-"],
                stdin: """
                    addr add \(Self.address(index))/24 dev eth0
                    link set eth0 up
                    route add default via 10.77.\(index).1

                    """)
        }
        try SocketsTestWorld.run("/usr/sbin/ip", ["netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
    }

    func endpoints(_ ports: [(TransportProtocol, UInt16)]) -> [ServedEndpoint] {
        pods.enumerated().flatMap { index, pod in
            ports.map { ServedEndpoint(namespace: pod, address: Self.address(index), proto: $0.0, port: $0.1, line: "bench/p\(index)") }
        }
    }

    /// Every pod to every pod (itself included) on every port.
    func meshRequests(_ ports: [(TransportProtocol, UInt16)]) -> [ProbeRequest] {
        pods.flatMap { source in
            pods.indices.flatMap { target in
                ports.map { ProbeRequest(sourceNamespace: source, destination: Self.address(target), proto: $0.0, port: $0.1) }
            }
        }
    }
}

private func count(_ outcomes: [ProbeOutcome], _ match: (ProbeVerdict) -> Bool) -> Int {
    outcomes.filter { match($0.verdict) }.count
}

/// Figures, not pass/fail on time: run with KEYCARD_BENCH=1 (root).
@Suite(
    "Sockets: benchmark figures", .serialized,
    .enabled(if: getuid() == 0 && ProcessInfo.processInfo.environment["KEYCARD_BENCH"] != nil))
struct SocketsBenchmarkTests {
    @Test func nineByNineByFourPorts() throws {
        let lab = try RoutedPods(count: 9)
        defer { lab.world.tearDown() }
        let ports: [(TransportProtocol, UInt16)] = [(.tcp, 80), (.tcp, 443), (.udp, 53), (.tcp, 8080)]
        let (server, serverMs) = try measure { try PortServer(endpoints: lab.endpoints(ports)) }
        defer { server.stop() }
        let requests = lab.meshRequests(ports)
        #expect(requests.count == 324)

        for run in 1...3 {
            let (outcomes, ms) = try measure { try Prober().probe(requests, timeout: .seconds(1)) }
            print("BENCH 324 probes (9x9x4) all-allow, run \(run): \(String(format: "%.1f", ms)) ms")
            #expect(count(outcomes) { if case .allow = $0 { true } else { false } } == 324)
        }
        print("BENCH PortServer for 36 endpoints in 9 namespaces: \(String(format: "%.1f", serverMs)) ms")

        for pod in lab.pods {
            try lab.world.nft(in: pod, "table inet kc-bench { chain input { type filter hook input priority 0; policy drop; }; }")
        }
        for timeout in [Duration.milliseconds(500), .seconds(1)] {
            let (outcomes, ms) = try measure { try Prober().probe(requests, timeout: timeout) }
            print("BENCH 324 probes (9x9x4) all-deny, timeout \(timeout): \(String(format: "%.1f", ms)) ms")
            #expect(count(outcomes) { $0 == .deny(.timeout) } == 324)
        }
    }

    @Test func fiftyByFiftyByTwoPorts() throws {
        let (lab, setupMs) = try measure { try RoutedPods(count: 50) }
        defer { lab.world.tearDown() }
        let ports: [(TransportProtocol, UInt16)] = [(.tcp, 80), (.udp, 53)]
        let server = try PortServer(endpoints: lab.endpoints(ports))
        defer { server.stop() }
        let requests = lab.meshRequests(ports)
        #expect(requests.count == 5000)
        print("BENCH test world of 50 pods + router via ip: \(String(format: "%.0f", setupMs)) ms")

        for (label, prober) in [
            ("maxInFlight 4000", Prober()), ("maxInFlight 5000", Prober(maxInFlight: 5000)),
            ("maxInFlight 1000", Prober(maxInFlight: 1000)),
        ] {
            let (outcomes, ms) = try measure { try prober.probe(requests, timeout: .seconds(2)) }
            let allowed = count(outcomes) { if case .allow = $0 { true } else { false } }
            print(
                "BENCH 5,000 probes (50x50x2) \(label): \(String(format: "%.1f", ms)) ms = \(Int(5000 / (ms / 1000))) probes/s, allowed \(allowed)"
            )
            #expect(allowed == 5000)
        }
    }
}
