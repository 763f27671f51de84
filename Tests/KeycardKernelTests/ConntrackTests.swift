import Foundation
import Glibc
import KeycardKernel
import KeycardTestSupport
import KeycardValues
import Testing

/// `Conntrack.flush` empties the tracking table of one lab namespace, and of no other.
@Suite("Conntrack flush")
struct ConntrackTests {
    static func shell(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Makes the namespace track connections (a ct rule) and opens one UDP flow on its loopback.
    static func track(_ namespace: String) throws {
        _ = try shell(["ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up"])
        _ = try shell([
            "ip", "netns", "exec", namespace, "nft",
            "add table inet kcct; add chain inet kcct c { type filter hook output priority 0; }; add rule inet kcct c ct state new accept",
        ])
        _ = try shell([
            "ip", "netns", "exec", namespace, "python3", "-c",
            "import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.sendto(b'x',('127.0.0.1',9999))",
        ])
    }

    static func count(_ namespace: String) throws -> Int {
        Int(try shell(["ip", "netns", "exec", namespace, "cat", "/proc/sys/net/netfilter/nf_conntrack_count"])) ?? -1
    }

    @Test func flushForgetsTrackedFlowsOfThatNamespaceOnly() throws {
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let (first, second) = ("kc-ct\(suffix).a", "kc-ct\(suffix).b")
        try NetworkNamespace.create(first)
        defer { try? NetworkNamespace.delete(first) }
        try NetworkNamespace.create(second)
        defer { try? NetworkNamespace.delete(second) }
        try Self.track(first)
        try Self.track(second)
        #expect(try Self.count(first) >= 1)
        #expect(try Self.count(second) >= 1)
        do {
            let flusher = ConntrackFlusher()
            try flusher.flush(namespace: first)
            #expect(try Self.count(first) == 0)
            #expect(try Self.count(second) >= 1)
            // An empty table is not an error, and the flusher's socket serves again.
            try Self.track(first)
            try flusher.flush(namespace: first)
            #expect(try Self.count(first) == 0)
            try flusher.flush(namespace: first)
        }
    }
}

/// `ConntrackListener` reads the connections conntrack confirms in its own namespace only.
@Suite("Conntrack events")
struct ConntrackEventTests {
    @Test func aListenerReadsNewConnectionsOfItsNamespaceOnly() throws {
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let (watched, other) = ("kc-ce\(suffix).a", "kc-ce\(suffix).b")
        try NetworkNamespace.create(watched)
        defer { try? NetworkNamespace.delete(watched) }
        try NetworkNamespace.create(other)
        defer { try? NetworkNamespace.delete(other) }
        let listener = try ConntrackListener(namespace: watched)
        try ConntrackTests.track(other)
        try ConntrackTests.track(watched)
        var seen: [TrackedConnection] = []
        for _ in 0..<100 where seen.isEmpty {
            seen += try listener.drain()
            usleep(20_000)
        }
        let udp = seen.filter { $0.original.proto == 17 && $0.original.destinationPort == 9999 }
        #expect(udp.count == 1, "\(seen)")
        #expect(udp.first?.original.destination == IPv4(127 << 24 | 1))
        #expect(udp.first?.reply?.source == IPv4(127 << 24 | 1))
        #expect(udp.first?.delivered == udp.first?.original)
        #expect(listener.lost == 0)
    }

    /// An ICMP tuple has no ports: its echo identifier (CTA_PROTO_ICMP_ID of a type-8 tuple) is
    /// read, so an echo request is a connection of its own.
    @Test func anEchoRequestIsReadWithItsIdentifier() throws {
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let watched = "kc-ce\(suffix).icmp"
        try NetworkNamespace.create(watched)
        defer { try? NetworkNamespace.delete(watched) }
        let listener = try ConntrackListener(namespace: watched)
        _ = try ConntrackTests.shell(["ip", "netns", "exec", watched, "ip", "link", "set", "lo", "up"])
        _ = try ConntrackTests.shell([
            "ip", "netns", "exec", watched, "nft",
            "add table inet kcct; add chain inet kcct c { type filter hook output priority 0; }; add rule inet kcct c ct state new accept",
        ])
        // An echo request with identifier 0x4b43 over a raw socket (root).
        let sender = """
            import socket, struct
            p = struct.pack('!BBHHH', 8, 0, 0, 0x4b43, 1) + b'kc'
            s = sum(struct.unpack('!5H', p)); s = (s >> 16) + (s & 0xffff); s += s >> 16
            p = p[:2] + struct.pack('!H', ~s & 0xffff) + p[4:]
            socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).sendto(p, ('127.0.0.1', 0))
            """
        _ = try ConntrackTests.shell(["ip", "netns", "exec", watched, "python3", "-c", sender])
        var seen: [TrackedConnection] = []
        for _ in 0..<100 where seen.isEmpty {
            seen += try listener.drain()
            usleep(20_000)
        }
        let echo = seen.filter { $0.original.proto == 1 }
        #expect(echo.count == 1, "\(seen)")
        #expect(echo.first?.original.echoIdentifier == 0x4B43)
        #expect(echo.first?.original.sourcePort == nil && echo.first?.original.destinationPort == nil)
        #expect(echo.first?.delivered.destination == IPv4(127 << 24 | 1))
        // The reply tuple (type 0) names no echo request.
        #expect(echo.first?.reply?.echoIdentifier == nil)
    }

