/// A copy of what the prober's drop evidence sees, for a flow log of real traffic: every drop the
/// listeners logged (whether a probe wave read it or it was emptied out between waves) and every
/// flow the prober's own sockets made (source address and port from getsockname), so the log can
/// tell the prober's connections from other programs'. Thread-safe: waves on several threads
/// record into it; the run takes it out between steps.
public final class EvidenceTap: @unchecked Sendable {
    /// A drop the kernel logged, with the namespace whose listener read it.
    public struct Drop: Sendable, Hashable {
        public var namespace: String
        public var packet: LoggedPacket
    }

    private let lock = PthreadMutex()
    private var drops: [Drop] = []
    private var proberFlows: Set<PacketFlow> = []

    public init() {}

    func logged(_ packets: [LoggedPacket], namespace: String) {
        guard !packets.isEmpty else { return }
        lock.withLock { drops += packets.map { Drop(namespace: namespace, packet: $0) } }
    }

    func owned(_ flow: PacketFlow) {
        _ = lock.withLock { proberFlows.insert(flow) }
    }

    /// Whether the prober made `flow` (recorded since the last `takeProberFlows`).
    public func isProber(_ flow: PacketFlow) -> Bool { lock.withLock { proberFlows.contains(flow) } }

    /// The drops recorded so far, oldest first; forgotten here.
    public func takeDrops() -> [Drop] {
        lock.withLock {
            defer { drops = [] }
            return drops
        }
    }

    /// Forgets the prober's flows recorded so far (once their connections have been read).
    public func forgetProberFlows() { lock.withLock { proberFlows = [] } }
}

extension NflogListener {
    /// Every packet logged since the last read (`drain`), as drops read in this listener's namespace.
    public func drainDrops() throws(KernelError) -> [EvidenceTap.Drop] {
        try drain().map { EvidenceTap.Drop(namespace: namespace, packet: $0) }
    }
}
