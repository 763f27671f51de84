import Glibc
import KeycardKernel
import KeycardModel
import KeycardValues
import NIOCore
import NIOPosix

/// The lab's mesh proxy, ztunnel style: one per lab, in the keycard process, serving every meshed
/// pod from one event loop group with sockets opened inside each pod's network namespace
/// (spec mesh.md 2.8; `docs/mesh-data-plane.md`).
///
/// Per attached pod it listens on `MeshDataPath.outboundPort` (15001: the pod's own outbound TCP,
/// redirected there by the lab's nat rules), `MeshDataPath.inboundPort` (15006: TCP arriving at
/// the pod) and `MeshDataPath.hbonePort` (15008: HBONE tunnels from other meshed pods, never
/// redirected: the hop really goes to that port, so NetworkPolicy judges it). Every socket it opens carries `MeshDataPath.bypassMark`, which the redirection lets
/// pass. Decisions use the model's engines (`MeshRoute`, `Cluster.mutualTLSMode`,
/// `AuthorizationEngine`) on the connection's real attributes, read from `cluster()` at each
/// connection, and every outcome is written to `flows`.
///
/// Create it from the host namespace before any namespace work: its event loop threads are born
/// where it is created and must never live in a lab namespace.
public final class MeshProxy: Sendable {
    /// Finds the destination a redirected connection was sent to before the redirect (address and
    /// port). The default reads `SO_ORIGINAL_DST` (`MeshSocketOptions`' option) off the accepted
    /// socket; tests that reach a listener straight pass a fixed answer.
    public typealias OriginalDestination = @Sendable (_ accepted: any Channel) -> EventLoopFuture<(address: IPv4, port: UInt16)>

    /// Listen backlog of each capture port (the kernel caps it at the namespace's somaxconn).
    public static let backlog: Int32 = 4096

    public let labName: String
    private let core: ProxyCore
    private let group: MultiThreadedEventLoopGroup

    /// - Parameters:
    ///   - labName: the lab this proxy serves (for messages).
    ///   - ca: the lab CA: SVIDs of destinations and of meshed clients, and the trust bundle.
    ///   - cluster: the current model cluster (the run changes it step by step).
    ///   - intents: what each prober connection presents (default `MeshRequest()`).
    ///   - flows: where every connection's outcome is recorded.
    ///   - connectTimeout: upstream connect timeout (1 s): a NetworkPolicy drop shows as `deny`.
    ///   - threads: event loop threads (2: this machine's cores).
    ///   - originalDestination: the seam for `SO_ORIGINAL_DST` (see the typealias).
    /// - Throws: `MeshProxyError.notInHostNamespace` when the calling thread is not in the process's
    ///   own namespace (it is inside a lab namespace window).
    public init(
        labName: String, ca: LabCA, cluster: @escaping @Sendable () -> Cluster, intents: MeshIntents, flows: MeshFlowLog,
        connectTimeout: TimeAmount = .seconds(1), threads: Int = 2, originalDestination: OriginalDestination? = nil
    ) throws {
        let here = NetworkNamespace.currentInode()
        guard here == NetworkNamespace.processInode() || here == NetworkNamespace.hostInode() else {
            throw MeshProxyError.notInHostNamespace
        }
        self.labName = labName
        core = try ProxyCore(
            ca: ca, cluster: cluster, intents: intents, flows: flows, connectTimeout: connectTimeout,
            originalDestination: originalDestination ?? Self.kernelOriginalDestination, outsideInode: here)
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
    }

    /// The upstream connect timeout of connections accepted from now on: a probe wave of many
    /// connections sets it to half its deadline, so that a slow upstream answer on a busy machine
    /// is not taken for a NetworkPolicy drop (a fixed half second had been).
    public var upstreamConnectTimeout: TimeAmount {
        get { core.connectTimeout }
        set { core.connectTimeout = newValue }
    }

    /// How long the inbound side waits, for connections accepted from now on, for what its checks
    /// need before it gives up (5 s at first; `ProxyCore.checkTimeout`).
    public var inboundCheckTimeout: TimeAmount {
        get { core.checkTimeout }
        set { core.checkTimeout = newValue }
    }

