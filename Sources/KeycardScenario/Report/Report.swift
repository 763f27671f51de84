import KeycardModel
import KeycardValues

/// The report of a scenario run (or, from the model alone, of what it would be): the JSON shape of
/// `keycard run -o json` and `keycard model -o json`.
public struct Report: Codable, Sendable {
    public var scenario: String
    public var enforcement: Enforcement
    public var passed: Bool
    public var steps: [StepReport]
    /// The NodePort and LoadBalancer Services the resources create, as `Service.exposureText`
    /// says them (node ports, `status.loadBalancer.ingress`); absent when there are none.
    public var services: [String]?
}

extension Report {
    /// The report of `timeline`'s scenario run with `enforcement`: it passes when every step did, and
    /// lists the Services the initial cluster exposes (`Cluster.reportedExposure`).
    public init(_ timeline: Timeline, enforcement: Enforcement, steps: [StepReport]) {
        self.init(
            scenario: timeline.scenario.name, enforcement: enforcement, passed: steps.allSatisfy(\.passed), steps: steps,
            services: timeline.initial.reportedExposure(
                pending: timeline.scenario.fromManifests ? Service.manifestsPending : Service.scenarioPending))
    }
}

/// One step's part of the report: what it did, its probe results and whether it passed.
public struct StepReport: Codable, Sendable {
    public var index: Int
    public var name: String?
    public var kind: Step.Kind
    public var passed: Bool
    public var results: [ResultRecord]?
    /// One line for people: counts, failures, blast radius.
    public var summary: String?
    /// Audit mode: per policy, the cells of this step enforcement would have denied.
    public var audit: [AuditedPolicy]?
    /// Per staged policy (Calico StagedKubernetesNetworkPolicy), the cells of this step it would
    /// deny if enforced (never enforced).
    public var staged: [AuditedPolicy]?
}

extension StepReport {
    /// The report of `step` (its index, name and kind): whether it passed, its results, one line for people.
    public init(_ step: Step, passed: Bool, results: [ResultRecord]? = nil, summary: String? = nil) {
        self.init(index: step.index, name: step.name, kind: step.kind, passed: passed, results: results, summary: summary)
    }

    /// Why nothing of this step was tested, when it probed and every cell was skipped (SCTP, which
    /// this kernel cannot send): the first cell's reason. Such a step passes (the model's verdicts
    /// stand), and the TAP and JUnit renderers mark it skipped (`# SKIP`, `<skipped/>`) rather than
    /// count it as proven. A `dns` step whose query is not judged (`DNSResult.reason`) is skipped
    /// the same way. Nil for any step that sent a packet, holds no probe cell, or failed (a
    /// wrong expectation is a failure whatever was sent: TAP's SKIP would hide it).
    public var skipReason: String? {
        guard passed else { return nil }
        if case .dns(let result) = results?.first, let reason = result.reason { return reason }
        let cells = (results ?? []).compactMap { record -> ProbeResult? in
            if case .probe(let result) = record { return result }
            return nil
        }
        guard !cells.isEmpty, cells.allSatisfy({ $0.observed == .skipped }) else { return nil }
        return cells[0].reason ?? "skipped"
    }
}

/// A probe cell or a scanned endpoint.
public enum ResultRecord: Codable, Sendable {
    case probe(ProbeResult)
    case scan(ScanResult)
    case dns(DNSResult)

    private enum DNSKeys: String, CodingKey { case name, server }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: ProbeResult.CodingKeys.self)
        if try decoder.container(keyedBy: DNSKeys.self).contains(.server) {
            self = .dns(try DNSResult(from: decoder))
        } else if container.contains(.expected) || !container.contains(.ip) {
            self = .probe(try ProbeResult(from: decoder))
        } else {
            self = .scan(try ScanResult(from: decoder))
        }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .probe(let result): try result.encode(to: encoder)
        case .scan(let result): try result.encode(to: encoder)
        case .dns(let result): try result.encode(to: encoder)
        }
    }
}

