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
    /// The mesh data plane, in a lab with the mesh: probes are client-first and read its records.
    public var mesh: MeshProbing?
    /// The lab's cluster DNS server (`LabServing.dnsServer`): a UDP probe of its port 53 sends a
    /// DNS query, and any answer is the connection allowed.
    public var dnsServer: DNSServer?

    /// A DNS server pod and the query message its UDP/53 probes send.
    public struct DNSServer: Sendable {
        public var pod: ObjectKey
        public var query: [UInt8]
    }

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
        if case .exposed(_, _, let backend?) = endpoint { return programPods.contains(backend) }
        return false
    }

    /// The pod whose own server must answer a cell: its destination pod, or the backend a Service
    /// or node-port cell aims at. nil where any answer counts: ICMP (an echo reply names nobody), a
    /// pod's probe of itself, a program's pod (`command:` programs do not name themselves), and a
    /// pod sharing its network namespace with another source (a host-network pod answers on its
    /// node's address, where every host-network pod of that node listens).
    private func answeringPod(_ cell: ProbeCell, sharedNamespaces: Set<String>) -> ObjectKey? {
        guard cell.port.proto != .icmp, cell.to != .pod(cell.from), !runsProgram(cell.to), !aimsAtProgram(cell.to) else { return nil }
        let pod: ObjectKey
        switch cell.to {
        case .pod(let key), .service(_, let key?), .exposed(_, _, let key?): pod = key
        default: return nil
        }
        guard let namespace = namespaces[pod], !sharedNamespaces.contains(namespace) else { return nil }
        return pod
    }

    /// Namespaces that more than one source starts from (a node's, with its host-network pods).
    private var sharedNamespaces: Set<String> {
        var seen: Set<String> = []
        return Set(namespaces.values.filter { !seen.insert($0).inserted })
    }

    /// Whether a probe reaches the DNS server pod's port 53, directly or as a Service's backend.
    private func asksDNS(_ server: ObjectKey, _ endpoint: Endpoint, port: UInt16) -> Bool {
        guard port == 53 else { return false }
        switch endpoint {
        case .pod(let key), .service(_, let key?), .exposed(_, _, let key?): return key == server
        default: return false
        }
    }

    func runsProgram(_ endpoint: Endpoint) -> Bool {
        if case .pod(let key) = endpoint { return programPods.contains(key) }
        return false
    }

    public func observe(_ cells: [ProbeCell], settings: ProbeSettings) throws -> [CellObservation] {
        var seen = try observeOnce(cells, settings: settings)
        // A mesh wave's connections cost TLS handshakes on the lab's cores; on a busy machine a
        // connection the model allows can outlast the wave's deadline. Such a cell (a timeout, no
        // kernel drop record) is sent once more with four times the patience: a slow proxy answers
        // then, and a real drop times out again (and stays a deny, its attempts counted).
        guard mesh?.engaged == true else { return seen }
        let slow = Self.slowCells(seen, cells)
        guard !slow.isEmpty else { return seen }
        var patient = settings
        patient.timeoutMilliseconds = max(settings.timeoutMilliseconds, 1000) * 4
        let again = try observeOnce(slow.map { cells[$0] }, settings: patient)
        for (index, second) in zip(slow, again) {
            var settled = second
            settled.attempts += seen[index].attempts
            seen[index] = settled
        }
        return seen
    }

    /// The indices of the cells a mesh wave sends again (`observe`): a lab error (a proxy gave up
    /// before deciding, or no proxy recorded why a connection ended), or a deny by a timeout alone
    /// (no kernel drop record, no proxy's word) where the model lets the connection through the
    /// network (the mesh's refusals answer, they do not time out).
    static func slowCells(_ seen: [CellObservation], _ cells: [ProbeCell]) -> [Int] {
        seen.indices.filter {
            seen[$0].labError || (seen[$0].observation == .deny && seen[$0].reason == "timeout" && cells[$0].outcome != .deny)
        }
    }

    /// One wave of `cells` (`observe`).
    private func observeOnce(_ cells: [ProbeCell], settings: ProbeSettings) throws -> [CellObservation] {
        // Hairpin cells are judged by the model only (`ProbeCell.isHairpin`), unjudged ones by
        // nobody (`ProbeCell.unjudgedReason`): no packet is sent.
        guard !cells.contains(where: { $0.skipReason != nil }) else {
            var probed = try observeOnce(cells.filter { $0.skipReason == nil }, settings: settings).makeIterator()
            return cells.compactMap { cell in
                cell.skipReason.map { CellObservation(observation: .skipped, attempts: 0, reason: $0) } ?? probed.next()
            }
        }
        var requests: [ProbeRequest] = []
        var usedPorts: [String: Set<UInt16>] = [:]
        // Indices of cells sent towards a backend the client's node never reaches (`strayPort`).
        var strays: Set<Int> = []
        for cell in cells {
            guard let namespace = namespaces[cell.from], let ip = addresses(cell.to) else {
                throw ProbeError.unknownEndpoint("\(cell.from) -> \(cell.to)")
            }
            var request = ProbeRequest(
                sourceNamespace: namespace, destination: ip,
                proto: cell.port.proto, port: UInt16(cell.port.port),
                handshakeOnly: runsProgram(cell.to))
            if case .service(_, let backend?) = cell.to {
                if let stray = services?.strayPort(from: cell.from, cell.to, cell.port, used: &usedPorts[namespace, default: []]) {
                    // internalTrafficPolicy Local keeps it from that backend: sent as if every
                    // endpoint were held, the model expects it lost (`strayCells`).
                    request.sourcePort = stray
                    strays.insert(requests.count)
                } else {
                    guard let aimed = services?.aim(from: cell.from, cell.to, cell.port, used: &usedPorts[namespace, default: []]) else {
                        throw ProbeError.unknownEndpoint("\(cell.from) -> \(cell.to): no source port reaches that backend")
                    }
                    request.sourcePort = aimed.sourcePort
                    request.translated = (aimed.backend.address, UInt16(aimed.backend.target.port))
                }
                request.handshakeOnly = programPods.contains(backend)
            }
            if case .exposed(_, _, let backend?) = cell.to {
                // A path that cannot reach the backend has no aim: the packet goes out unsteered
                // and the model expects it lost.
                if let aimed = services?.aim(from: cell.from, cell.to, cell.port, used: &usedPorts[namespace, default: []]) {
                    request.sourcePort = aimed.sourcePort
                    request.translated = (aimed.backend.address, UInt16(aimed.backend.target.port))
                    // Cluster's source NAT to another node: the backend logs the node's address.
                    request.sourceNAT = cell.sourceNAT
                }
                request.handshakeOnly = programPods.contains(backend)
            }
            if request.proto == .udp, let dnsServer, asksDNS(dnsServer.pod, cell.to, port: request.translated?.port ?? request.port) {
                request.payload = dnsServer.query
            }
            mesh?.prepare(
                &request, from: cell.from, to: cell.to, port: cell.port, mesh: cell.meshRequest ?? MeshRequest(),
                used: &usedPorts[namespace, default: []])
            requests.append(request)
        }
        let costs = zip(cells, requests).map { cell, request in
            request.proto == .tcp ? mesh?.cost(from: cell.from, to: cell.to, identity: cell.meshRequest?.identity ?? .mesh) ?? 0 : 0
        }
        let weighted = mesh?.weightedConnections(costs) ?? 0
        let timeout =
            mesh?.engaged == true
            ? MeshProbing.waveTimeout(settings, connections: weighted) : .milliseconds(settings.timeoutMilliseconds)
        mesh?.channel.waveStarts(deadline: timeout)
        let outcomes = try prober.probe(requests, timeout: timeout, retries: settings.retries, evidence: evidence)
        // A destination proxy's record still on its way gets at most one more wave deadline.
        let recordsDue = ContinuousClock.now + timeout
        let shared = sharedNamespaces
        return zip(zip(cells, outcomes), requests).enumerated().map { index, element in
            let ((cell, outcome), request) = element
            return observation(index, cell, outcome, request, strays: strays, recordsDue: recordsDue)
                .misdelivered(destinationPod: answeringPod(cell, sharedNamespaces: shared))
        }
    }

    /// What one cell of a wave saw (`observeOnce`), before its answer is checked against its
    /// destination (`CellObservation.misdelivered`).
    private func observation(
        _ index: Int, _ cell: ProbeCell, _ outcome: ProbeOutcome, _ request: ProbeRequest, strays: Set<Int>,
        recordsDue: ContinuousClock.Instant
    ) -> CellObservation {
        // A Service cell is answered by the backend it aimed at.
        let expected: String =
            switch cell.to {
            case .service(_, let backend?), .exposed(_, _, let backend?): backend.description
            default: cell.to.description
            }
        if let mesh,
            let seen = mesh.observation(
                outcome.verdict, from: cell.from, to: cell.to, request, attempts: outcome.attempts, expectedLine: expected,
                recordsDue: recordsDue)
        {
            // An HTTP answer from another endpoint (`reason` set) to a stray cell: as below.
            if strays.contains(index), seen.observation == .allow, let answer = seen.reason {
                return CellObservation(
                    observation: .deny, attempts: outcome.attempts,
                    reason:
                        "internalTrafficPolicy Local: the client's node sent it to its own endpoint (\(answer)), never to \(expected)")
            }
            return seen
        }
        switch outcome.verdict {
        case .allow where strays.contains(index) && request.handshakeOnly:
            // A program answers without naming itself: which endpoint took it cannot be told.
            return CellObservation(
                observation: .skipped, attempts: outcome.attempts,
                reason:
                    "internalTrafficPolicy Local: \(expected) runs a program, whose answer does not say which endpoint the client's node sent it to"
            )
        case .allow(let line) where strays.contains(index) && line != expected && !request.handshakeOnly:
            // internalTrafficPolicy Local: the client's node sent it to one of its own
            // endpoints; the aimed backend, on another node, was never reached.
            return CellObservation(
                observation: .deny, attempts: outcome.attempts,
                reason: "internalTrafficPolicy Local: the client's node sent it to its own endpoint \"\(line)\", never to \(expected)")
        case .allow(let line):
            // A line naming another endpoint means traffic went somewhere it should not
            // (`misdelivered` decides whether that fails the cell). An echo reply carries no
            // line; the socket only hears the destination.
            let named =
                line == expected || cell.port.proto == .icmp || cell.to == .pod(cell.from) || runsProgram(cell.to)
                || aimsAtProgram(cell.to)
            guard !named else { return CellObservation(observation: .allow, attempts: outcome.attempts) }
            return CellObservation(
                observation: .allow, attempts: outcome.attempts, reason: "answered by \"\(line)\"", answeredBy: line)
        case .closed: return CellObservation(observation: .closed, attempts: outcome.attempts)
        case .unanswered(let reset):
            return CellObservation(
                observation: .deny, attempts: outcome.attempts, reason: "ended without an answer (\(reset ? "reset" : "EOF"))")
        case .deny(let why): return CellObservation(observation: .deny, attempts: outcome.attempts, reason: why.description)
        case .skipped(let why): return CellObservation(observation: .skipped, attempts: outcome.attempts, reason: why)
        }
    }

    public func scan(from source: ObjectKey, _ targets: [ScanProbe], settings: ProbeSettings, identity: ProbeIdentity) throws
        -> [ScanState]
    {
        guard let namespace = namespaces[source] else { throw ProbeError.unknownEndpoint(source.description) }
        // A step where no pod is captured meets no proxy: a plain scan, with the plain deadline
        // (a /24 scan waited the mesh's longer wave deadline on every empty address).
        var used: Set<UInt16> = []
        let aimed = targets.map { aimedTarget(from: source, $0, used: &used) }
        if let mesh, mesh.engaged {
            return try meshScan(
                from: source, namespace: namespace, targets, aimed: aimed, used: used, settings: settings, identity: identity, mesh)
        }
        return try prober.scan(
            from: namespace, targets: aimed, timeout: .milliseconds(settings.timeoutMilliseconds), retries: settings.retries,
            evidence: evidence)
    }

    /// A scan target as the kernel scans it: to a Service address, from the source port that sends
    /// the connection to the backend the model chose (`Cluster.scanTargets`), as probe cells aim,
    /// with that backend's address and port (and a node port's source NAT) so that the drop the
    /// kernel logs behind the translation settles the target at once, as it does a probe's.
    func aimedTarget(from source: ObjectKey, _ target: ScanProbe, used: inout Set<UInt16>) -> ScanTarget {
        var scanned = ScanTarget(address: target.ip, port: UInt16(target.port))
        switch target.endpoint {
        case .service(_, _?), .exposed(_, _, _?):
            let port = ProtocolPort(.tcp, target.port)
            guard let services, let aim = services.aim(from: source, target.endpoint, port, used: &used) else { break }
            scanned.sourcePort = aim.sourcePort
            scanned.backend = aim.backend.address
            scanned.backendPort = UInt16(aim.backend.target.port)
            if case .exposed(let key, let entry, let backend?) = target.endpoint {
                scanned.sourceNAT = services.cluster.exposedPath(key, entry, backend: backend, port: port)?.sourceNAT
            }
        default: break
        }
        return scanned
    }
}

