import KeycardValues

/// One target of a TCP connect scan.
public struct ScanTarget: Sendable, Hashable {
    public var address: IPv4
    public var port: UInt16
    /// The source port to connect from (a Service's proxy picks the backend by it); nil: any.
    public var sourcePort: UInt16?

    public init(address: IPv4, port: UInt16, sourcePort: UInt16? = nil) {
        self.address = address
        self.port = port
        self.sourcePort = sourcePort
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
            ProbeRequest(sourceNamespace: namespace, destination: $0.address, proto: .tcp, port: $0.port, sourcePort: $0.sourcePort)
        }
        var verdicts = [ProbeVerdict](repeating: .deny(.timeout), count: requests.count)
        try waves(
            requests, Array(requests.indices), mode: .handshake, timeout: timeout, retries: retries, evidence: evidence
        ) { index, verdict in
            verdicts[index] = verdict
            return verdict
        }
        return verdicts.map { verdict in
            switch verdict {
            case .allow: .open
            case .closed: .closed
            case .unanswered, .deny, .skipped: .filtered
            }
        }
    }
}
