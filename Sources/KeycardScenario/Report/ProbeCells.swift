import KeycardModel
import KeycardValues

/// One cell of a probe step: the connection, what the file expects, and the model's verdict.
public struct ProbeCell: Sendable {
    public var from: ObjectKey
    public var to: Endpoint
    public var port: ProtocolPort
    public var expected: ExpectedCell
    public var verdict: Verdict
    /// The mesh's part (spec mesh.md 2.5), when the scenario uses the mesh.
    public var mesh: MeshVerdict?
    /// What the probe presents and sends (identity, route, HTTP request), when the scenario uses the mesh.
    public var meshRequest: MeshRequest?
    /// The workloads the probe named the source and destination through, if it did: this cell is
    /// one replica's share of a workload cell.
    public var fromWorkload: WorkloadKey?
    public var toWorkload: WorkloadKey?
    /// A Service cell's port on its backend (the Service port's `targetPort` resolved on that pod).
    public var targetPort: Int?
    /// Through a node port or load balancer: the node address the connection is source-NATed to,
    /// which the backend's policies see (`Cluster.exposedPath`); nil when the client's is kept.
    public var sourceNAT: IPv4?

    /// A pod reaching itself through its own Service's ClusterIP (hairpin). The model judges it
    /// (ClusterNetworkPolicy applies, docs/cluster-network-policy.md T9); the lab's datapath does
    /// not build it (no masquerade of hairpin traffic, as kube-proxy's `KUBE-MARK-MASQ` does), so
    /// such a cell is not probed (`hairpinReason`).
    public var isHairpin: Bool { to.isHairpin(from: from) }

    /// Why a hairpin cell is reported skipped: its expectation is checked against the model only.
    public static let hairpinReason =
        "a pod reaching itself through its own Service (hairpin) is judged by the model: the lab's datapath does not masquerade hairpin traffic"

    /// Why neither the model nor the lab judges this cell (`Timeline.unjudgedReason`): a Service
    /// whose endpoints Kubernetes takes from objects keycard does not read. Such a cell is
    /// expected nothing (`ExpectedCell.ignored`) and reported skipped with this reason.
    public var unjudgedReason: String?

    /// Why the lab sends no packet for this cell and reports it skipped: a hairpin
    /// (`hairpinReason`) or an unjudged cell (`unjudgedReason`); nil for a cell the lab probes.
    public var skipReason: String? { isHairpin ? Self.hairpinReason : unjudgedReason }

    public init(
        from: ObjectKey, to: Endpoint, port: ProtocolPort, expected: ExpectedCell, verdict: Verdict, mesh: MeshVerdict? = nil,
        meshRequest: MeshRequest? = nil, fromWorkload: WorkloadKey? = nil, toWorkload: WorkloadKey? = nil, targetPort: Int? = nil
    ) {
        self.from = from
        self.to = to
        self.port = port
        self.expected = expected
        self.verdict = verdict
        self.mesh = mesh
        self.meshRequest = meshRequest
        self.fromWorkload = fromWorkload
        self.toWorkload = toWorkload
        self.targetPort = targetPort
    }

    /// The model's cell from `source` (a pod, `external/NAME` or `node/NAME`) to `destination` on
    /// `port`: the mesh's verdict when `meshEngine` is given (for what `request` presents and
    /// sends), and NetworkPolicy's verdict of the connection the network carries (to the
    /// ztunnel's HBONE port when the mesh tunnels it, `PolicyEngine.evaluate(fromSource:to:port:mesh:)`).
    /// Every cell keycard judges is judged here: probe steps (`Timeline.cells(of:in:mesh:)`) and
    /// the connectivity map of `keycard diff` and `keycard graph` (`ConnectivityMap`).
    public init(
        judging source: ObjectKey, to destination: Endpoint, port: ProtocolPort, engine: PolicyEngine, mesh meshEngine: MeshEngine?,
        request: MeshRequest = MeshRequest(), expected: ExpectedCell = .model
    ) {
        let meshVerdict = meshEngine?.evaluate(from: source, to: destination, port: port, request: request)
        self.init(
            from: source, to: destination, port: port, expected: expected,
            verdict: engine.evaluate(fromSource: source, to: destination, port: port, mesh: meshVerdict), mesh: meshVerdict,
            meshRequest: meshEngine == nil ? nil : request)
    }

    /// NetworkPolicy ∧ PeerAuthentication ∧ AuthorizationPolicy, in that order (spec mesh.md R57):
    /// the network's deny first, then the mesh's refusal.
    public var outcome: Decision {
        verdict.decision == .deny ? .deny : (mesh?.outcome ?? .allow)
    }

    /// What the cell must show: the explicit expectation, else the model's verdict.
    public var expectedOutcome: ExpectedOutcome {
        switch expected {
        case .model: ExpectedOutcome(outcome)
        case .explicit(let decision): ExpectedOutcome(decision)
        case .ignored: .ignored
        }
    }

