import Foundation
import KeycardKernel
import KeycardRuleset
import Testing

/// The Service proxy's DNAT, for real: a client namespace holding the kube-proxy-layout nat table
/// (programmed through libnftnl), a server namespace with two backend addresses joined by a veth.
/// A TCP connection to the ClusterIP reaches the backend the source port's Jenkins hash picks
/// (computed in user space by `ServiceHash`), a filter after the nat sees the backend address and
/// target port, and `nft` lists what was programmed.
@Suite(.serialized, .enabled(if: NftTestSupport.isRoot, "needs root and a kernel with nftables"))
struct ServiceDNATKernelTests {
    static let clusterIP = NftFixtures.ip(10, 96, 0, 11)
    static let client = NftFixtures.ip(10, 199, 0, 1)
    static let backends = [NftFixtures.ip(10, 199, 0, 2), NftFixtures.ip(10, 199, 0, 3)]
    static let targetPort: UInt16 = 8080

    /// The table `ServiceProxyCompiler` emits for one Service port with two endpoints (pod placement).
    static func proxy(table name: String) -> Table {
        let service = "service-ns/web/tcp/http"
        let endpoints = backends.map { "endpoint-ns/web/tcp/http__\(IPv4Text($0))/\(targetPort)" }
        return Table(
            name: name,
            sets: [
                NamedSet(
                    name: "service-ips", key: [.ipv4Address, .inetProto, .inetService],
                    elements: [.mapping([.ipv4(clusterIP), .proto(6), .port(80)], .goto(service))], data: .verdict)
            ],
            chains: [
                Chain(
                    name: "nat-output", base: BaseChain(type: .nat, hook: .output, priority: -100),
                    rules: [Rule(verdict: .vmap([.daddr, .l4proto, .dport], map: "service-ips"), comment: "services")]),
                Chain(
                    name: service,
                    rules: endpoints.indices.map { index in
                        Rule([.sportHash(modulus: 2, seed: ServiceHash.seed, value: UInt32(index))], verdict: .goto(endpoints[index]))
                    }),
            ]
                + zip(endpoints, backends).map { chain, address in
                    Chain(name: chain, rules: [Rule(verdict: .dnat(address: address, port: targetPort), comment: "ns/web -> backend")])
                })
    }

    /// A filter at priority 0 (after the nat at -100) that drops connections to backend 2's target port.
    static func filter(table name: String) -> Table {
        Table(
            name: name,
            chains: [
                Chain(
                    name: "egress", base: BaseChain(hook: .output),
                    rules: [
                        Rule(
                            [.daddr(prefix: backends[1], length: 32), .l4proto(6), .dport(targetPort)], counter: true, verdict: .drop,
                            comment: "deny backend 2")
                    ])
            ])
    }

    /// A veth from the client namespace (10.199.0.1, default route through it) to the backends'
    /// namespace (10.199.0.2 and .3), built with `ip` as the witness tool.
    static func link(client a: String, backends b: String) throws {
        for command in [
            ["ip", "-n", a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b],
            ["ip", "-n", a, "addr", "add", "10.199.0.1/24", "dev", "va"],
            ["ip", "-n", b, "addr", "add", "10.199.0.2/24", "dev", "vb"],
            ["ip", "-n", b, "addr", "add", "10.199.0.3/24", "dev", "vb"],
            ["ip", "-n", a, "link", "set", "va", "up"], ["ip", "-n", b, "link", "set", "vb", "up"],
            ["ip", "-n", a, "route", "add", "default", "dev", "va"],
        ] {
            let result = try NftTestSupport.run(command)
            try #require(result.status == 0, "\(command): \(result.error)")
        }
    }