    /// Starts serving `pod` (address `address`) inside network namespace `/run/netns/<namespace>`:
    /// the three listeners (15001, 15006, and 15008 for HBONE tunnels) are bound in one setns
    /// window, then adopted by the event loops.
    /// - Throws: `KernelError` (namespace, socket, bind, the conntrack lookup's netlink socket),
    ///   `MeshProxyError.alreadyAttached`.
    public func attach(pod: ObjectKey, namespace: String, address: IPv4) throws {
        if core.attachments.withLockedValue({ $0[pod] != nil }) { throw MeshProxyError.alreadyAttached(pod) }
        let namespaceFD = try NetworkNamespace.openDescriptor(namespace)
        let fds: [Int32] = try NetworkNamespace.perform(inNamespaceFD: namespaceFD.raw) {
            var opened: [Int32] = []
            do {
                // Outbound on loopback only: the capture maps there, and no other pod can reach it.
                opened.append(try Self.listeningSocket(port: MeshDataPath.outboundPort, loopback: true))
                opened.append(try Self.listeningSocket(port: MeshDataPath.inboundPort))
                opened.append(try Self.listeningSocket(port: MeshDataPath.hbonePort))
                return opened
            } catch {
                for fd in opened { close(fd) }
                throw error
            }
        }
        let conntrack: ConntrackLookup
        do {
            conntrack = try ConntrackLookup(namespace: namespace)
        } catch {
            for fd in fds { close(fd) }
            throw error
        }
        let proxied = ProxiedPod(core: core, pod: pod, address: address)
        var listeners: [any Channel] = []
        do {
            for (index, fd) in fds.enumerated() {
                let inbound = index > 0
                let tunnel = index == 2
                let channel = try ServerBootstrap(group: group)
                    .serverChannelOption(ChannelOptions.backlog, value: Self.backlog)
                    .childChannelOption(ChannelOptions.autoRead, value: false)
                    .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            if inbound {
                                try channel.pipeline.syncOperations.addHandler(InboundHandler(proxied, tunnel: tunnel))
                            } else {
                                try channel.pipeline.syncOperations.addHandler(OutboundHandler(proxied))
                            }
                        }
                    }
                    .withBoundSocket(fd).wait()
                // NIO listens with its own backlog when adopting a bound socket: set ours again.
                _ = Glibc.listen(fd, Self.backlog)
                listeners.append(channel)
            }
        } catch {
            for channel in listeners { try? channel.close().wait() }
            for fd in fds.dropFirst(listeners.count) { close(fd) }
            throw error
        }
        core.attachments.withLockedValue {
            $0[pod] = ProxyCore.Attachment(
                namespace: namespace, namespaceFD: namespaceFD, address: address, listeners: listeners, conntrack: conntrack)
        }
    }

    /// Stops serving `pod`: closes its listeners (connections in flight run to their end).
    public func detach(pod: ObjectKey) {
        guard let attachment = core.attachments.withLockedValue({ $0.removeValue(forKey: pod) }) else { return }
        for channel in attachment.listeners { try? channel.close().wait() }
        attachment.namespaceFD.close()
    }

    /// The pods attached now.
    public var attachedPods: [ObjectKey] { core.attachments.withLockedValue { Array($0.keys) }.sorted() }

    /// Closes every listener and connection and stops the event loops, synchronously. Idempotent.
    public func shutdown() {
        // Listeners first, then the event loops, and only then the namespace descriptors: a
        // connect on a loop must never setns into a descriptor number closed (and reused) under it.
        let attachments = core.attachments.withLockedValue { attachments in
            defer { attachments = [:] }
            return Array(attachments.values)
        }
        for attachment in attachments {
            for channel in attachment.listeners { try? channel.close().wait() }
        }
        try? group.syncShutdownGracefully()
        for attachment in attachments { attachment.namespaceFD.close() }
    }

    /// socket, SO_REUSEADDR, SO_MARK, bind 0.0.0.0:`port`, listen: in the calling thread's namespace.
    static func listeningSocket(port: UInt16, loopback: Bool = false) throws(KernelError) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw KernelError("socket", subject: "mesh proxy :\(port)", errno: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        do {
            try MeshSocketOptions.setMark(fd)
        } catch {
            close(fd)
            throw error
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr = in_addr(s_addr: loopback ? UInt32(0x7F00_0001).bigEndian : INADDR_ANY)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, backlog) == 0 else {
            let code = errno
            close(fd)
            throw KernelError("bind", subject: "mesh proxy \(loopback ? "127.0.0.1" : "0.0.0.0"):\(port)", errno: code)
        }
        return fd
    }

    /// `SO_ORIGINAL_DST` (SOL_IP, 80) of the accepted socket, read on its event loop.
    public static let kernelOriginalDestination: OriginalDestination = { channel in
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(ChannelError.operationUnsupported)
        }
        // SO_ORIGINAL_DST is 80 in <linux/netfilter_ipv4.h> (as in MeshSocketOptions).
        let future: EventLoopFuture<sockaddr_in> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_IP), name: SocketOptionName(80))
        return future.map { addr in (IPv4(UInt32(bigEndian: addr.sin_addr.s_addr)), UInt16(bigEndian: addr.sin_port)) }
    }

    /// An `OriginalDestination` that always answers `address:port` (tests reaching 15006 straight).
    public static func fixedOriginalDestination(_ address: IPv4, _ port: UInt16) -> OriginalDestination {
        { channel in channel.eventLoop.makeSucceededFuture((address, port)) }
    }
}
