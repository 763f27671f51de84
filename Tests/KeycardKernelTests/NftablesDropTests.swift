import Foundation
import KeycardKernel
import KeycardRuleset
import Testing

/// A drop rule really drops: two namespaces joined by a veth (made by `ip`, born inside the
/// namespaces), UDP sockets created inside them, a table programmed in the receiver.
@Suite(.serialized, .enabled(if: NftTestSupport.isRoot, "needs root and a kernel with nftables"))
struct NftablesDropTests {
    static let sender = NftFixtures.ip(10, 199, 0, 1)
    static let receiver = NftFixtures.ip(10, 199, 0, 2)
    static let port: UInt16 = 9999

    static func table(blocking blocked: [UInt32]) -> Table {
        Table(
            name: "kc-test.drop",
            sets: [NamedSet(name: "blocked", key: [.ipv4Address], interval: true, elements: blocked.map { .range(from: $0, to: $0) })],
            chains: [
                Chain(
                    name: "input", base: BaseChain(hook: .input, policy: .accept),
                    rules: [
                        Rule(
                            [.saddrInSet("blocked"), .l4proto(17), .dport(port)],
                            log: LogStatement(group: 7, prefix: "kc-drop "), counter: true, verdict: .drop,
                            comment: "test/block#ingress[0]")
                    ])
            ])
    }

    @Test func dropRuleDropsAndElementUpdateLetsThrough() throws {
        try NftTestSupport.withNamespaces(2) { names in
            let (a, b) = (names[0], names[1])
            for command in [
                ["ip", "-n", a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b],
                ["ip", "-n", a, "addr", "add", "10.199.0.1/24", "dev", "va"],
                ["ip", "-n", b, "addr", "add", "10.199.0.2/24", "dev", "vb"],
                ["ip", "-n", a, "link", "set", "va", "up"], ["ip", "-n", b, "link", "set", "vb", "up"],
            ] {
                let result = try NftTestSupport.run(command)
                try #require(result.status == 0, "\(command): \(result.error)")
            }
            let server = try UDPEndpoint(namespace: b, bind: Self.receiver, port: Self.port)
            let client = try UDPEndpoint(namespace: a, bind: Self.sender, port: 0)
            #expect(try client.sendReceived(by: server, to: Self.receiver, port: Self.port), "baseline: no table")

            let programmer = try NftablesProgrammer(namespace: b)
            let blocking = Self.table(blocking: [Self.sender])
            try programmer.apply(old: nil, new: blocking)
            #expect(try !client.sendReceived(by: server, to: Self.receiver, port: Self.port), "blocked by the drop rule")

            let open = Self.table(blocking: [NftFixtures.ip(10, 199, 0, 77)])
            let report = try #require(try programmer.apply(old: blocking, new: open))
            #expect(report.kinds == [.deleteSetElements, .newSetElements])
            #expect(try client.sendReceived(by: server, to: Self.receiver, port: Self.port), "unblocked by an element update")
        }
    }
}

/// A UDP socket created inside a lab namespace (checked via SIOCGSKNS), never the host's.
final class UDPEndpoint {
    let fd: Int32

    init(namespace: String, bind address: UInt32, port: UInt16) throws {
        fd = try NetworkNamespace.perform(in: namespace) { socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0) }
        guard fd >= 0 else { throw WitnessError("socket: errno \(errno)") }
        guard try NetworkNamespace.inode(ofSocket: fd) == NetworkNamespace.inode(of: namespace),
            try NetworkNamespace.inode(ofSocket: fd) != NetworkNamespace.hostInode()
        else { throw WitnessError("socket not in \(namespace)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 300_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var local = Self.address(address, port)
        let rc = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw WitnessError("bind: errno \(errno)") }
    }

    deinit { close(fd) }

    static func address(_ address: UInt32, _ port: UInt16) -> sockaddr_in {
        var value = sockaddr_in()
        value.sin_family = sa_family_t(AF_INET)
        value.sin_port = port.bigEndian
        value.sin_addr.s_addr = address.bigEndian
        return value
    }

    /// Sends one datagram with a fresh token; true if `server` receives that token within 300 ms.
    func sendReceived(by server: UDPEndpoint, to address: UInt32, port: UInt16) throws -> Bool {
        let token = Array(UUID().uuidString.utf8)
        var destination = Self.address(address, port)
        let sent = withUnsafePointer(to: &destination) {
            $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) {
                sendto(fd, token, token.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard sent == token.count else { throw WitnessError("sendto: errno \(errno)") }
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let received = recv(server.fd, &buffer, buffer.count, 0)
            if received < 0 { return false }  // timed out
            if Array(buffer[0..<received]) == token { return true }
        }
    }
}
