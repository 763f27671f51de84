/// Sends real packets between lab namespaces: thousands of probes in flight from the calling thread.
///
/// Every socket is created in its source namespace (one setns window per namespace per wave) and its
/// namespace is checked before it connects (`SocketNamespaceGuard`). A wave has one deadline, so denials
/// cost one timeout per wave. Only probes denied by a timeout are retried, again together in one wave:
/// an ICMP error, a local EPERM or a drop the kernel logged (`DropEvidence`) is a definite answer.
/// Call from a thread in the host namespace, outside any `perform(in:)` window.
public struct Prober: Sendable {
    /// Most sockets open at once; more probes than this run in successive waves.
    public var maxInFlight: Int

    public init(maxInFlight: Int = 4000) {
        self.maxInFlight = max(1, maxInFlight)
    }

    /// Probes every request; outcomes in request order.
    /// - Parameters:
    ///   - timeout: the deadline of each wave (a UDP datagram is resent once halfway).
    ///   - retries: extra waves for the probes that timed out.
    ///   - evidence: NFLOG listeners in the namespaces where drops happen; a probe whose packet they report
    ///     dropped is denied at once (`.dropLogged`), the timeout still covers the rest.
    public func probe(
        _ probes: [ProbeRequest], timeout: Duration = .seconds(1), retries: Int = 0, evidence: DropEvidence? = nil
    ) throws(KernelError) -> [ProbeOutcome] {
        try raiseOpenFileLimit()
        var outcomes = probes.map { request in
            request.proto == .sctp
                ? ProbeOutcome(verdict: .skipped("kernel has no SCTP"), attempts: 0)
                : ProbeOutcome(verdict: .deny(.timeout), attempts: 0)
        }
        try waves(
            probes, probes.indices.filter { probes[$0].proto != .sctp }, mode: .readLine, timeout: timeout, retries: retries,
            evidence: evidence
        ) { index, verdict in
            outcomes[index].verdict = verdict
            outcomes[index].attempts += 1
            return verdict
        }
        return outcomes
    }

    /// Runs `requests[pending]` in waves of at most `maxInFlight`, then again for those still timed
    /// out, `retries` more times. `record` stores a verdict and returns it (to decide on a retry).
    func waves(
        _ requests: [ProbeRequest], _ pending: [Int], mode: ProbeWave.Mode, timeout: Duration, retries: Int,
        evidence: DropEvidence?, record: (Int, ProbeVerdict) -> ProbeVerdict
    ) throws(KernelError) {
        var pending = pending
        let namespaces = NamespaceHandles()
        for _ in 0...max(0, retries) where !pending.isEmpty {
            var stillTimedOut: [Int] = []
            for start in stride(from: 0, to: pending.count, by: maxInFlight) {
                let chunk = Array(pending[start..<min(start + maxInFlight, pending.count)])
                let verdicts = try ProbeWave.run(
                    chunk.map { requests[$0] }, mode: mode, timeout: timeout, namespaces: namespaces, evidence: evidence)
                for (index, verdict) in zip(chunk, verdicts) where record(index, verdict) == .deny(.timeout) {
                    stillTimedOut.append(index)
                }
            }
            pending = stillTimedOut
        }
    }
}
