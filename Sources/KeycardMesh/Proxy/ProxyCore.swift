import Glibc
import KeycardKernel
import KeycardModel
import KeycardValues
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// What every connection handler of one `MeshProxy` shares: the model, identities, records,
/// namespaces of attached pods, and cached TLS contexts. Thread-safe.
final class ProxyCore: Sendable {
    let ca: LabCA
    let rogue: RogueCA
    let cluster: @Sendable () -> Cluster
    let intents: MeshIntents
    let flows: MeshFlowLog
    /// The upstream connect timeout: a NetworkPolicy drop of the proxy's own connection shows as
    /// `deny` after it. The prober sets it for each wave (`MeshProxy.upstreamConnectTimeout`).
    private let connectTimeoutBox: NIOLockedValueBox<TimeAmount>
    var connectTimeout: TimeAmount {
        get { connectTimeoutBox.withLockedValue { $0 } }
        set { connectTimeoutBox.withLockedValue { $0 = newValue } }
    }
    /// How long a client may take to send what the inbound checks need (first byte, handshake,
    /// request head) before the proxy gives up on it (`MeshFlowRecord.gaveUp`). Envoy's listener
    /// filter timeout is 15 s, Istio's inbound `protocolDetectionTimeout` was 5 s; the prober
    /// raises it to a wave's deadline (`MeshProxy.inboundCheckTimeout`), so that a slow handshake
    /// on a busy machine is waited for as long as the prober waits.
    private let checkTimeoutBox = NIOLockedValueBox<TimeAmount>(.seconds(5))
    var checkTimeout: TimeAmount {
        get { checkTimeoutBox.withLockedValue { $0 } }
        set { checkTimeoutBox.withLockedValue { $0 = newValue } }
    }
    let originalDestination: MeshProxy.OriginalDestination
    let trust: MeshTrust
    /// The namespace the proxy was created in, outside every lab namespace: no upstream socket is
    /// ever born there. (Not `/proc/self/ns/net`: that is the main thread's, which may be inside a
    /// prober's window at that moment.)
    let outsideInode: UInt64
    let attachments = NIOLockedValueBox([ObjectKey: Attachment]())
    private let contexts = NIOLockedValueBox([String: NIOSSLContext]())
    private let rogueSVIDs = NIOLockedValueBox([String: SVID]())

    /// One attached pod: its namespace (held open for connects), address, two listeners, and the
    /// lookup of its conntrack table (`originalPeer(of:pod:)`).
    struct Attachment: Sendable {
        var namespace: String
        var namespaceFD: OwnedDescriptor
        var address: IPv4
        var listeners: [any Channel]
        var conntrack: ConntrackLookup
    }

    init(
        ca: LabCA, cluster: @escaping @Sendable () -> Cluster, intents: MeshIntents, flows: MeshFlowLog, connectTimeout: TimeAmount,
        originalDestination: @escaping MeshProxy.OriginalDestination, outsideInode: UInt64
    ) throws {
        self.outsideInode = outsideInode
        self.ca = ca
        self.rogue = try RogueCA()
        self.cluster = cluster
        self.intents = intents
        self.flows = flows
        self.connectTimeoutBox = NIOLockedValueBox(connectTimeout)
        self.originalDestination = originalDestination
        self.trust = MeshTrust(ca)
    }

    /// The server context of `pod`'s service account (re-issued SVIDs get a new context).
    func serverContext(for pod: Pod) throws -> NIOSSLContext {
        let svid = try ca.issue(namespace: pod.namespace, serviceAccount: pod.serviceAccountName)
        return try context("server|\(svid.certificate.serialNumber)") { try MeshTLS.serverContext(presenting: svid) }
    }

    /// The client context for what a connection presents; nil for plaintext.
    func clientContext(for presented: PresentedIdentity) throws -> NIOSSLContext? {
        let svid: SVID
        switch presented {
        case .plaintext: return nil
        case .mutualTLS(let principal): svid = try ca.issue(uri: "spiffe://\(principal)")
        case .rogue(let uri):
            svid = try rogueSVIDs.withLockedValue { cache in
                if let cached = cache[uri] { return cached }
                let issued = try rogue.issue(uri: uri)
                cache[uri] = issued
                return issued
            }
        }
        return try context("client|\(svid.certificate.serialNumber)") { try MeshTLS.clientContext(presenting: svid) }
    }

    private func context(_ key: String, _ make: () throws -> NIOSSLContext) throws -> NIOSSLContext {
        if let cached = contexts.withLockedValue({ $0[key] }) { return cached }
        let made = try make()
        contexts.withLockedValue { $0[key] = made }
        return made
    }

