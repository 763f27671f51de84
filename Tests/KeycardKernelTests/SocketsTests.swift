import Foundation
import Glibc
import KeycardKernel
import KeycardTestSupport
import KeycardValues
import Testing

/// Root tests on the real kernel: a PortServer in one throwaway namespace, probes from another.
@Suite("Sockets: servers and basic probes", .enabled(if: getuid() == 0))
struct SocketsTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let proto: TransportProtocol
        let port: UInt16
        let expected: ProbeVerdict
        var testDescription: String { name }
    }

    /// The server serves tcp/8080, udp/5353 and (unsupported here) sctp/9000.
    static let cases: [Case] = [
        Case(name: "TCP to a served port reads the line", proto: .tcp, port: 8080, expected: .allow(line: "default/server")),
        Case(name: "TCP to an unserved port is closed (RST)", proto: .tcp, port: 8081, expected: .closed),
        Case(name: "UDP to a served port gets the echo", proto: .udp, port: 5353, expected: .allow(line: "default/server")),
        Case(name: "UDP to an unserved port is closed (ICMP port unreachable)", proto: .udp, port: 5354, expected: .closed),
        Case(name: "SCTP is skipped", proto: .sctp, port: 9000, expected: .skipped("kernel has no SCTP")),
    ]

    @Test(arguments: cases)
    func probeVerdict(_ testCase: Case) throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        let server = try PortServer(endpoints: [
            pair.endpoint(.tcp, 8080), pair.endpoint(.udp, 5353), pair.endpoint(.sctp, 9000),
        ])
        defer { server.stop() }

        // Answers end a probe at once; the deadline only bounds a lost one, so a suite running
        // beside CPU-heavy tests (the mesh's 10,000 handshakes) gets room.
        let outcomes = try Prober().probe([pair.request(testCase.proto, testCase.port)], timeout: .seconds(3))

        #expect(outcomes.map(\.verdict) == [testCase.expected])
        #expect(outcomes.first?.attempts == (testCase.proto == .sctp ? 0 : 1))
    }

    @Test func sctpEndpointsAreRecordedAsUnsupported() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        let server = try PortServer(endpoints: [pair.endpoint(.tcp, 80), pair.endpoint(.sctp, 9000), pair.endpoint(.tcp, 80)])
        defer { server.stop() }

        #expect(server.serving == [pair.endpoint(.tcp, 80)])  // the duplicate is served once
        #expect(server.unsupported == [pair.endpoint(.sctp, 9000)])
    }

    @Test func listenersLiveInTheServerNamespaceOnly() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        let server = try PortServer(endpoints: [pair.endpoint(.tcp, 8080), pair.endpoint(.udp, 5353)])
        defer { server.stop() }

        // Witness: `ss` inside each namespace.
        let inServer = try SocketsTestWorld.run("/usr/sbin/ip", ["netns", "exec", pair.server, "ss", "-ltun"])
        let inClient = try SocketsTestWorld.run("/usr/sbin/ip", ["netns", "exec", pair.client, "ss", "-ltun"])
        #expect(inServer.contains("10.201.0.2:8080"))
        #expect(inServer.contains("10.201.0.2:5353"))
        #expect(!inClient.contains(":8080"))
    }

    @Test func backlogAboveSomaxconnRaisesItInsideTheNamespaceOnly() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        let hostBefore = try String(contentsOfFile: "/proc/sys/net/core/somaxconn", encoding: .utf8)
        let server = try PortServer(endpoints: [pair.endpoint(.tcp, 8080)], backlog: 8192)
        defer { server.stop() }

        let inServer = try SocketsTestWorld.run("/usr/sbin/ip", ["netns", "exec", pair.server, "cat", "/proc/sys/net/core/somaxconn"])
        let hostAfter = try String(contentsOfFile: "/proc/sys/net/core/somaxconn", encoding: .utf8)
        #expect(inServer.trimmingCharacters(in: .whitespacesAndNewlines) == "8192")
        #expect(hostAfter == hostBefore)
    }

    @Test func stoppedServerNoLongerAnswers() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        let server = try PortServer(endpoints: [pair.endpoint(.tcp, 8080)])
        let before = try Prober().probe([pair.request(.tcp, 8080)], timeout: .seconds(3))
        server.stop()
        server.stop()  // idempotent
        let after = try Prober().probe([pair.request(.tcp, 8080)], timeout: .seconds(3))

        #expect(before.map(\.verdict) == [.allow(line: "default/server")])
        #expect(after.map(\.verdict) == [.closed])
    }

    @Test func bindingAnAddressTheNamespaceLacksFailsWithTheEndpointNamed() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        let wrong = ServedEndpoint(namespace: pair.server, address: "10.9.9.9", proto: .tcp, port: 80, line: "x/y")

        #expect(throws: KernelError.self) { try PortServer(endpoints: [pair.endpoint(.tcp, 81), wrong]) }
        // The first listener was closed again: the port can be bound anew.
        let again = try PortServer(endpoints: [pair.endpoint(.tcp, 81)])
        again.stop()
    }

    @Test func thousandsOfEndpointsAreServedAndProbed() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        let ports = (0..<1500).map { UInt16(40000 + $0) }
        let protos: [TransportProtocol] = [.tcp, .udp]
        let server = try PortServer(endpoints: ports.flatMap { port in protos.map { pair.endpoint($0, port, line: "default/\(port)") } })
        defer { server.stop() }

        let requests = ports.flatMap { port in protos.map { pair.request($0, port) } }
        let (outcomes, ms) = try measure { try Prober().probe(requests, timeout: .seconds(2)) }
        print("3,000 endpoints served, 3,000 probes: \(Int(ms)) ms")
        #expect(server.serving.count == 3000)
        #expect(outcomes.map(\.verdict) == requests.map { .allow(line: "default/\($0.port)") })
    }

    @Test func openFileLimitIsRaisedToTheHardLimit() throws {
        let soft = try raiseOpenFileLimit()
        var limit = rlimit()
        try #require(getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0)
        #expect(soft == UInt64(limit.rlim_max))
        #expect(limit.rlim_cur == limit.rlim_max)
    }

    @Test func anyAddressServesEveryAddressOfThePod() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        let any = ServedEndpoint(namespace: pair.server, address: "0.0.0.0", proto: .tcp, port: 7000, line: "default/any")
        let server = try PortServer(endpoints: [any])
        defer { server.stop() }

        // An answer ends the probe at once; 3 s only keeps a loaded machine from turning it into a
        // timeout (seen at 500 ms with two test runs side by side).
        let outcomes = try Prober().probe([pair.request(.tcp, 7000)], timeout: .seconds(3))
        #expect(outcomes.map(\.verdict) == [.allow(line: "default/any")])
    }
}

