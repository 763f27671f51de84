import Foundation
import Glibc
import KeycardKernel
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

    @Test func aDatagramOfCutMessagesIsRefusedNotGuessed() {
        // A netlink header announcing 64 bytes in a 20-byte datagram.
        var datagram = [UInt8](repeating: 0, count: 20)
        datagram[0] = 64
        #expect(ConntrackEvents.newConnections(in: datagram) == nil)
        #expect(ConntrackEvents.newConnections(in: []) == [])
    }
}
