import KeycardCompiler
import KeycardKernel
import KeycardModel
import KeycardScenario
import KeycardTopology
import KeycardValues

/// Real packets: every probe socket is created inside the source pod's namespace (and checked to
/// be there before it connects), all probes of a step in flight at once.
public struct SocketProbeRunner: ProbeRunner {
    /// The network namespace of each pod.
    public let namespaces: [ObjectKey: String]
    /// Where each endpoint can be reached.
    public let addresses: (Endpoint) -> IPv4?
    public let prober: Prober
    /// Pods whose ports a real program serves (`command:`): a TCP handshake is their answer, as
    /// they do not write keycard's line.
    public var programPods: Set<ObjectKey>
    /// NFLOG listeners where drops happen (`evidenceNamespaces`): a logged drop denies a probe at once
    /// instead of after the timeout. Nil: denials are timeouts and socket errors only.
    public var evidence: DropEvidence?
    /// Source ports that send a Service probe to each backend in turn; nil: no Services.
    public var services: ServiceAim?

    public init(
        namespaces: [ObjectKey: String], addresses: @escaping @Sendable (Endpoint) -> IPv4?, programPods: Set<ObjectKey> = [],
        prober: Prober = Prober(), evidence: DropEvidence? = nil
    ) {
        self.namespaces = namespaces
        self.addresses = addresses
        self.programPods = programPods
        self.prober = prober
        self.evidence = evidence
    }

    /// The namespaces whose drop rules can drop a probe silently: every pod's (its input chain) in pod
    /// placement — an egress drop in the source's output chain already fails connect() with EPERM —
    /// and every node's (the forward chain) in node placement.
    public static func evidenceNamespaces(_ plan: LabPlan, enforcement: Enforcement) -> [String] {
        switch enforcement {
        case .pod: plan.pods.map(\.netns)
        case .node: plan.nodes.map(\.namespace)
        }
    }

    /// Opens NFLOG listeners on `PolicyCompiler.dropLogGroup` in those namespaces; once per run.
    public static func openEvidence(_ plan: LabPlan, enforcement: Enforcement) throws -> DropEvidence {
        try DropEvidence(namespaces: evidenceNamespaces(plan, enforcement: enforcement), group: PolicyCompiler.dropLogGroup)
    }

    private func aimsAtProgram(_ endpoint: Endpoint) -> Bool {
        if case .service(_, let backend?) = endpoint { return programPods.contains(backend) }
        return false
    }

    private func runsProgram(_ endpoint: Endpoint) -> Bool {
        if case .pod(let key) = endpoint { return programPods.contains(key) }
        return false
    }

    public func observe(_ cells: [ProbeCell], settings: ProbeSettings) throws -> [CellObservation] {
        var requests: [ProbeRequest] = []
        var usedPorts: [String: Set<UInt16>] = [:]
        for cell in cells {
            guard let namespace = namespaces[cell.from], let ip = addresses(cell.to) else {
                throw ProbeError.unknownEndpoint("\(cell.from) -> \(cell.to)")
            }
            var request = ProbeRequest(
                sourceNamespace: namespace, destination: ip,
                proto: cell.port.proto, port: UInt16(cell.port.port),
                handshakeOnly: runsProgram(cell.to))
            if case .service(_, let backend?) = cell.to {
                guard let aimed = services?.aim(cell.to, cell.port, used: &usedPorts[namespace, default: []]) else {
                    throw ProbeError.unknownEndpoint("\(cell.from) -> \(cell.to): no source port reaches that backend")
                }
                request.sourcePort = aimed.sourcePort
                request.translated = (aimed.backend.address, UInt16(aimed.backend.target.port))
                request.handshakeOnly = programPods.contains(backend)
            }
            requests.append(request)
        }
        let outcomes = try prober.probe(
            requests, timeout: .milliseconds(settings.timeoutMilliseconds), retries: settings.retries, evidence: evidence)
        return zip(cells, outcomes).map { cell, outcome in
            switch outcome.verdict {
            case .allow(let line):
                // A Service cell is answered by the backend it aimed at.
                let expected: String = if case .service(_, let backend?) = cell.to { backend.description } else { cell.to.description }
                // A line naming another endpoint means traffic went somewhere it should not.
                let reason =
                    line == expected || cell.to == .pod(cell.from) || runsProgram(cell.to) || aimsAtProgram(cell.to)
                    ? nil : "answered by \"\(line)\""
                return CellObservation(.allow, attempts: outcome.attempts, reason: reason)
            case .closed: return CellObservation(.closed, attempts: outcome.attempts)
            case .deny(let why): return CellObservation(.deny, attempts: outcome.attempts, reason: why.description)
            case .skipped(let why): return CellObservation(.skipped, attempts: outcome.attempts, reason: why)
            }
        }
    }

    public func scan(from source: ObjectKey, _ targets: [ScanProbe], settings: ProbeSettings) throws -> [ScanState] {
        guard let namespace = namespaces[source] else { throw ProbeError.unknownEndpoint(source.description) }
        return try prober.scan(
            from: namespace, targets: targets.map { ScanTarget(address: $0.ip, port: UInt16($0.port)) },
            timeout: .milliseconds(settings.timeoutMilliseconds), retries: settings.retries, evidence: evidence)
    }
}

/// A probe that cannot be made.
public enum ProbeError: Error, CustomStringConvertible {
    case unknownEndpoint(String)

    public var description: String {
        switch self {
        case .unknownEndpoint(let what): "no lab namespace or address for \(what)"
        }
    }
}
