import KeycardValues

/// One target of a TCP connect scan.
public struct ScanTarget: Sendable, Hashable {
    public var address: IPv4
    public var port: UInt16
    /// The source port to connect from (a Service's proxy picks the backend by it); nil: any.
    public var sourcePort: UInt16?
    /// The backend address and port a Service address is translated to, when the source port aims
    /// at one (`ProbeRequest.translated`): the backend's drop is logged with them.
    public var backend: IPv4?
    public var backendPort: UInt16?
    /// The node address the path source-NATs the connection to (`ProbeRequest.sourceNAT`).
    public var sourceNAT: IPv4?

    public init(
        address: IPv4, port: UInt16, sourcePort: UInt16? = nil, backend: IPv4? = nil, backendPort: UInt16? = nil,
        sourceNAT: IPv4? = nil
    ) {
        self.address = address
        self.port = port
        self.sourcePort = sourcePort
        self.backend = backend
        self.backendPort = backendPort
        self.sourceNAT = sourceNAT
    }

    /// The connect-only request that scans this target from `namespace`, its translation known so
    /// that a drop the kernel logged after the Service's DNAT settles it at once.
    public func request(from namespace: String) -> ProbeRequest {
        var request = ProbeRequest(sourceNamespace: namespace, destination: address, proto: .tcp, port: port, sourcePort: sourcePort)
        if let backend { request.translated = (backend, backendPort ?? port) }
        request.sourceNAT = sourceNAT
        return request
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
        let requests = targets.map { $0.request(from: namespace) }
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
