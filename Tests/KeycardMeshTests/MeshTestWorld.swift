import Foundation
import Glibc
import KeycardKernel
import KeycardMesh
import KeycardModel
import KeycardTestSupport
import KeycardValues
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// Throwaway namespaces for mesh tests (`kc-<tag>.<suffix>`), links built with `ip` (tests only:
/// an independent tool), torn down by `tearDown()`.
final class MeshTestWorld: @unchecked Sendable {
    let tag = "mt" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
    private(set) var namespaces: [String] = []
    let stateFolder: String

    init() {
        stateFolder = "/tmp/keycard-mesh-test-\(tag)/mesh"
    }

    /// Creates `kc-<tag>.<suffix>` with loopback up.
    func namespace(_ suffix: String) throws -> String {
        let name = "kc-\(tag).\(suffix)"
        try NetworkNamespace.create(name)
        namespaces.append(name)
        try Self.run("/usr/sbin/ip", ["-n", name, "link", "set", "lo", "up"])
        return name
    }

    /// A veth `eth0` in each namespace, a.addr/24 and b.addr/24, up, and a default route in `a`
    /// through it (so a ClusterIP is routable from `a`; nothing leaves: the peer is `b`).
    func link(_ a: String, _ aAddress: IPv4, _ b: String, _ bAddress: IPv4) throws {
        try Self.run("/usr/sbin/ip", ["-n", a, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", b])
        try Self.run("/usr/sbin/ip", ["-n", a, "addr", "add", "\(aAddress)/24", "dev", "eth0"])
        try Self.run("/usr/sbin/ip", ["-n", b, "addr", "add", "\(bAddress)/24", "dev", "eth0"])
        try Self.run("/usr/sbin/ip", ["-n", a, "link", "set", "eth0", "up"])
        try Self.run("/usr/sbin/ip", ["-n", b, "link", "set", "eth0", "up"])
        try Self.run("/usr/sbin/ip", ["-n", a, "route", "add", "default", "dev", "eth0"])
    }

    /// Loads `ruleset` (nft syntax) inside namespace `name`.
    func nft(in name: String, _ ruleset: String) throws {
        try Self.run("/usr/sbin/ip", ["netns", "exec", name, "/usr/sbin/nft", "-f", "-"], stdin: ruleset)
    }

    func tearDown() {
        for name in namespaces { try? NetworkNamespace.delete(name) }
        namespaces = []
        try? FileManager.default.removeItem(atPath: "/tmp/keycard-mesh-test-\(tag)")
    }

    /// Runs a set-up command that must succeed (`runChecked`, shared with the other test worlds).
    @discardableResult
    static func run(_ path: String, _ arguments: [String], stdin: String? = nil) throws -> String {
        try runChecked(path, arguments, stdin: stdin)
    }
}

/// The application of a test pod: bound inside its namespace, client-first. TCP: reads a line,
/// answers `<line>\n`, closes. HTTP: reads a request head, answers `200` with `<line>`. Counts
/// every connection it accepts and every byte it receives.
final class TestApp: @unchecked Sendable {
    enum Kind { case line, http }
    let accepted = ManagedAtomicCounter()
    let received = ManagedAtomicCounter()
    private var channel: (any Channel)?

    init(group: EventLoopGroup, namespace: String, address: IPv4, port: UInt16, kind: Kind, line: String) throws {
        let accepted = accepted
        let received = received
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(ChannelOptions.backlog, value: 4096)
            .childChannelInitializer { channel in
                accepted.add(1)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AppHandler(kind: kind, line: line, received: received))
                }
            }
        channel = try NetworkNamespace.perform(in: namespace) {
            try bootstrap.bind(to: SocketAddress(ipAddress: address.description, port: Int(port)))
        }.wait()
    }

    func stop() { try? channel?.close().wait() }
}

private final class AppHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let kind: TestApp.Kind
    let line: String
    let received: ManagedAtomicCounter
    var text = ""

    init(kind: TestApp.Kind, line: String, received: ManagedAtomicCounter) {
        self.kind = kind
        self.line = line
        self.received = received
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        received.add(bytes.readableBytes)
        text += String(buffer: bytes)
        let reply: String
        switch kind {
        case .line:
            guard text.contains("\n") else { return }
            reply = "\(line)\n"
        case .http:
            guard text.contains("\r\n\r\n") else { return }
            reply = "HTTP/1.1 200 OK\r\ncontent-length: \(line.utf8.count + 1)\r\nconnection: close\r\n\r\n\(line)\n"
        }
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: reply))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
}

