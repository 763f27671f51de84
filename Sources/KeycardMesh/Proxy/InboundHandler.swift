import Glibc
import KeycardModel
import KeycardValues
import NIOCore
import NIOSSL
import NIOTLS

/// TCP arriving at a meshed pod, accepted on 15006 in its namespace (or an HBONE tunnel accepted
/// on 15008: mutual TLS, then a CONNECT request naming the original port): the destination proxy's
/// checks in the order of R57, then a marked connection to the application on the pod's address
/// and the original port (Istio ≥ 1.10 forwards inbound traffic to the pod IP, not 127.0.0.1).
///
/// 1. Original destination and peer address; the first byte: 0x16 (a TLS record) on a port that
///    terminates mutual TLS (an HBONE tunnel to 15008, sidecar ports not DISABLE: R17) starts the
///    TLS 1.3 server handshake with the pod's SVID, the client certificate required and verified
///    in the handshake (failure: `deny-mtls`/`bad-certificate`). Other bytes are plaintext:
///    refused on a STRICT port (`deny-mtls`/`plaintext-refused`, reset, no byte to the app: R12,
///    R51). TLS to a sidecar DISABLE port passes through as plain TCP, as Envoy has no TLS chain
///    there, and so does TLS to an ambient pod's application port (ztunnel's plaintext inbound
///    listener: no identity, `istio/ztunnel` `src/proxy/inbound_passthrough.rs`).
/// 2. Authorization (`AuthorizationEngine`) with the verified principal, the real peer address and
///    the original port. On an HTTP port of a sidecar the request head is read first (NIOHTTP1)
///    and a denial is `403 RBAC: access denied` (R41); elsewhere a denial is a reset (R41, R54).
///    keycard authorizes before opening the application connection (ztunnel's order; Envoy
///    opens it at once on TCP ports, R41 — invisible to client-first probes).
/// 3. Connection to the application; nothing listening: `closed`, reset. Then splice.
final class InboundHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Stage { case starting, sniffing, handshaking, tunnelRequest, authorizing, connecting, done }

    private let proxied: ProxiedPod
    /// Accepted on 15008: an HBONE tunnel, mutual TLS first, then the CONNECT request names the
    /// original destination (`HBONE`).
    private let tunnel: Bool
    private var stage = Stage.starting
    private var flow: MeshFlow?
    private var claim: MeshFlowClaim?
    private var original: (address: IPv4, port: UInt16)?
    private var cluster: Cluster?
    private var plane = DataPlane.none
    private var mode: MutualTLSMode?
    private var principal: String?
    private var passthrough = false
    private var buffered: ByteBuffer?
    private var sslHandler: NIOSSLServerHandler?
    private var deadline: Scheduled<Void>?

    init(_ proxied: ProxiedPod, tunnel: Bool = false) {
        self.proxied = proxied
        self.tunnel = tunnel
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: proxied.core.checkTimeout) {
            self.giveUp(context, detail: "timeout: the client sent too little for the checks")
        }
        let ticket = proxied.core.flows.ticket()
        if tunnel {
            // A tunnel to 15008 is never redirected, so the port the socket shows is the sender's.
            guard let peer = context.channel.remoteAddress, let peerPort = peer.port, let peerIP = peer.ipAddress.flatMap(IPv4.init)
            else { return ProxyCore.reset(context.channel) }
            // The original destination comes inside the tunnel, after the handshake; the record is
            // the tunnel's own flow (to 15008), which the outbound side links its client flow to,
            // so a certificate refused in the handshake is recorded before the port is known.
            guard let local = context.channel.localAddress, let localIP = local.ipAddress.flatMap(IPv4.init) else {
                return ProxyCore.reset(context.channel)
            }
            let flow = MeshFlow(peerIP, UInt16(peerPort), localIP, MeshDataPath.hbonePort)
            self.flow = flow
            claim = proxied.core.flows.claim(flow, with: ticket)
            let cluster = proxied.core.cluster()
            self.cluster = cluster
            guard cluster.pods[proxied.pod] != nil else { return giveUp(context, detail: "pod gone") }
            plane = cluster.dataPlane(of: proxied.pod)
            stage = .sniffing
            context.read()
            return
        }
        proxied.core.originalDestination(context.channel).hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
            // The flow as the peer's proxy opened it (its port may have been moved by the redirect).
            guard case .success(let original) = result,
                let peer = self.proxied.core.originalPeer(of: context.channel, pod: self.proxied.pod)
            else { return ProxyCore.reset(context.channel) }
            self.original = original
            let flow = MeshFlow(peer.address, peer.port, original.address, original.port)
            self.flow = flow
            self.claim = self.proxied.core.flows.claim(flow, with: ticket)
            // A connection to the proxy's own port was never redirected: serving it would make the
            // proxy connect to itself, again and again. Nothing (else) serves these ports.
            guard !MeshDataPath.proxyPorts.contains(original.port) else {
                return self.refuse(context, .closed, detail: "the proxy's own port")
            }
            let cluster = self.proxied.core.cluster()
            self.cluster = cluster
            guard let pod = cluster.pods[self.proxied.pod] else { return self.giveUp(context, detail: "pod gone") }
            self.plane = cluster.dataPlane(of: self.proxied.pod)
            if self.plane != .none { self.mode = cluster.mutualTLSMode(for: pod, port: Int(original.port), plane: self.plane) }
            self.stage = .sniffing
            context.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        switch stage {
        case .sniffing:
            sniff(context: context, first: bytes)
        case .handshaking, .tunnelRequest, .authorizing, .connecting:
            if var held = buffered {
                held.writeBuffer(&bytes)
                buffered = held
            } else {
                buffered = bytes
            }
            // Enough is held for any request head; the rest waits in the kernel.
            if (buffered?.readableBytes ?? 0) > HTTPHead.maximumSize {
                context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
            }
            if stage == .authorizing { authorize(context: context) }
            if stage == .tunnelRequest { readTunnelRequest(context: context) }
        case .starting, .done:
            break
        }
    }

    private func sniff(context: ChannelHandlerContext, first: ByteBuffer) {
        let isTLS = first.readableBytesView.first == 0x16
        // R17: ztunnel terminates mutual TLS on 15008 only; what reaches an ambient pod's
        // application port comes through its plaintext inbound listener, TLS or not.
        let terminates = tunnel ? plane != .none : plane == .sidecar && mode?.mode != .disable
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        if tunnel && !(isTLS && terminates) { return refuse(context, .closed, detail: "not an HBONE tunnel") }
        if isTLS && terminates {
            guard let cluster, let pod = cluster.pods[proxied.pod], let tls = try? proxied.core.serverContext(for: pod) else {
                return giveUp(context, detail: "no server certificate")
            }
            let refusal = MeshFlowRecord(outcome: .denyMTLS, detail: "bad-certificate", pod: self.proxied.pod, plane: plane, mode: mode)
            let handler = MeshTLS.serverHandler(context: tls, trust: proxied.core.trust) { [flows = proxied.core.flows, claim] in
                if let claim { flows.record(refusal, for: claim) }
            }
            sslHandler = handler
            stage = .handshaking
            // With remote half-closure on, NIOSSL waits out its 5 s shutdown timeout after the
            // peer's close_notify; a TLS hop closes whole, as Envoy's and ztunnel's do.
            context.channel.setOption(ChannelOptions.allowRemoteHalfClosure, value: false).whenComplete { _ in }
            do {
                try context.pipeline.syncOperations.addHandler(handler, position: .first)
            } catch {
                return giveUp(context, detail: "\(error)")
            }
            // From the head: the bytes go through the TLS handler, then come back decrypted.
            context.pipeline.syncOperations.fireChannelRead(NIOAny(first))
            return
        }
        passthrough = isTLS
        if mode?.mode == .strict {
            return refuse(context, .denyMTLS, detail: "plaintext-refused")
        }
        buffered = first
        stage = .authorizing
        authorize(context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if stage == .handshaking, let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            principal = MeshTLS.principal(of: sslHandler?.peerValidatedCertificateChain)
            if tunnel {
                stage = .tunnelRequest
                readTunnelRequest(context: context)
            } else {
                stage = .authorizing
                authorize(context: context)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if stage == .handshaking {
            refuse(context, .denyMTLS, detail: "bad-certificate")
        } else if stage != .done {
            giveUp(context, detail: "\(error)")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if stage == .handshaking { record(.denyMTLS, detail: "bad-certificate") }
        finish()
        context.fireChannelInactive()
    }

    /// The HBONE tunnel's CONNECT request (`HBONE.parse`): it names the original destination, which
    /// must be this pod; then the checks go on as for a redirected connection to that port.
    private func readTunnelRequest(context: ChannelHandlerContext) {
        guard stage == .tunnelRequest, var held = buffered else { return }
        switch HBONE.parse(held) {
        case .incomplete: return
        case .malformed: return refuse(context, .closed, detail: "bad HBONE request")
        case .request(let address, let port, let length):
            held.moveReaderIndex(forwardBy: length)
            buffered = held
            guard let cluster, let pod = cluster.pods[proxied.pod] else { return }
            original = (address, port)
            guard address == proxied.address, !MeshDataPath.proxyPorts.contains(port) else {
                return giveUp(context, detail: "HBONE request for \(address):\(port), not this pod's application")
            }
            mode = cluster.mutualTLSMode(for: pod, port: Int(port), plane: plane)
            stage = .authorizing
            authorize(context: context)
        }
    }

    private func authorize(context: ChannelHandlerContext) {
        guard stage == .authorizing, let cluster, let original, let pod = cluster.pods[proxied.pod] else { return }
        guard plane != .none else { return connectApplication(context: context, authorization: nil) }
        let isHTTP = cluster.isHTTPPort(pod: self.proxied.pod, port: Int(original.port))
        var http: HTTPRequest?
        if isHTTP && plane == .sidecar {
            guard let buffered else { return }
            switch HTTPHead.parse(buffered) {
            case .incomplete: return
            case .malformed:
                finish()
                record(.closed, detail: "bad-http-request")
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: HTTPHead.badRequest))).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
                return
            case .request(let request): http = request
            }
        }
        let attributes = AuthorizationAttributes(
            principal: principal, sourceIP: flow?.sourceAddress, destinationIP: original.address, port: Int(original.port), http: http,
            host: http?.host,
            arrival: cluster.arrival(principal: principal, from: sourcePod(in: cluster), overHBONE: tunnel))
        let decision = AuthorizationEngine(cluster).authorize(attributes, pod: pod, plane: plane, isHTTP: isHTTP)
        guard decision.allowed else {
            finish()
            if http != nil {
                record(.denyRBAC, detail: "http-403", authorization: decision)
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: HTTPHead.forbidden))).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
            } else {
                record(.denyRBAC, detail: "reset", authorization: decision)
                ProxyCore.reset(context.channel)
            }
            return
        }
        connectApplication(context: context, authorization: decision)
    }

    /// The pod the connection comes from, by its peer address (nil for a node or an unknown one).
    private func sourcePod(in cluster: Cluster) -> ObjectKey? {
        guard let flow, case .pod(let key) = cluster.endpoint(at: flow.sourceAddress) else { return nil }
        return key
    }

    private func connectApplication(context: ChannelHandlerContext, authorization: AuthorizationDecision?) {
        guard let original else { return }
        stage = .connecting
        deadline?.cancel()
        let (clientGlue, appGlue) = GlueHandler.matchedPair()
        let app = proxied.core.connect(from: proxied.pod, to: proxied.address, port: original.port, on: context.eventLoop) { channel in
            channel.eventLoop.makeSucceededVoidFuture()
        }
        app.assumeIsolated().whenComplete { result in
            switch result {
            case .failure(let error):
                self.finish()
                // Only a refusal says nothing serves the port; a timeout or another error of a
                // connect inside the pod's own namespace is the lab's trouble, not a verdict.
                let refused = (error as? IOError)?.errnoCode == ECONNREFUSED
                self.record(
                    .closed, detail: refused ? "nothing serves the port" : "application connect: \(error)", authorization: authorization,
                    gaveUp: !refused)
                ProxyCore.reset(context.channel)
            case .success(let channel):
                guard self.stage == .connecting, context.channel.isActive else {
                    channel.close(promise: nil)
                    return
                }
                self.finish()
                self.record(.allow, detail: self.passthrough ? "tls-passthrough" : nil, authorization: authorization)
                if let buffered = self.buffered, buffered.readableBytes > 0 { channel.writeAndFlush(buffered, promise: nil) }
                self.buffered = nil
                do {
                    try channel.pipeline.syncOperations.addHandler(appGlue)
                    try context.pipeline.syncOperations.addHandler(clientGlue, position: .after(self))
                    context.pipeline.syncOperations.removeHandler(self, promise: nil)
                    context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
                } catch {
                    ProxyCore.reset(context.channel)
                    channel.close(promise: nil)
                }
            }
        }
    }

    /// The checks are over: no deadline any more.
    private func finish() {
        stage = .done
        deadline?.cancel()
        deadline = nil
    }

    private func refuse(_ context: ChannelHandlerContext, _ outcome: Observation, detail: String, gaveUp: Bool = false) {
        guard stage != .done, stage != .connecting else { return }
        finish()
        record(outcome, detail: detail, gaveUp: gaveUp)
        ProxyCore.reset(context.channel)
    }

    /// Resets a connection the proxy could not decide on (`MeshFlowRecord.gaveUp`).
    private func giveUp(_ context: ChannelHandlerContext, detail: String) {
        refuse(context, .closed, detail: detail, gaveUp: true)
    }

    private func record(_ outcome: Observation, detail: String?, authorization: AuthorizationDecision? = nil, gaveUp: Bool = false) {
        guard let claim else { return }
        proxied.core.flows.record(
            MeshFlowRecord(
                outcome: outcome, detail: detail, pod: proxied.pod, plane: plane, mode: mode, principal: principal,
                authorization: authorization, gaveUp: gaveUp),
            for: claim)
    }
}