@Suite("Sockets: the namespace guard", .enabled(if: getuid() == 0))
struct SocketNamespaceGuardTests {
    /// A socket made (never connected) in the host namespace must be refused for a lab namespace.
    @Test func refusesASocketOfTheHostNamespace() throws {
        let world = SocketsTestWorld()
        defer { world.tearDown() }
        let lab = try world.namespace("pod.default.a")
        let labInode = try #require(NetworkNamespace.inode(of: lab))
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }

        #expect(throws: KernelError.self) { try SocketNamespaceGuard.check(socket: fd, expectedInode: labInode) }
    }

    @Test func acceptsASocketOfItsLabNamespaceAndRefusesAnotherLabNamespace() throws {
        let world = SocketsTestWorld()
        defer { world.tearDown() }
        let a = try world.namespace("pod.default.a")
        let b = try world.namespace("pod.default.b")
        let aInode = try #require(NetworkNamespace.inode(of: a))
        let bInode = try #require(NetworkNamespace.inode(of: b))
        let fd = try NetworkNamespace.perform(in: a) { socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0) }
        try #require(fd >= 0)
        defer { close(fd) }

        try SocketNamespaceGuard.check(socket: fd, expectedInode: aInode)
        #expect(throws: KernelError.self) { try SocketNamespaceGuard.check(socket: fd, expectedInode: bInode) }
    }

    /// Even a socket in the namespace it was meant for is refused when that namespace is the host's.
    @Test func refusesWhenTheExpectedNamespaceIsTheHost() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        let here = NetworkNamespace.currentInode()

        #expect(SocketNamespaceGuard.hostInodes().contains(here))
        #expect(throws: KernelError.self) { try SocketNamespaceGuard.check(socket: fd, expectedInode: here) }
        #expect(throws: KernelError.self) { try SocketNamespaceGuard.check(socket: fd, expectedInode: here, forbiddenInodes: []) }
    }

    @Test func probingFromAMissingNamespaceThrowsInsteadOfProbingFromHere() throws {
        let request = ProbeRequest(
            sourceNamespace: "kc-nope\(UInt32.random(in: 0...UInt32.max)).x", destination: "10.201.0.2", proto: .tcp, port: 80)
        #expect(throws: KernelError.self) { try Prober().probe([request], timeout: .milliseconds(100)) }
    }
}

/// `KEYCARD_PROBE_THREADS` is capped: 100,000 threads had failed `pthread_create` and crashed.
@Suite("Sockets: the probe thread setting")
struct ProbeThreadSettingTests {
    @Test func anAbsurdThreadCountIsCapped() {
        let previous = getenv("KEYCARD_PROBE_THREADS").map { String(cString: $0) }
        defer {
            if let previous { setenv("KEYCARD_PROBE_THREADS", previous, 1) } else { unsetenv("KEYCARD_PROBE_THREADS") }
        }
        setenv("KEYCARD_PROBE_THREADS", "100000", 1)
        #expect(Prober().parallelism == Prober.maximumThreads)
        setenv("KEYCARD_PROBE_THREADS", "0", 1)
        #expect(Prober().parallelism == 1)
        #expect(Prober(parallelism: 3).parallelism == 3)
    }
}