extension SocketProbeRunner {
    /// A scan in a lab with the mesh (spec mesh.md 2.7): each target gets a client-first probe from
    /// a scanner in `source` presenting `identity`; open only when the application's answer comes
    /// back, `refused` when the mesh refused it (the proxy's record says so).
    func meshScan(
        from source: ObjectKey, namespace: String, _ targets: [ScanProbe], aimed: [ScanTarget], used: Set<UInt16>,
        settings: ProbeSettings, identity: ProbeIdentity, _ mesh: MeshProbing
    ) throws -> [ScanState] {
        var used = used
        let requests = zip(targets, aimed).map { target, aimed in
            var probe = aimed.request(from: namespace)
            probe.handshakeOnly = runsProgram(target.endpoint) || aimsAtProgram(target.endpoint)
            mesh.prepare(
                &probe, from: source, to: target.endpoint, port: ProtocolPort(.tcp, target.port),
                mesh: .scan(identity, to: target.endpoint), used: &used)
            return probe
        }
        let deadline = MeshProbing.waveTimeout(
            settings,
            connections: mesh.weightedConnections(targets.map { mesh.cost(from: source, to: $0.endpoint, identity: identity) }))
        mesh.channel.waveStarts(deadline: deadline)
        let outcomes = try prober.probe(requests, timeout: deadline, retries: settings.retries, evidence: evidence)
        let recordsDue = ContinuousClock.now + deadline
        return zip(zip(targets, outcomes), requests).map { pair, request in
            let (target, outcome) = pair
            let seen =
                mesh.observation(
                    outcome.verdict, from: source, request, attempts: outcome.attempts, expectedLine: target.endpoint.description,
                    recordsDue: recordsDue)
            switch seen?.observation {
            case .allow?: return .open
            case .closed?: return .closed
            case .denyMTLS?, .denyRBAC?: return .refused
            case .deny?, .skipped?: return .filtered
            case nil:
                switch outcome.verdict {
                case .allow: return .open
                case .closed: return .closed
                case .unanswered, .deny, .skipped: return .filtered
                }
            }
        }
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
