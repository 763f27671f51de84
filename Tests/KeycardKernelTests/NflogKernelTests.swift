import Foundation
import Glibc
import Testing

@testable import KeycardKernel
@testable import KeycardTestSupport
@testable import KeycardValues

/// Root tests against the real kernel: drop rules that log to NFLOG group 7 (loaded with `nft`, the
/// witness), listeners opened by keycard inside the namespaces, probes settled by the kernel's word.
/// Serialized: the printed times should not share 2 cores.
@Suite("Nflog: drop evidence from the kernel", .serialized, .enabled(if: getuid() == 0))
struct NflogKernelTests {
    static let client = PairWorld.clientAddress
    static let server = PairWorld.serverAddress

    struct DropCase: CustomTestStringConvertible, Sendable {
        let proto: TransportProtocol
        let port: UInt16
        let sourcePort: UInt16
        /// The logging rule's prefix, or nil when the port is accepted (nothing must be logged).
        let prefix: String?
        var testDescription: String { "\(proto)/\(port) \(prefix == nil ? "accepted" : "logged")" }
    }

    static let dropCases = [
        DropCase(proto: .tcp, port: 8080, sourcePort: 40001, prefix: "kc deny ingress t/tcp"),
        DropCase(proto: .udp, port: 5353, sourcePort: 40002, prefix: "kc deny ingress t/udp"),
        DropCase(proto: .tcp, port: 8081, sourcePort: 40003, prefix: nil),
    ]

    @Test(arguments: dropCases) func listenerReceivesTheDropWithItsFlowAndPrefix(_ testCase: DropCase) throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        try pair.world.nft(
            in: pair.server,
            """
            table inet kc-test {
              chain input { type filter hook input priority 0; policy accept;
                tcp dport 8080 log prefix "kc deny ingress t/tcp" group 7 drop
                udp dport 5353 log prefix "kc deny ingress t/udp" group 7 drop
                tcp dport 8081 log prefix "another group" group 8 accept
              }
            }
            """)
        let listener = try NflogListener(namespace: pair.server, group: 7)
        #expect(try NetworkNamespace.inode(ofSocket: listener.fd) == NetworkNamespace.inode(of: pair.server))

        let socket = try BoundTestSocket(namespace: pair.client, proto: testCase.proto, address: Self.client, port: testCase.sourcePort)
        try socket.send(to: Self.server, port: testCase.port)
        let packets = try listener.receive(timeout: .milliseconds(testCase.prefix == nil ? 300 : 2000))

