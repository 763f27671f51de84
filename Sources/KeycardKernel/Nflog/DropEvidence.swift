/// The kernel's word on dropped packets: one NFLOG listener in each lab namespace whose drop rules log to
/// `group`. Open it once per run (from the host namespace), hand it to the prober for every step; the
/// sockets close when it is released.
public final class DropEvidence {
    public let group: UInt16
    public let listeners: [NflogListener]
    /// Gets a copy of every packet drained and every flow the prober owns (a flow log of real
    /// traffic, `EvidenceTap`); nil: nothing is copied.
    public var tap: EvidenceTap?

    /// Opens a listener in every namespace (duplicates once); fails if any cannot be opened.
    public init(namespaces: [String], group: UInt16) throws(KernelError) {
        self.group = group
        var seen: Set<String> = []
        var listeners: [NflogListener] = []
        for namespace in namespaces where seen.insert(namespace).inserted {
            listeners.append(try NflogListener(namespace: namespace, group: group))
        }
        self.listeners = listeners
    }

    /// Evidence lost so far (receive-buffer overruns, unparsable messages), across listeners.
    public var lost: Int { listeners.reduce(0) { $0 + $1.lost } }

    /// Reads and discards whatever is queued, so packets logged earlier (a previous wave's) cannot
    /// settle probes that start now.
    func discardQueued() throws(KernelError) {
        for listener in listeners {
            // Drained whether or not a tap copies it (`tap?.f(try drain())` would skip the drain).
            let packets = try listener.drain()
            tap?.logged(packets, namespace: listener.namespace)
        }
    }

    /// Reads what is queued into `tap` (between waves, when no wave drains the listeners).
    public func drainIntoTap() throws(KernelError) {
        guard tap != nil else { return }
        try discardQueued()
    }
}