    /// The cell as a report result, before anything is observed.
    /// - Parameter detail: how the mesh refused, as observed (the proxy's record, or the HTTP status);
    ///   without an observation the model's detail is reported.
    public func result(observed: Observation? = nil, attempts: Int? = nil, reason: String? = nil, detail: String? = nil) -> ProbeResult {
        var result = ProbeResult(
            from: from, to: to, port: port, expected: expectedOutcome, model: outcome,
            observed: observed, attempts: attempts, reason: reason, fromWorkload: fromWorkload, toWorkload: toWorkload,
            targetPort: targetPort)
        result.rule = RuleAttribution(verdict)?.text
        result.confirmed = RuleAttribution.confirmed(verdict, observed: observed, reason: reason)
        if verdict.implementationDefined { result.implementationDefined = true }
        if result.reason == nil, let unjudgedReason { result.reason = unjudgedReason }
        result.sourceNAT = sourceNAT
        if let mesh {
            result.detail = observed == nil ? (outcome == .deny ? nil : mesh.detail) : detail
            result.mesh = MeshRecord(mesh)
        }
        return result
    }
}

extension Timeline {
    /// The cells of probe step `index`, in table order: port, then source, then destination.
    public func cells(ofProbeStep index: Int) -> [ProbeCell] {
        guard let probe = probes[index] else { return [] }
        return Self.cells(of: probe, in: cluster(afterStep: index), mesh: usesMesh, handWrittenEndpoints: scenario.handWrittenEndpoints)
    }

    /// Every probe step's cells, by step index.
    public func probeCells() -> [Int: [ProbeCell]] {
        Dictionary(uniqueKeysWithValues: probes.keys.map { ($0, cells(ofProbeStep: $0)) })
    }

    /// The cells of `probe` in cluster `state`, in table order (port, source, destination), each
    /// with the policy model's verdict (and the mesh's, when `mesh`); a Service destination
    /// becomes one cell per backend (`aimed`). A scenario's probe steps and `keycard probe` on a
    /// live lab both judge cells through this. A cell through a Service `unjudgedReason` names
    /// (given `handWrittenEndpoints`, `Scenario.handWrittenEndpoints`) is marked unjudged.
    public static func cells(
        of probe: ResolvedProbe, in state: Cluster, mesh: Bool, handWrittenEndpoints: [ObjectKey: HandWrittenEndpoints] = [:]
    )
        -> [ProbeCell]
    {
        let engine = PolicyEngine(state)
        let meshEngine = mesh ? MeshEngine(state) : nil
        // Only a probe that names workloads needs the lookups (a million-cell probe names none).
        let namesWorkloads = (probe.sourceRefs + probe.destinationRefs).contains { $0.workload != nil }
        var cells: [ProbeCell] = []
        // A Service's endpoints are listed once per probe, not once per source.
        var listed: [ObjectKey: [ProtocolPort: [ServiceBackend]]] = [:]
        func backends(_ service: Service, _ servicePort: ServicePort) -> [ServiceBackend] {
            if let found = listed[service.key]?[servicePort.protocolPort] { return found }
            let all = state.backends(of: service, port: servicePort)
            listed[service.key, default: [:]][servicePort.protocolPort] = all
            return all
        }
        for port in probe.ports {
            for source in probe.sources {
                for destination in probe.destinations.flatMap({ aimed($0, port, state, from: source, backends: backends) }) {
                    var cell = ProbeCell(
                        judging: source, to: destination, port: port, engine: engine, mesh: meshEngine, request: probe.request,
                        expected: probe.explicitExpectation(from: source, to: destination, port: port))
                    if namesWorkloads {
                        cell.fromWorkload = probe.sourceRef[source]?.workload
                        cell.toWorkload = probe.destinationRef[destination.column]?.workload
                    }
                    cell.targetPort = targetPort(of: destination, port, state)
                    if case .exposed(let key, let entry, let backend) = destination {
                        cell.sourceNAT = state.exposedPath(key, entry, backend: backend, port: port)?.sourceNAT
                    }
                    // A selectorless Service's cell has no backend (retained slices aside); one with a
                    // selector and a hand-written slice is unjudged whichever selected pod it aims at.
                    if let key = destination.serviceKey, let service = state.services[key],
                        destination.reachedPod == nil || service.selector != nil,
                        let reason = unjudgedReason(service, handWrittenEndpoints: handWrittenEndpoints)
                    {
                        cell.unjudgedReason = reason
                        cell.expected = .ignored
                    }
                    cells.append(cell)
                }
            }
        }
        return cells
    }

