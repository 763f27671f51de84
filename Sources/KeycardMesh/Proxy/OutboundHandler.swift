import Glibc
import KeycardKernel
import KeycardModel
import KeycardValues
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// A pod's own outbound TCP, accepted on 15001 in its namespace: resolves the original destination
/// (`MeshRoute`), connects there from the pod's namespace (marked; an HBONE hop to the pod's 15008,
/// naming the original port in a CONNECT request once the handshake is done), presents what the model says
/// (own SVID, stolen, rogue, or plaintext) over TLS 1.3 with ALPN `istio`, then splices.
///
/// Records on the client flow (pod address, client port → original destination): `deny` on
/// upstream connect timeout or a local drop (detail: the `DenyReason`), `closed` on refusal, `allow` once connected,
/// `deny-mtls`/`bad-certificate` when the TLS handshake fails; and links the client flow to the
/// upstream flow, whose record (made by the destination's inbound side) takes precedence.
final class OutboundHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let proxied: ProxiedPod

    init(_ proxied: ProxiedPod) { self.proxied = proxied }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        let ticket = proxied.core.flows.ticket()
        proxied.core.originalDestination(context.channel).hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
            // The port the client bound (the prober's intents and records are keyed by it), not
            // the one a redirect may have moved the connection to.
            switch (result, self.proxied.core.originalPeer(of: context.channel, pod: self.proxied.pod)) {
            case (.success(let original), let client?):
                self.start(context: context, clientPort: client.port, original: original, ticket: ticket)
            default: ProxyCore.reset(context.channel)
            }
        }
    }

    private func start(
        context: ChannelHandlerContext, clientPort: UInt16, original: (address: IPv4, port: UInt16), ticket: MeshFlowTicket
    ) {
        let client = context.channel
        let clientFlow = MeshFlow(proxied.address, clientPort, original.address, original.port)
        let claim = proxied.core.flows.claim(clientFlow, with: ticket)
        // Never follow a connection to this pod's own proxy ports (one not redirected shows its own
        // address as the original destination): the proxy would connect to itself without end.
        // Those ports of another address are dialled as any other port.
        guard !MeshDataPath.reachesOwnProxy(address: original.address, port: original.port, podAddress: proxied.address) else {
            proxied.core.flows.record(MeshFlowRecord(outcome: .closed, detail: "the proxy's own port"), for: claim)
            return ProxyCore.reset(client)
        }
        let request = proxied.core.intents.request(pod: proxied.pod, sourcePort: clientPort)
        let route = MeshRoute.resolve(
            proxied.core.cluster(), source: proxied.pod, clientPort: clientPort, destination: original.address, port: original.port,
            request: request)
        let tls: NIOSSLContext?
        do {
            tls = try proxied.core.clientContext(for: route.presented)
        } catch {
            proxied.core.flows.record(
                MeshFlowRecord(outcome: .closed, detail: "no client certificate: \(error)", pod: route.pod, gaveUp: true), for: claim)
            return ProxyCore.reset(client)
        }
        let (clientGlue, upstreamGlue) = GlueHandler.matchedPair()
        let loop = context.eventLoop
        let handshake = loop.makePromise(of: Void.self)
        let trust = proxied.core.trust
        let upstream = proxied.core.connect(from: proxied.pod, to: route.address, port: route.hopPort, on: loop, halfClosure: tls == nil) {
            channel in
            channel.eventLoop.makeCompletedFuture {
                let pipeline = channel.pipeline.syncOperations
                // The glue joins only once the handshake is done: it reads only while its partner
                // (the client's glue, added then) can write, and the handshake needs reads.
                if let tls {
                    try pipeline.addHandler(try MeshTLS.clientHandler(context: tls, trust: trust))
                    try pipeline.addHandler(HandshakeWatcher(promise: handshake))
                } else {
                    handshake.succeed(())
                }
            }
        }
        let flows = proxied.core.flows
        let plane = route.pod.map { proxied.core.cluster().dataPlane(of: $0) }
        upstream.assumeIsolated().whenComplete { result in
            switch result {
            case .failure(let error):
                handshake.fail(error)
                // A drop shows as a timeout (the SYN is lost), or — dropped in this pod's own
                // output chain, or answered by an ICMP error — as EPERM/EACCES/unreachable at once;
                // the detail says which, in the prober's words (`DenyReason`).
                var drop: DenyReason?
                if case ChannelError.connectTimeout = error { drop = .timeout }
                if let io = error as? IOError, [EPERM, EACCES, EHOSTUNREACH, ENETUNREACH].contains(io.errnoCode) {
                    drop = .socketError(errno: io.errnoCode)
                }
                // A refusal says nothing serves the port; any other error is no verdict.
                let refused = (error as? IOError)?.errnoCode == ECONNREFUSED
                flows.record(
                    MeshFlowRecord(
                        outcome: drop == nil ? .closed : .deny, detail: drop?.description ?? "\(error)", pod: route.pod,
                        plane: plane,
                        gaveUp: drop == nil && !refused, drop: drop),
                    for: claim)
                ProxyCore.reset(client)
            case .success(let channel):
                if let local = channel.localAddress?.port {
                    // An HBONE hop's record is the tunnel's own flow, to 15008 (`InboundHandler`).
                    flows.link(claim, to: MeshFlow(self.proxied.address, UInt16(local), route.address, route.hopPort))
                }
                handshake.futureResult.assumeIsolated().whenComplete { result in
                    switch result {
                    case .success:
                        flows.record(MeshFlowRecord(outcome: .allow, pod: route.pod, plane: plane), for: claim)
                        // Callbacks run as the promise completes, before any later read: no byte is lost.
                        do {
                            try channel.pipeline.syncOperations.addHandler(upstreamGlue)
                            try context.pipeline.syncOperations.addHandler(clientGlue)
                            context.pipeline.syncOperations.removeHandler(self, promise: nil)
                            // A hop the destination ends now (a TLS 1.3 server refuses the client's
                            // certificate after the client's handshake is done) can close before
                            // or while the glue joins, and a closed channel tells no glue added
                            // later: the client must still learn of it, or it waits for nothing.
                            channel.closeFuture.assumeIsolated().whenComplete { _ in client.close(promise: nil) }
                            // HBONE: the tunnel names the original destination first (HBONE's
                            // CONNECT, written as HTTP/1.1 in the TLS stream; keycard's one departure).
                            if route.tunnel {
                                channel.writeAndFlush(ByteBuffer(string: HBONE.connectRequest(route.address, route.port)), promise: nil)
                            }
                            client.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
                        } catch {
                            ProxyCore.reset(client)
                            ProxyCore.reset(channel)
                        }
                    case .failure:
                        // The destination's inbound side recorded why (the linked flow); this is the fallback.
                        flows.record(
                            MeshFlowRecord(outcome: .denyMTLS, detail: "bad-certificate", pod: route.pod, plane: plane), for: claim)
                        ProxyCore.reset(client)
                        channel.close(promise: nil)
                    }
                }
            }
        }
    }
}

/// Completes `promise` when the TLS handshake of its channel completes, fails it on an error or
/// a close before that.
final class HandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let promise: EventLoopPromise<Void>
    private var done = false

    init(promise: EventLoopPromise<Void>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event, !done {
            done = true
            promise.succeed(())
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if !done {
            done = true
            promise.fail(error)
        }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            promise.fail(ChannelError.eof)
        }
        context.fireChannelInactive()
    }
}