/// A lock-protected counter (tests only).
final class ManagedAtomicCounter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func add(_ amount: Int) { lock.withLock { value += amount } }
    var current: Int { lock.withLock { value } }
}

/// What a test client saw.
struct Exchange {
    var bytes: [UInt8]
    /// recv failed with ECONNRESET.
    var reset: Bool
    var text: String { String(decoding: bytes, as: UTF8.self) }
}

enum PlainClient {
    /// A blocking TCP exchange from inside `namespace`: connect to `address:port` (optionally from
    /// `sourcePort`), send `payload`, read until EOF, reset or 3 s.
    static func exchange(in namespace: String, to address: IPv4, port: UInt16, payload: String, sourcePort: UInt16? = nil) throws
        -> Exchange
    {
        let fd = try NetworkNamespace.perform(in: namespace) { () -> Int32 in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var timeout = timeval(tv_sec: 3, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            if let sourcePort {
                var local = sockaddr_in()
                local.sin_family = sa_family_t(AF_INET)
                local.sin_port = sourcePort.bigEndian
                _ = withUnsafePointer(to: &local) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
            var remote = sockaddr_in()
            remote.sin_family = sa_family_t(AF_INET)
            remote.sin_port = port.bigEndian
            remote.sin_addr = in_addr(s_addr: address.value.bigEndian)
            let connected = withUnsafePointer(to: &remote) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if connected != 0 {
                let code = errno
                close(fd)
                throw KernelError("connect", subject: "\(address):\(port)", errno: code)
            }
            return fd
        }
        defer { close(fd) }
        _ = Array(payload.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                bytes += buffer[0..<n]
                continue
            }
            return Exchange(bytes: bytes, reset: n < 0 && errno == ECONNRESET)
        }
    }
}

/// A TLS client (what a source proxy does) from inside a namespace, presenting a chosen SVID.
enum TLSClient {
    struct Result {
        var handshake: Bool
        var bytes: [UInt8]
        var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    /// Connects from `namespace` to `address:port`, handshakes presenting `svid` (verifying the
    /// server against `trust` when given), sends `payload`, collects the answer until close.
    static func exchange(
        group: EventLoopGroup, in namespace: String, to address: IPv4, port: UInt16, presenting svid: SVID, trust: MeshTrust?,
        payload: String
    ) throws -> EventLoopFuture<Result> {
        var configuration = try MeshTLS.clientConfiguration(presenting: svid)
        if trust == nil { configuration.certificateVerification = .none }
        return try exchange(
            group: group, in: namespace, to: address, port: port, context: NIOSSLContext(configuration: configuration), trust: trust,
            payload: payload)
    }

    /// The same with a prepared context; nil: plaintext (no TLS at all).
    static func exchange(
        group: EventLoopGroup, in namespace: String, to address: IPv4, port: UInt16, context: NIOSSLContext?, trust: MeshTrust?,
        payload: String
    ) throws -> EventLoopFuture<Result> {
        let promise = group.next().makePromise(of: Result.self)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.seconds(3))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context {
                        let handler: NIOSSLClientHandler =
                            if let trust {
                                try MeshTLS.clientHandler(context: context, trust: trust)
                            } else {
                                try NIOSSLClientHandler(context: context, serverHostname: nil)
                            }
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    try channel.pipeline.syncOperations.addHandler(Collector(payload: payload, plaintext: context == nil, promise: promise))
                }
            }
        let connected = try NetworkNamespace.perform(in: namespace) {
            bootstrap.connect(to: try SocketAddress(ipAddress: address.description, port: Int(port)))
        }
        connected.whenFailure { promise.fail($0) }
        return promise.futureResult
    }

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let payload: String
        let promise: EventLoopPromise<Result>
        var handshake = false
        var bytes: [UInt8] = []

        let plaintext: Bool

        init(payload: String, plaintext: Bool, promise: EventLoopPromise<Result>) {
            self.payload = payload
            self.plaintext = plaintext
            self.promise = promise
        }

        func channelActive(context: ChannelHandlerContext) {
            if plaintext { context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: payload)), promise: nil) }
            context.fireChannelActive()
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
                handshake = true
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: payload)), promise: nil)
            }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            bytes += Array(buffer: unwrapInboundIn(data))
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }

        func channelInactive(context: ChannelHandlerContext) {
            promise.succeed(Result(handshake: handshake, bytes: bytes))
        }
    }
}