    @Test func aDatagramOfCutMessagesIsRefusedNotGuessed() {
        // A netlink header announcing 64 bytes in a 20-byte datagram.
        var datagram = [UInt8](repeating: 0, count: 20)
        datagram[0] = 64
        #expect(ConntrackEvents.newConnections(in: datagram) == nil)
        #expect(ConntrackEvents.newConnections(in: []) == [])
    }
}

/// `ConntrackLookup` finds the client's original tuple of a redirected connection, also when the
/// kernel moved its source port (a reused port whose earlier connection's entry still lingers).
@Suite("Conntrack lookup")
struct ConntrackLookupTests {
    /// A TCP socket in the calling thread's namespace, with SO_REUSEADDR, bound to `port`.
    static func bound(_ port: UInt16) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return fd
    }

    static func connect(_ fd: Int32, to address: IPv4, port: UInt16) -> Int32 {
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = port.bigEndian
        remote.sin_addr = in_addr(s_addr: address.value.bigEndian)
        return withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    /// The local or peer address of `fd`.
    static func name(_ fd: Int32, peer: Bool) -> (IPv4, UInt16) {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { peer ? getpeername(fd, $0, &length) : getsockname(fd, $0, &length) }
        }
        return (IPv4(UInt32(bigEndian: address.sin_addr.s_addr)), UInt16(bigEndian: address.sin_port))
    }

    @Test func aRedirectedConnectionsOriginalSourcePortIsFoundWhenTheKernelMovedIt() throws {
        let namespace = "kc-cl\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
        try NetworkNamespace.create(namespace)
        defer { try? NetworkNamespace.delete(namespace) }
        for command in [
            "ip link set lo up", "ip link add kcl0 type veth peer name kcl1", "ip addr add 10.99.0.1/24 dev kcl0",
            "ip link set kcl0 up", "ip link set kcl1 up",
        ] {
            _ = try ConntrackTests.shell(["ip", "netns", "exec", namespace] + command.split(separator: " ").map(String.init))
        }
        // The mesh capture's outbound shape: every TCP connection to the listener on 15001.
        _ = try ConntrackTests.shell([
            "ip", "netns", "exec", namespace, "nft",
            "add table ip kccl; add chain ip kccl out { type nat hook output priority -110; }; add rule ip kccl out tcp dport != 15001 redirect to :15001",
        ])
        let lookup = try ConntrackLookup(namespace: namespace)
        let destination: IPv4 = "10.99.0.2"
        let listener = try NetworkNamespace.perform(in: namespace) { () -> Int32 in
            let fd = Self.bound(15001)
            listen(fd, 8)
            return fd
        }
        defer { close(listener) }
        var peerPorts: [UInt16] = []
        for port: UInt16 in [80, 8080] {
            let client = try NetworkNamespace.perform(in: namespace) { () -> Int32 in
                let fd = Self.bound(25000)
                #expect(Self.connect(fd, to: destination, port: port) == 0)
                return fd
            }
            let accepted = accept(listener, nil, nil)
            #expect(accepted >= 0)
            let local = Self.name(accepted, peer: false)
            let peer = Self.name(accepted, peer: true)
            peerPorts.append(peer.1)
            let seen = PacketFlow(source: local.0, destination: peer.0, proto: 6, sourcePort: local.1, destinationPort: peer.1)
            let tracked = try #require(try lookup.connection(tcp: seen))
            #expect(tracked.original.sourcePort == 25000)
            #expect(tracked.original.destination == destination)
            #expect(tracked.original.destinationPort == port)
            #expect(tracked.reply == seen)
            // Closed with a reset, as the prober closes: the entry lingers in CLOSE.
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            close(client)
            close(accepted)
        }
        // The second connection's reply tuple was taken: the listener saw another port.
        #expect(peerPorts.first == 25000)
        #expect(peerPorts.last != 25000)
        // No entry: nil, not an error.
        let none = PacketFlow(source: "127.0.0.1", destination: "10.99.0.1", proto: 6, sourcePort: 15001, destinationPort: 1)
        #expect(try lookup.connection(tcp: none) == nil)
    }
}