/// What a probe cell must show: the file's expectation, or the model's verdict.
public enum ExpectedOutcome: String, Codable, Sendable {
    case allow
    case deny
    case denyMTLS = "deny-mtls"
    case denyRBAC = "deny-rbac"
    /// Not checked (a pod probing itself, unless listed).
    case ignored

    public init(_ decision: Decision) {
        switch decision {
        case .allow: self = .allow
        case .deny: self = .deny
        case .denyMTLS: self = .denyMTLS
        case .denyRBAC: self = .denyRBAC
        }
    }

    /// The decision expected; nil when the cell is not checked.
    public var decision: Decision? {
        switch self {
        case .allow: .allow
        case .deny: .deny
        case .denyMTLS: .denyMTLS
        case .denyRBAC: .denyRBAC
        case .ignored: nil
        }
    }
}

/// One probe cell: typed values, written out as strings and numbers only when encoded (`from`,
/// `to`, `port`, `protocol`, `expected`, `model`, `observed`, `attempts`, `reason`).
public struct ProbeResult: Codable, Sendable, Equatable {
    public var from: ObjectKey
    public var to: Endpoint
    public var port: ProtocolPort
    public var expected: ExpectedOutcome
    public var model: Decision
    public var observed: Observation?
    public var attempts: Int?
    /// Why a probe was skipped or how a deny was seen.
    public var reason: String?
    /// How the mesh refused (`plaintext-refused`, `bad-certificate`, `http-403`, `reset`).
    public var detail: String?
    /// The mesh's chain (spec mesh.md 2.5), when the scenario uses the mesh.
    public var mesh: MeshRecord?
    /// When the probe named a workload (`ns/deployment/web`): the cell is this replica's share of
    /// the workload cell, which passes only when every replica's does. `from`/`to` name the replica.
    public var fromWorkload: WorkloadKey?
    public var toWorkload: WorkloadKey?
    /// A Service cell's port on the backend it reached (`targetPort` resolved on that pod); `port`
    /// is the Service port. Encoded with `service` (`svc/ns/name`) and `backend` (`ns/pod`), which
    /// repeat the two halves of `to` (`svc/ns/name>ns/pod`) for readers of the JSON.
    public var targetPort: Int?
    /// The NetworkPolicy rules that allowed it (`ns/policy#ingress[0]`, every one on each isolated
    /// side), or the isolating policies of the side that denied it (`ns/policy#egress`): see
    /// `RuleAttribution`. Nil when no policy selects either end.
    public var rule: String?
    /// Whether the kernel confirmed the model's verdict (`RuleAttribution.confirmed`): a logged drop
    /// by the denying side's rule, or an accepted connection. Nil when not observed.
    public var confirmed: Bool?
    /// Audit mode: `would-deny` when enforcement would have dropped it (the lab let it through).
    public var audit: String?
    /// `would-deny` / `would-allow` when enforcing the staged policies (Calico
    /// StagedKubernetesNetworkPolicy) would change the model's decision.
    public var staged: String?
    /// True for an ICMP cell a policy judged (`Verdict.implementationDefined`): the API leaves it
    /// to the network plugin; keycard's verdict is the common behaviour. Nil otherwise.
    public var implementationDefined: Bool?
    /// Through a node port or load balancer with externalTrafficPolicy Cluster to another node's
    /// endpoint: the node address the backend's policies see (`ProbeCell.sourceNAT`).
    public var sourceNAT: IPv4?
    /// True when the lab could not tell what happened (a mesh proxy gave up before deciding, or a
    /// connection ended without any record): `observed` is then `deny` with a `reason` starting
    /// "lab error", and the cell fails whatever was expected. Nil otherwise.
    public var labError: Bool?

    public enum CodingKeys: String, CodingKey {
        case from, to, port, `protocol`, expected, model, observed, attempts, reason, ip, detail, mesh, fromWorkload, toWorkload
        case service, backend, targetPort, rule, confirmed, audit, staged, implementationDefined, sourceNAT, labError
    }