    /// Connects, from `pod`'s namespace and with the bypass mark, to `address:port` on `loop`.
    /// The socket is created synchronously inside a setns window on the calling thread (NIO's
    /// `connect(to:)` makes it before returning) and stays in that namespace.
    /// - Parameter halfClosure: pass the peer's EOF on as a half-close (plain TCP); a TLS channel
    ///   closes whole (NIOSSL would otherwise wait out its shutdown timeout).
    func connect(
        from pod: ObjectKey, to address: IPv4, port: UInt16, on loop: any EventLoop, halfClosure: Bool = true,
        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) -> EventLoopFuture<any Channel> {
        guard let namespaceFD = attachments.withLockedValue({ $0[pod]?.namespaceFD }) else {
            return loop.makeFailedFuture(MeshProxyError.notAttached(pod))
        }
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(connectTimeout)
            .channelOption(ChannelOptions.socketOption(.init(rawValue: SO_MARK)), value: Int(MeshDataPath.bypassMark))
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: halfClosure)
            .channelInitializer(initializer)
        do {
            let outsideInode = self.outsideInode
            return try NetworkNamespace.perform(inNamespaceFD: namespaceFD.raw) {
                // The socket is born here: this must be the pod's namespace, never the host's
                // (a socket there would route off the machine).
                guard NetworkNamespace.currentInode() != outsideInode else {
                    throw MeshProxyError.notAttached(pod)
                }
                return bootstrap.connect(to: try SocketAddress(ipAddress: address.description, port: Int(port)))
            }
        } catch {
            return loop.makeFailedFuture(error)
        }
    }

    /// Where the peer of `channel` (accepted by a listener of `pod`) sent its connection from: the
    /// source of the original tuple of its entry in the pod's conntrack, looked up by the tuple the
    /// socket sees (local → peer, the entry's reply tuple). The socket's own view is not enough: a
    /// REDIRECT whose reply tuple the entry of a closed connection still holds (TCP CLOSE lingers
    /// 10 s) moves the new connection to another source port (`ConntrackLookup`), and records,
    /// links, intents and the Service hash are all keyed by the port the client bound. The socket's
    /// view stands when conntrack tracks nothing (a test reaching the listener without a redirect).
    /// Nil: the channel has no peer, or the lookup failed (the caller refuses the connection).
    func originalPeer(of channel: any Channel, pod: ObjectKey) -> (address: IPv4, port: UInt16)? {
        guard let peer = channel.remoteAddress, let peerPort = peer.port, let peerIP = peer.ipAddress.flatMap(IPv4.init),
            let local = channel.localAddress, let localPort = local.port, let localIP = local.ipAddress.flatMap(IPv4.init),
            let lookup = attachments.withLockedValue({ $0[pod]?.conntrack })
        else { return nil }
        let seen = PacketFlow(
            source: localIP, destination: peerIP, proto: UInt8(IPPROTO_TCP), sourcePort: UInt16(localPort),
            destinationPort: UInt16(peerPort))
        do {
            guard let tracked = try lookup.connection(tcp: seen) else { return (peerIP, UInt16(peerPort)) }
            // The entry found must be this connection's: its reply tuple is what the socket sees.
            guard tracked.reply == nil || tracked.reply == seen, let port = tracked.original.sourcePort else { return nil }
            return (tracked.original.source, port)
        } catch {
            return nil
        }
    }

    /// Closes `channel` with a TCP reset (SO_LINGER 0), bypassing the pipeline so that a TLS
    /// handler does not wait for the peer's close_notify first.
    static func reset(_ channel: any Channel) {
        guard channel.isActive else { return channel.close(promise: nil) }
        if let provider = channel as? any SocketOptionProvider {
            _ = provider.setSoLinger(linger(l_onoff: 1, l_linger: 0))
        }
        channel._channelCore.close0(error: ChannelError.ioOnClosedChannel, mode: .all, promise: nil)
    }
}

/// Failures of the proxy's own set-up.
public enum MeshProxyError: Error, CustomStringConvertible {
    case notAttached(ObjectKey)
    case alreadyAttached(ObjectKey)
    case notInHostNamespace
    case shutDown

    public var description: String {
        switch self {
        case .notAttached(let pod): "\(pod) is not attached to the mesh proxy"
        case .alreadyAttached(let pod): "\(pod) is attached to the mesh proxy already"
        case .notInHostNamespace: "the mesh proxy must be created from the host network namespace (its event loops live there)"
        case .shutDown: "the mesh proxy is shut down"
        }
    }
}

/// What each connection's handler (`InboundHandler`, `OutboundHandler`) works for: the proxy's
/// shared state and the attached pod with its address.
struct ProxiedPod: Sendable {
    let core: ProxyCore
    let pod: ObjectKey
    let address: IPv4
}