    /// Why cells through `service` are judged neither by the model nor in the lab, or nil: a
    /// Service without a selector gets its endpoints in Kubernetes from EndpointSlices or
    /// Endpoints written by hand (https://kubernetes.io/docs/concepts/services-networking/service/#services-without-selectors),
    /// which keycard does not read, so it cannot say where such a connection goes:
    /// - `default/kubernetes` (as a `kubectl get svc -o yaml` dump holds it): the API server's
    ///   Service, whose endpoint is the API server, outside the lab;
    /// - any other selectorless Service one of `handWrittenEndpoints` names;
    /// - a Service with a selector and an EndpointSlice its controller does not manage
    ///   (`HandWrittenEndpoints.unmanagedSlice`): kube-proxy and CoreDNS merge that slice's
    ///   endpoints with the selected pods'.
    /// A selectorless Service without such an object has no endpoints in Kubernetes either: its
    /// cells stay judged (dropped, no path).
    public static func unjudgedReason(_ service: Service, handWrittenEndpoints: [ObjectKey: HandWrittenEndpoints]) -> String? {
        guard service.kind != .externalName else { return nil }
        guard service.selector == nil else {
            guard let slice = handWrittenEndpoints[service.key]?.unmanagedSlice else { return nil }
            return
                "the Service's endpoints include an EndpointSlice written by hand (\(slice)), merged with the selected pods', which keycard does not read"
        }
        if service.key == ObjectKey("default", "kubernetes") {
            return
                "default/kubernetes is the API server's Service: its endpoints are the API server's addresses, outside the lab, which keycard does not run"
        }
        guard let written = handWrittenEndpoints[service.key]?.first else { return nil }
        return "the Service's endpoints are written by hand (\(written)), which keycard does not read"
    }

    /// A Service destination as one cell per backend of its port `port`, in the proxy's endpoint
    /// order (so every backend is exercised); a Service port without endpoints as one cell with no
    /// backend. A port the Service does not have (a probe over several destinations) is skipped.
    /// With `source`, a ClusterIP cell has the endpoints the proxy of the source's node sends to
    /// (`ClusterIPPath`: under internalTrafficPolicy Local its node's own, and none — one cell
    /// with no backend, dropped — when it has none); without, every endpoint (an upper bound).
    public static func aimed(
        _ destination: Endpoint, _ port: ProtocolPort, _ cluster: Cluster, from source: ObjectKey? = nil,
        backends listed: ((Service, ServicePort) -> [ServiceBackend])? = nil
    ) -> [Endpoint] {
        let backendsOf = listed ?? { cluster.backends(of: $0, port: $1) }
        if case .exposed(let key, let entry, nil) = destination {
            // Through a node port or the load balancer: one cell per endpoint the entry sends to.
            // Under externalTrafficPolicy Local a node sends only to its own endpoints (kube-proxy's
            // `CategorizeEndpoints`): where it has some, the others are no cells (no connection
            // through that node can reach them); where it has none, every endpoint's cell has no path.
            guard let service = cluster.services[key], let servicePort = cluster.exposedPort(service, entry, port) else { return [] }
            let backends = backendsOf(service, servicePort)
            let reached = backends.filter { cluster.exposedPath(key, entry, backend: $0.pod, port: port) != nil }
            let aimed = reached.isEmpty ? backends : reached
            return aimed.isEmpty ? [destination] : aimed.map { .exposed(key, entry, backend: $0.pod) }
        }
        guard case .service(let key, nil) = destination else { return [destination] }
        guard let service = cluster.services[key], let servicePort = service.ports.first(where: { $0.protocolPort == port }) else {
            return []
        }
        let all = backendsOf(service, servicePort)
        let backends =
            source.map { ClusterIPPath.endpoints(all, cluster, service, node: cluster.clientNode(of: cluster.source($0))) } ?? all
        return backends.isEmpty ? [destination] : backends.map { .service(key, backend: $0.pod) }
    }

    /// The port a Service cell reaches on its backend; nil for other cells.
    public static func targetPort(of destination: Endpoint, _ port: ProtocolPort, _ cluster: Cluster) -> Int? {
        if case .exposed(let key, let entry, let backend?) = destination, let service = cluster.services[key],
            let servicePort = cluster.exposedPort(service, entry, port)
        {
            return cluster.backend(backend, of: service, port: servicePort)?.target.port
        }
        guard case .service(let key, let backend?) = destination, let service = cluster.services[key],
            let servicePort = service.ports.first(where: { $0.protocolPort == port })
        else { return nil }
        return cluster.backend(backend, of: service, port: servicePort)?.target.port
    }

    /// The endpoints scan step `index` covers from `source` (one of its resolved sources), with the
    /// model's prediction for each port.
    public func scanTargets(ofStep index: Int, from source: ObjectKey, _ scan: ScanStep) -> [PredictedScan] {
        cluster(afterStep: index).scanTargets(
            from: source, scan.targets, ports: scan.ports, meshIdentity: usesMesh ? scan.identity : nil, listening: serviceTargetPorts)
    }

}
