import Foundation
import Glibc
import KeycardKernel
import KeycardTestSupport
import KeycardValues

/// Throwaway namespaces for socket tests, built with `ip`/`nft` (tests only; product code never spawns
/// them). Names are `kc-<tag>.<suffix>` with a random tag; `tearDown()` deletes every one.
final class SocketsTestWorld {
    let tag = "ts" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
    private(set) var namespaces: [String] = []

    /// Creates namespace `kc-<tag>.<suffix>` with loopback up.
    func namespace(_ suffix: String) throws -> String {
        let name = "kc-\(tag).\(suffix)"
        try NetworkNamespace.create(name)
        namespaces.append(name)
        try Self.ip(["-n", name, "link", "set", "lo", "up"])
        return name
    }

    /// A veth between `a` and `b` (born in `a`, peer born in `b`) with a.addr/24 and b.addr/24, both up.
    func link(_ a: String, _ aName: String, _ aAddress: String, _ b: String, _ bName: String, _ bAddress: String) throws {
        try Self.ip(["-n", a, "link", "add", aName, "type", "veth", "peer", "name", bName, "netns", b])
        try Self.ip(["-n", a, "addr", "add", "\(aAddress)/24", "dev", aName])
        try Self.ip(["-n", b, "addr", "add", "\(bAddress)/24", "dev", bName])
        try Self.ip(["-n", a, "link", "set", aName, "up"])
        try Self.ip(["-n", b, "link", "set", bName, "up"])
    }

    /// Loads `ruleset` (nft -f syntax) inside namespace `name`.
    func nft(in name: String, _ ruleset: String) throws {
        try Self.run("/usr/sbin/ip", ["netns", "exec", name, "/usr/sbin/nft", "-f", "-"], stdin: ruleset)
    }

    func tearDown() {
        for name in namespaces { try? NetworkNamespace.delete(name) }
        namespaces = []
    }

    static func ip(_ arguments: [String], stdin: String? = nil) throws {
        try run("/usr/sbin/ip", arguments, stdin: stdin)
    }

    /// Runs a set-up command that must succeed (`runChecked`, shared with the other test worlds).
    @discardableResult
    static func run(_ path: String, _ arguments: [String], stdin: String? = nil) throws -> String {
        try runChecked(path, arguments, stdin: stdin)
    }
}

/// A client namespace and a server namespace joined by one veth: client 10.201.0.1, server 10.201.0.2.
struct PairWorld {
    static let clientAddress: IPv4 = "10.201.0.1"
    static let serverAddress: IPv4 = "10.201.0.2"
    let world = SocketsTestWorld()
    let client: String
    let server: String

    init() throws {
        do {
            client = try world.namespace("pod.default.client")
            server = try world.namespace("pod.default.server")
            try world.link(client, "eth0", Self.clientAddress.description, server, "eth0", Self.serverAddress.description)
        } catch {
            // The caller's `defer { tearDown() }` only runs for a world that was built.
            world.tearDown()
            throw error
        }
    }

    func endpoint(_ proto: TransportProtocol, _ port: UInt16, line: String = "default/server") -> ServedEndpoint {
        ServedEndpoint(namespace: server, address: Self.serverAddress, proto: proto, port: port, line: line)
    }

    func request(_ proto: TransportProtocol, _ port: UInt16) -> ProbeRequest {
        ProbeRequest(sourceNamespace: client, destination: Self.serverAddress, proto: proto, port: port)
    }
}

/// Milliseconds elapsed while running `body`.
func measure<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let clock = ContinuousClock()
    let start = clock.now
    let value = try body()
    let elapsed = clock.now - start
    return (value, Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
}