    public init(
        from: ObjectKey, to: Endpoint, port: ProtocolPort, expected: ExpectedOutcome, model: Decision,
        observed: Observation? = nil, attempts: Int? = nil, reason: String? = nil,
        fromWorkload: WorkloadKey? = nil, toWorkload: WorkloadKey? = nil, targetPort: Int? = nil
    ) {
        self.targetPort = targetPort
        self.fromWorkload = fromWorkload
        self.toWorkload = toWorkload
        self.from = from
        self.to = to
        self.port = port
        self.expected = expected
        self.model = model
        self.observed = observed
        self.attempts = attempts
        self.reason = reason
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        from = try c.decode(ObjectKey.self, forKey: .from)
        let to = try c.decode(String.self, forKey: .to)
        guard let endpoint = Endpoint.parse(to) else {
            throw DecodingError.dataCorruptedError(forKey: .to, in: c, debugDescription: "not ns/name or external/NAME: \(to)")
        }
        self.to = endpoint
        port = ProtocolPort(try c.decode(TransportProtocol.self, forKey: .protocol), try c.decode(Int.self, forKey: .port))
        expected = try c.decode(ExpectedOutcome.self, forKey: .expected)
        model = try c.decode(Decision.self, forKey: .model)
        observed = try c.decodeIfPresent(Observation.self, forKey: .observed)
        attempts = try c.decodeIfPresent(Int.self, forKey: .attempts)
        reason = try c.decodeIfPresent(String.self, forKey: .reason)
        detail = try c.decodeIfPresent(String.self, forKey: .detail)
        mesh = try c.decodeIfPresent(MeshRecord.self, forKey: .mesh)
        func workload(_ key: CodingKeys) throws -> WorkloadKey? {
            guard let text = try c.decodeIfPresent(String.self, forKey: key) else { return nil }
            guard let workload = WorkloadKey.parse(text) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "not ns/kind/name: \(text)")
            }
            return workload
        }
        fromWorkload = try workload(.fromWorkload)
        toWorkload = try workload(.toWorkload)
        targetPort = try c.decodeIfPresent(Int.self, forKey: .targetPort)
        rule = try c.decodeIfPresent(String.self, forKey: .rule)
        confirmed = try c.decodeIfPresent(Bool.self, forKey: .confirmed)
        audit = try c.decodeIfPresent(String.self, forKey: .audit)
        staged = try c.decodeIfPresent(String.self, forKey: .staged)
        implementationDefined = try c.decodeIfPresent(Bool.self, forKey: .implementationDefined)
        sourceNAT = try c.decodeIfPresent(String.self, forKey: .sourceNAT).flatMap(IPv4.init)
        labError = try c.decodeIfPresent(Bool.self, forKey: .labError)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(from, forKey: .from)
        try c.encode(to.description, forKey: .to)
        try c.encode(port.port, forKey: .port)
        try c.encode(port.proto, forKey: .protocol)
        try c.encode(expected, forKey: .expected)
        try c.encode(model, forKey: .model)
        try c.encodeIfPresent(observed, forKey: .observed)
        try c.encodeIfPresent(attempts, forKey: .attempts)
        try c.encodeIfPresent(reason, forKey: .reason)
        try c.encodeIfPresent(detail, forKey: .detail)
        try c.encodeIfPresent(mesh, forKey: .mesh)
        try c.encodeIfPresent(fromWorkload?.description, forKey: .fromWorkload)
        try c.encodeIfPresent(toWorkload?.description, forKey: .toWorkload)
        if case .service(let key, let backend) = to {
            try c.encode(Endpoint.service(key).description, forKey: .service)
            try c.encodeIfPresent(backend?.description, forKey: .backend)
            try c.encodeIfPresent(targetPort, forKey: .targetPort)
        }
        if case .exposed(let key, let entry, let backend) = to {
            try c.encode(Endpoint.exposed(key, entry).description, forKey: .service)
            try c.encodeIfPresent(backend?.description, forKey: .backend)
            try c.encodeIfPresent(targetPort, forKey: .targetPort)
            try c.encodeIfPresent(sourceNAT?.description, forKey: .sourceNAT)
        }
        try c.encodeIfPresent(rule, forKey: .rule)
        try c.encodeIfPresent(confirmed, forKey: .confirmed)
        try c.encodeIfPresent(audit, forKey: .audit)
        try c.encodeIfPresent(staged, forKey: .staged)
        try c.encodeIfPresent(implementationDefined, forKey: .implementationDefined)
        try c.encodeIfPresent(labError, forKey: .labError)
    }

    /// `from -> to PORT`; a replica's share of a workload cell names the workload cell and the
    /// replica: `prod/deployment/web -> prod/db TCP/5432 (replica prod/web-5d8f-x2bqz)`.
    public var cellDescription: String {
        let plain = "\(from) -> \(to) \(port)"
        guard fromWorkload != nil || toWorkload != nil else { return plain }
        let source = fromWorkload?.description ?? from.description
        let destination = toWorkload?.description ?? to.description
        var replicas: [String] = []
        if fromWorkload != nil { replicas.append(from.description) }
        if toWorkload != nil { replicas.append(to.description) }
        return "\(source) -> \(destination) \(port) (replica \(replicas.joined(separator: " -> ")))"
    }

    /// Passes when observed (closed as allow, skipped always) equals expected, and an explicit
    /// expectation agrees with the model. Without an observation only the model is compared. A
    /// lab error never passes: it is no observation of the policy.
    public var passed: Bool {
        guard labError != true else { return false }
        guard let expectedDecision = expected.decision else { return true }
        let explicitDisagrees = expectedDecision != model
        // Audit mode enforced nothing: a would-be deny must have got through.
        if audit != nil { return (observed?.networkDecision).map { $0 == .allow } ?? !explicitDisagrees }
        guard let network = observed?.networkDecision else { return !explicitDisagrees }
        return network == expectedDecision && !explicitDisagrees
    }
}