        guard let prefix = testCase.prefix else {
            #expect(packets.isEmpty, "an accepted packet was logged: \(packets)")
            return
        }
        let expected = LoggedPacket(
            group: 7, prefix: prefix, hook: 1,
            flow: PacketFlow(
                source: Self.client, destination: Self.server, proto: testCase.proto == .tcp ? 6 : 17,
                sourcePort: testCase.sourcePort, destinationPort: testCase.port))
        #expect(packets.first == expected)
        #expect(packets.allSatisfy { $0 == expected }, "only this packet (or its retransmission): \(packets)")
        #expect(listener.lost == 0)
    }

    @Test func groupIsBoundOncePerNamespace() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        let first = try NflogListener(namespace: pair.server, group: 7)
        #expect(throws: KernelError.self) { try NflogListener(namespace: pair.server, group: 7) }
        // Groups are per namespace: the same number binds in another one.
        let elsewhere = try NflogListener(namespace: pair.client, group: 7)
        #expect(first.fd != elsewhere.fd)
    }

    @Test func loggedDropsSettleAtOnceAndAreNotRetried() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        let server = try PortServer(endpoints: [pair.endpoint(.tcp, 8080), pair.endpoint(.udp, 5353), pair.endpoint(.tcp, 8081)])
        defer { server.stop() }
        try pair.world.nft(
            in: pair.server,
            """
            table inet kc-test {
              chain input { type filter hook input priority 0; policy accept;
                tcp dport 8080 log prefix "kc deny ingress t/a" group 7 drop
                udp dport 5353 log prefix "kc deny ingress t/b" group 7 drop
              }
            }
            """)
        let evidence = try DropEvidence(namespaces: [pair.server, pair.server], group: 7)
        #expect(evidence.listeners.count == 1)

        let requests = [pair.request(.tcp, 8080), pair.request(.udp, 5353), pair.request(.tcp, 8081)]
        let (outcomes, ms) = try measure { try Prober().probe(requests, timeout: .seconds(2), retries: 2, evidence: evidence) }
        print("NFLOG evidence: 2 logged drops + 1 allow, timeout 2 s, 2 retries: \(String(format: "%.1f", ms)) ms")
        #expect(
            outcomes == [
                ProbeOutcome(verdict: .deny(.dropLogged("kc deny ingress t/a")), attempts: 1),
                ProbeOutcome(verdict: .deny(.dropLogged("kc deny ingress t/b")), attempts: 1),
                ProbeOutcome(verdict: .allow(line: "default/server"), attempts: 1),
            ])

        // A scan takes the same evidence: the dropped SYN is filtered, the open port open.
        let scan = try Prober().scan(
            from: pair.client, targets: [ScanTarget(address: Self.server, port: 8080), ScanTarget(address: Self.server, port: 8081)],
            timeout: .seconds(2), retries: 1, evidence: evidence)
        #expect(scan == [.filtered, .open])
    }

    /// Evidence logged before a wave (here: from a socket with the very 4-tuple the next probe will use,
    /// the client's port range being one port) must not settle that probe.
    @Test func evidenceFromBeforeTheWaveIsDiscarded() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        let server = try PortServer(endpoints: [pair.endpoint(.tcp, 8080)])
        defer { server.stop() }
        try SocketsTestWorld.run(
            "/usr/sbin/ip", ["netns", "exec", pair.client, "sysctl", "-qw", "net.ipv4.ip_local_port_range=40100 40100"])
        try pair.world.nft(
            in: pair.server,
            """
            table inet kc-test {
              chain input { type filter hook input priority 0; policy accept;
                tcp dport 8080 log prefix "stale" group 7 drop
              }
            }
            """)
        let evidence = try DropEvidence(namespaces: [pair.server], group: 7)
        do {
            let stale = try BoundTestSocket(namespace: pair.client, proto: .tcp, address: Self.client, port: 40100)
            try stale.send(to: Self.server, port: 8080)
            usleep(100_000)  // the SYN is logged and queued on the listener
        }
        try pair.world.nft(in: pair.server, "flush ruleset")

        let outcomes = try Prober().probe([pair.request(.tcp, 8080)], timeout: .seconds(1), evidence: evidence)
        #expect(outcomes.map(\.verdict) == [.allow(line: "default/server")])
    }

    /// Drops logged during the wave for the same source address, destination, protocol and port but
    /// another source port belong to another socket: the probe still waits for its own answer.
    @Test func dropOfAnotherSourcePortDoesNotSettleTheProbe() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        try pair.world.nft(
            in: pair.server,
            """
            table inet kc-test {
              chain input { type filter hook input priority 0; policy accept;
                udp sport 40200 udp dport 5354 log prefix "other socket" group 7 drop
                udp dport 5354 drop
              }
            }
            """)
        let evidence = try DropEvidence(namespaces: [pair.server], group: 7)
        let noise = try BoundTestSocket(namespace: pair.client, proto: .udp, address: Self.client, port: 40200)
        let done = DispatchSemaphore(value: 0)
        let sender = Thread {
            for _ in 0..<60 {
                try? noise.send(to: Self.server, port: 5354)
                usleep(10_000)
            }
            done.signal()
        }
        sender.start()
        usleep(30_000)
        let outcomes = try Prober().probe([pair.request(.udp, 5354)], timeout: .milliseconds(400), evidence: evidence)
        done.wait()
        #expect(outcomes.map(\.verdict) == [.deny(.timeout)])
        // The noise was really logged (this test can fail only if evidence was flowing).
        let after = try evidence.listeners[0].drain()
        #expect(after.contains { $0.prefix == "other socket" && $0.flow?.sourcePort == 40200 })
    }

    /// One namespace logs a whole 4,000-socket wave before the loop reads it (as a node namespace does):
    /// the receive buffer holds it all, nothing is lost, every probe settles on evidence.
    @Test func aFullWaveOfDropsFitsTheReceiveBuffer() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        try pair.world.nft(
            in: pair.server,
            """
            table inet kc-test {
              chain input { type filter hook input priority 0; policy accept;
                iifname "eth0" log prefix "burst" group 7 drop
              }
            }
            """)
        let evidence = try DropEvidence(namespaces: [pair.server], group: 7)
        var requests: [ProbeRequest] = []
        for index in 0..<4000 {
            let proto: TransportProtocol = index % 2 == 0 ? .tcp : .udp
            requests.append(pair.request(proto, UInt16(20000 + index / 2)))
        }
        let (outcomes, ms) = try measure { try Prober().probe(requests, timeout: .seconds(1), evidence: evidence) }
        print("NFLOG 4,000 probes dropped in one namespace, one wave: \(String(format: "%.1f", ms)) ms, lost \(evidence.lost)")
        let logged: ProbeVerdict = .deny(.dropLogged("burst"))
        #expect(outcomes.filter { $0.verdict == logged }.count == 4000)
        #expect(evidence.lost == 0)
    }

    /// Waves run at once share the listeners: whichever wave drains a namespace's log hands the other
    /// waves their drops, so with 1, 2 or 3 waves at once every drop is settled by the kernel's word
    /// at the first attempt (a lost hand-over would show as a timeout and a second attempt).
    @Test(arguments: [1, 2, 3]) func concurrentWavesShareTheEvidence(_ parallelism: Int) throws {
        let lab = try NflogPods(count: 9)
        defer { lab.world.tearDown() }
        let ports: [(TransportProtocol, UInt16)] = [(.tcp, 80), (.udp, 80)]
        let server = try PortServer(endpoints: lab.endpoints(ports))
        defer { server.stop() }
        let mesh = lab.meshRequests(ports)
        let evidence = try DropEvidence(namespaces: lab.pods, group: 7)
        try lab.dropAllIngress(logging: true)
        let outcomes = try Prober(maxInFlight: 50, parallelism: parallelism).probe(
            mesh.map(\.request), timeout: .seconds(2), retries: 1, evidence: evidence)
        for (probe, outcome) in zip(mesh, outcomes) where probe.source != probe.target {
            #expect(outcome == ProbeOutcome(verdict: .deny(.dropLogged(NflogPods.prefix(probe.target))), attempts: 1), "\(probe.request)")
        }
        for (probe, outcome) in zip(mesh, outcomes) where probe.source == probe.target {
            #expect(outcome.verdict == .allow(line: "nflog/p\(probe.target)"))
        }
    }

    /// 9 pods x 9 pods x 4 ports (TCP/UDP 80, 81), every ingress dropped: with logging the step settles
    /// without waiting for the timeout; without logging it waits a timeout per wave (printed, not asserted).
    @Test func meshOfLoggedDropsSettlesWithoutTheTimeout() throws {
        let lab = try NflogPods(count: 9)
        defer { lab.world.tearDown() }
        let ports: [(TransportProtocol, UInt16)] = [(.tcp, 80), (.tcp, 81), (.udp, 80), (.udp, 81)]
        let server = try PortServer(endpoints: lab.endpoints(ports))
        defer { server.stop() }
        let mesh = lab.meshRequests(ports)
        #expect(mesh.count == 324)
        let evidence = try DropEvidence(namespaces: lab.pods, group: 7)

        try lab.dropAllIngress(logging: true)
        let (logged, loggedMs) = try measure {
            try Prober().probe(mesh.map(\.request), timeout: .milliseconds(500), retries: 1, evidence: evidence)
        }
        print("NFLOG 324 probes, all ingress dropped with logging, timeout 500 ms, 1 retry: \(String(format: "%.1f", loggedMs)) ms")
        for (probe, outcome) in zip(mesh, logged) {
            let expected =
                probe.source == probe.target
                ? ProbeOutcome(verdict: .allow(line: "nflog/p\(probe.target)"), attempts: 1)
                : ProbeOutcome(verdict: .deny(.dropLogged(NflogPods.prefix(probe.target))), attempts: 1)
            #expect(outcome == expected, "\(probe.request)")
        }

        try lab.dropAllIngress(logging: false)
        let (silent, silentMs) = try measure {
            try Prober().probe(mesh.map(\.request), timeout: .milliseconds(500), retries: 1, evidence: evidence)
        }
        print("NFLOG 324 probes, all ingress dropped silently, timeout 500 ms, 1 retry: \(String(format: "%.1f", silentMs)) ms")
        for (probe, outcome) in zip(mesh, silent) {
            let expected =
                probe.source == probe.target
                ? ProbeOutcome(verdict: .allow(line: "nflog/p\(probe.target)"), attempts: 1)
                : ProbeOutcome(verdict: .deny(.timeout), attempts: 2)
            #expect(outcome == expected, "\(probe.request)")
        }
        #expect(evidence.lost == 0)
    }
}
