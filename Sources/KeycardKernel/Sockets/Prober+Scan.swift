import KeycardValues

/// One target of a TCP connect scan.
public struct ScanTarget: Sendable, Hashable {
    public var address: IPv4
    public var port: UInt16

    public init(address: IPv4, port: UInt16) {
        self.address = address
        self.port = port
    }
}

/// A TCP connect scan's answer for one target.
extension Prober {
    /// TCP connect scan from `namespace` over `targets`: results in target order. Only the handshake is
    /// awaited, so any TCP service shows as open, not just keycard's servers. With `evidence`, a target
    /// whose SYN the kernel logged as dropped shows as filtered at once.
    public func scan(
        from namespace: String, targets: [ScanTarget], timeout: Duration = .seconds(1), retries: Int = 0,
        evidence: DropEvidence? = nil
    ) throws(KernelError) -> [ScanState] {
        try raiseOpenFileLimit()
        let requests = targets.map {
            ProbeRequest(sourceNamespace: namespace, destination: $0.address, proto: .tcp, port: $0.port)
        }
        var verdicts = [ProbeVerdict](repeating: .deny(.timeout), count: requests.count)
        var pending = Array(requests.indices)
        let namespaces = NamespaceHandles()
        for _ in 0...max(0, retries) where !pending.isEmpty {
            for start in stride(from: 0, to: pending.count, by: maxInFlight) {
                let chunk = Array(pending[start..<min(start + maxInFlight, pending.count)])
                let answers = try ProbeWave.run(
                    chunk.map { requests[$0] }, mode: .handshake, timeout: timeout, namespaces: namespaces, evidence: evidence)
                for (index, verdict) in zip(chunk, answers) { verdicts[index] = verdict }
            }
            pending = pending.filter { verdicts[$0] == .deny(.timeout) }
        }
        return verdicts.map { verdict in
            switch verdict {
            case .allow: .open
            case .closed: .closed
            case .deny, .skipped: .filtered
            }
        }
    }
}
