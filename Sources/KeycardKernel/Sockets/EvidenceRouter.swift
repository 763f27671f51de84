import Glibc

/// Drop evidence shared by probe waves that run at once on several threads. NFLOG takes one
/// listener per group and namespace, so the waves cannot each have their own: every wave watches
/// every listener, the one that drains a listener (one drain at a time) settles its own probes and
/// hands each other wave's packets to that wave's inbox, waking it through its eventfd.
final class EvidenceRouter: @unchecked Sendable {
    /// A probe the kernel logged as dropped: its slot in its wave and the log prefix.
    struct Settlement: Sendable {
        let slot: Int
        let prefix: String
    }

    let evidence: DropEvidence
    private let lock = PthreadMutex()
    private var owners: [PacketFlow: (wave: Int, slot: Int)] = [:]
    private var inboxes: [Int: [Settlement]] = [:]
    private var wakers: [Int: Int32] = [:]
    /// Drops logged before their wave registered the flow: a wave can drain a listener while
    /// another is still connecting (the kernel logs the drop inside connect(), before the flow is
    /// known to the router). Kept until the flow is owned or the listeners are emptied.
    private var orphans: [PacketFlow: String] = [:]

    init(_ evidence: DropEvidence) { self.evidence = evidence }

    /// Reads and discards what the listeners hold (packets logged before the waves about to start).
    func discardQueued() throws(KernelError) {
        let result: Result<Void, KernelError> = lock.withLock {
            orphans = [:]
            do throws(KernelError) {
                try evidence.discardQueued()
                return .success(())
            } catch { return .failure(error) }
        }
        try result.get()
    }

    /// Wave `wave` takes part; `wakeFD` (an eventfd) is written when packets arrive for it.
    func join(wave: Int, wakeFD: Int32) {
        lock.withLock {
            wakers[wave] = wakeFD
            inboxes[wave] = []
        }
    }

    /// Wave `wave` is over: its flows and inbox are forgotten.
    func leave(wave: Int) {
        lock.withLock {
            wakers[wave] = nil
            inboxes[wave] = nil
            owners = owners.filter { $0.value.wave != wave }
        }
    }

    /// The packet with `flow` belongs to slot `slot` of wave `wave`. A drop already logged for it
    /// goes to the wave's inbox at once.
    func own(_ flow: PacketFlow, wave: Int, slot: Int) {
        evidence.tap?.owned(flow)
        lock.withLock {
            owners[flow] = (wave, slot)
            guard let prefix = orphans.removeValue(forKey: flow), inboxes[wave] != nil else { return }
            inboxes[wave, default: []].append(Settlement(slot: slot, prefix: prefix))
            if let fd = wakers[wave] {
                var one: UInt64 = 1
                _ = write(fd, &one, MemoryLayout<UInt64>.size)
            }
        }
    }

    /// Drains listener `index`: returns what settles `wave`'s probes, forwards the rest to the
    /// waves they belong to; packets of no current probe are ignored.
    func drain(listener index: Int, for wave: Int) throws(KernelError) -> [Settlement] {
        let result: Result<[Settlement], KernelError> = lock.withLock {
            guard evidence.listeners.indices.contains(index) else { return .success([]) }
            let packets: [LoggedPacket]
            do throws(KernelError) {
                packets = try evidence.listeners[index].drain()
            } catch { return .failure(error) }
            evidence.tap?.logged(packets, namespace: evidence.listeners[index].namespace)
            var mine: [Settlement] = []
            var woken: Set<Int> = []
            for packet in packets {
                guard let flow = packet.flow else { continue }
                guard let owner = owners[flow] else {
                    orphans[flow] = packet.prefix
                    continue
                }
                let settlement = Settlement(slot: owner.slot, prefix: packet.prefix)
                if owner.wave == wave {
                    mine.append(settlement)
                } else if inboxes[owner.wave] != nil {
                    inboxes[owner.wave, default: []].append(settlement)
                    woken.insert(owner.wave)
                }
            }
            for other in woken {
                guard let fd = wakers[other] else { continue }
                var one: UInt64 = 1
                _ = write(fd, &one, MemoryLayout<UInt64>.size)
            }
            return .success(mine)
        }
        return try result.get()
    }

    /// What other waves forwarded to `wave` since it last looked.
    func takeInbox(wave: Int) -> [Settlement] {
        lock.withLock {
            let taken = inboxes[wave] ?? []
            if inboxes[wave] != nil { inboxes[wave] = [] }
            return taken
        }
    }
}