    @Test func clusterIPReachesTheHashedBackendAndPoliciesSeeTheBackend() throws {
        try NftTestSupport.withNamespaces(2) { names in
            let (a, b) = (names[0], names[1])
            try Self.link(client: a, backends: b)
            let listeners = try Self.backends.map { try TCPListener(namespace: b, address: $0, port: Self.targetPort) }
            let programmer = try NftablesProgrammer(namespace: a)
            let lab = a.split(separator: ".").first.map(String.init) ?? "kc-x"
            let proxy = Self.proxy(table: "\(lab)-svc")
            try programmer.apply(old: nil, new: proxy)

            // Each backend, aimed at by a source port the hash sends to it.
            var used: Set<UInt16> = []
            for index in 0..<2 {
                let port = try #require(ServiceHash.sourcePort(landingOn: index, of: 2, in: 40000...50000, skipping: used))
                used.insert(port)
                #expect(try TCPListener.connect(namespace: a, from: Self.client, port: port, to: Self.clusterIP, 80))
                let reached = listeners.map { $0.acceptPending() }
                #expect(reached == [index == 0, index == 1], "source port \(port) should land on backend \(index)")
            }

            // The filter after the translation sees the backend and its target port.
            let filterProgrammer = try NftablesProgrammer(namespace: a)
            try filterProgrammer.apply(old: nil, new: Self.filter(table: "\(lab)-filter"))
            for index in 0..<2 {
                let port = try #require(ServiceHash.sourcePort(landingOn: index, of: 2, in: 50001...60000, skipping: used))
                used.insert(port)
                let connected = try TCPListener.connect(namespace: a, from: Self.client, port: port, to: Self.clusterIP, 80)
                #expect(connected == (index == 0), "backend \(index) behind the ClusterIP, filter on backend 2")
                _ = listeners.map { $0.acceptPending() }
            }

            // nft, as an independent witness, lists the map, the hash and the dnat.
            let listed = try NftTestSupport.run(["ip", "netns", "exec", a, "nft", "list", "table", "inet", proxy.name])
            #expect(listed.status == 0, "\(listed.error)")
            #expect(listed.output.contains("type ipv4_addr . inet_proto . inet_service : verdict"))
            #expect(listed.output.contains("10.96.0.11 . tcp . 80 : goto service-ns/web/tcp/http"))
            #expect(listed.output.contains("jhash th sport mod 2 seed 0x6b63 1 goto endpoint-ns/web/tcp/http__10.199.0.3/8080"))
            #expect(listed.output.contains("dnat ip to 10.199.0.2:8080"))
            #expect(listed.output.contains("type nat hook output priority -100"))
        }
    }

    /// The user-space hash agrees with the kernel over many source ports (not only the two aimed at).
    @Test func userSpaceHashAgreesWithTheKernel() throws {
        try NftTestSupport.withNamespaces(2) { names in
            let (a, b) = (names[0], names[1])
            try Self.link(client: a, backends: b)
            let listeners = try Self.backends.map { try TCPListener(namespace: b, address: $0, port: Self.targetPort) }
            let lab = a.split(separator: ".").first.map(String.init) ?? "kc-x"
            try NftablesProgrammer(namespace: a).apply(old: nil, new: Self.proxy(table: "\(lab)-svc"))
            for port in UInt16(30000)..<30040 {
                #expect(try TCPListener.connect(namespace: a, from: Self.client, port: port, to: Self.clusterIP, 80))
                let expected = ServiceHash.endpointIndex(sourcePort: port, count: 2)
                #expect(listeners.map { $0.acceptPending() } == [expected == 0, expected == 1], "source port \(port)")
            }
        }
    }
}

private func IPv4Text(_ address: UInt32) -> String {
    "\(address >> 24).\((address >> 16) & 0xff).\((address >> 8) & 0xff).\(address & 0xff)"
}

/// A non-blocking TCP listener created inside a lab namespace.
final class TCPListener {
    let fd: Int32

    init(namespace: String, address: UInt32, port: UInt16) throws {
        fd = try NetworkNamespace.perform(in: namespace) { socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0) }
        guard fd >= 0 else { throw WitnessError("socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var local = UDPEndpoint.address(address, port)
        let rc = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0, listen(fd, 64) == 0 else { throw WitnessError("bind/listen: errno \(errno)") }
    }

    deinit { close(fd) }

    /// Accepts (and closes) one pending connection; false when none is pending.
    func acceptPending() -> Bool {
        let connection = accept(fd, nil, nil)
        guard connection >= 0 else { return false }
        close(connection)
        return true
    }

    /// A blocking connect from `source:port` inside `namespace` with a 1 s timeout; true when it connected.
    static func connect(namespace: String, from source: UInt32, port: UInt16, to address: UInt32, _ destinationPort: UInt16) throws -> Bool
    {
        let fd = try NetworkNamespace.perform(in: namespace) { socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0) }
        guard fd >= 0 else { throw WitnessError("socket: errno \(errno)") }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var local = UDPEndpoint.address(source, port)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw WitnessError("bind source port \(port): errno \(errno)") }
        var remote = UDPEndpoint.address(address, destinationPort)
        let rc = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return rc == 0
    }
}
