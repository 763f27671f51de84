import Glibc

/// Sends real packets between lab namespaces: thousands of probes in flight, in waves that run at once
/// on the calling thread and up to `parallelism - 1` more.
///
/// Every socket is created in its source namespace (one setns window per namespace per wave) and its
/// namespace is checked before it connects (`SocketNamespaceGuard`). A wave has one deadline, so denials
/// cost one timeout per wave. Only probes denied by a timeout are retried, again together in one wave:
/// an ICMP error, a local EPERM or a drop the kernel logged (`DropEvidence`) is a definite answer.
/// Call from a thread in the host namespace, outside any `perform(in:)` window.
public struct Prober: Sendable {
    /// Most sockets open at once, all concurrent waves together (each wave holds its share); more
    /// probes than this run in successive groups of waves. The NFLOG receive buffers are sized for it.
    public var maxInFlight: Int
    /// Waves run at once, each on its own thread: the kernel does a connection's work (both ends,
    /// every hop through the lab's veths) on the thread that sends, so one thread uses one core.
    public var parallelism: Int
    /// Fewer probes than this run as one wave on the calling thread (threads cost more than they save).
    static let splitThreshold = 64
    /// The most threads `KEYCARD_PROBE_THREADS` may ask for.
    public static let maximumThreads = 64

    /// - Parameters:
    ///   - maxInFlight: sockets open at once per wave.
    ///   - parallelism: waves at once; by default `KEYCARD_PROBE_THREADS` if set (at most
    ///     `maximumThreads`), else one per online CPU, at most 4.
    public init(maxInFlight: Int = 4000, parallelism: Int? = nil) {
        self.maxInFlight = max(1, maxInFlight)
        // Capped: 100,000 threads fail pthread_create, and more threads than cores only contend.
        let configured = getenv("KEYCARD_PROBE_THREADS").flatMap { Int(String(cString: $0)) }.map { min($0, Self.maximumThreads) }
        self.parallelism = max(1, parallelism ?? configured ?? min(4, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
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
        // Every source namespace opened here, so the waves' threads only read the handles.
        for name in Set(pending.map { requests[$0].sourceNamespace }) { _ = try namespaces.handle(name) }
        let router = evidence.map(EvidenceRouter.init)
        for _ in 0...max(0, retries) where !pending.isEmpty {
            var stillTimedOut: [Int] = []
            // Waves of at most maxInFlight, `parallelism` of them at once (a small probe stays one wave).
            let perWave = max(1, maxInFlight / parallelism)
            let waveCount = max((pending.count + perWave - 1) / perWave, pending.count >= Self.splitThreshold ? parallelism : 1)
            let size = (pending.count + waveCount - 1) / waveCount
            let chunks = stride(from: 0, to: pending.count, by: size).map { Array(pending[$0..<min($0 + size, pending.count)]) }
            for start in stride(from: 0, to: chunks.count, by: parallelism) {
                let group = Array(chunks[start..<min(start + parallelism, chunks.count)])
                // What the listeners hold was logged before these waves' sockets existed.
                try router?.discardQueued()
                // Chunks hold `size` probes but the last: wave w's echo identifiers start after w * size.
                let results = try Self.runAtOnce(group.map { $0.map { requests[$0] } }) { wave, waveRequests throws(KernelError) in
                    try ProbeWave.run(
                        waveRequests, mode: mode, timeout: timeout, namespaces: namespaces, router: router, waveID: wave,
                        echoBase: wave * size)
                }
                for (chunk, verdicts) in zip(group, results) {
                    for (index, verdict) in zip(chunk, verdicts) where record(index, verdict) == .deny(.timeout) {
                        stillTimedOut.append(index)
                    }
                }
            }
            pending = stillTimedOut
        }
    }

    /// Runs `body` for each element of `work` at once, the first on the calling thread and each
    /// other on its own thread; results in order, or the first error.
    private static func runAtOnce(
        _ work: [[ProbeRequest]], _ body: @escaping @Sendable (Int, [ProbeRequest]) throws(KernelError) -> [ProbeVerdict]
    ) throws(KernelError) -> [[ProbeVerdict]] {
        guard work.count > 1 else { return try work.enumerated().map { index, item throws(KernelError) in try body(index, item) } }
        let results = ResultBox(count: work.count)
        let threads = work.indices.dropFirst().map { index in
            OneShotThread { [work] in results.set(index, Result { () throws(KernelError) in try body(index, work[index]) }) }
        }
        results.set(0, Result { () throws(KernelError) in try body(0, work[0]) })
        for thread in threads { thread.join() }
        return try results.values.map { result throws(KernelError) in try result.get() }
    }
}

/// The results of waves run on several threads, each written once by its own thread.
private final class ResultBox: @unchecked Sendable {
    private let lock = PthreadMutex()
    private var slots: [Result<[ProbeVerdict], KernelError>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<[ProbeVerdict], KernelError>) { lock.withLock { slots[index] = result } }

    var values: [Result<[ProbeVerdict], KernelError>] {
        lock.withLock { slots.map { $0 ?? .failure(KernelError("probe wave", subject: "no result", errno: EIO)) } }
    }
}