/// One scanned endpoint (always TCP).
public struct ScanResult: Codable, Sendable, Equatable {
    public var from: ObjectKey
    /// The pod or external at `ip`, if any (`ns/pod`, `external/NAME`).
    public var to: String?
    public var ip: IPv4
    public var port: Int
    public var `protocol`: TransportProtocol = .tcp
    public var model: ScanState?
    public var observed: ScanState?
    /// Audit mode: the policies that would deny it (see `RuleAttribution`).
    public var rule: String?
    /// Audit mode: `would-deny` when enforcement would have dropped it.
    public var audit: String?
    /// `would-deny` / `would-allow` when enforcing the staged policies would change its fate.
    public var staged: String?
    /// Through a node port or load balancer with externalTrafficPolicy Cluster to another node's
    /// endpoint: the entry node's address, the source the backend saw and its policies judged
    /// (`PredictedScan.sourceNAT`, as `ProbeResult.sourceNAT`). Nil when the source is kept.
    public var sourceNAT: IPv4?

    public init(from: ObjectKey, to: String?, ip: IPv4, port: Int, model: ScanState?, observed: ScanState? = nil) {
        self.from = from
        self.to = to
        self.ip = ip
        self.port = port
        self.model = model
        self.observed = observed
    }
}

extension ScanResult {
    /// The record of `target`, one connection of `source`'s scan (`Cluster.scanTargets`), with what
    /// was `observed` (nil: the model's report). The one way a report turns a target into a record.
    public init(_ target: PredictedScan, from source: ObjectKey, observed: ScanState? = nil) {
        self.init(
            from: source, to: ModelReport.name(of: target.endpoint), ip: target.ip, port: target.port, model: target.model,
            observed: observed)
        sourceNAT = target.sourceNAT
    }

    /// What the connection reached: the endpoint its `to` names (a pod, an external, a node, or a
    /// Service's backend through its ClusterIP, node port or load balancer), else what lives at
    /// `ip`. Audit, staged-policy and flow reports judge scans by it.
    public func reached(in cluster: Cluster) -> Endpoint {
        if let to, let written = Endpoint.parse(to) { return cluster.resolve(written) }
        return cluster.endpoint(at: ip)
    }
}
