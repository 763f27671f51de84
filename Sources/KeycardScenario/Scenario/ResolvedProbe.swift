import KeycardModel
import KeycardValues

/// A probe step with its defaults filled in from the cluster at that step, and its expectation
/// checked against exactly those sources, destinations and ports.
public struct ResolvedProbe: Sendable {
    /// Source pods: the named pods and every pod of each named workload, in the order named.
    public var sources: [ObjectKey]
    /// Destination pods and externals, workloads expanded likewise.
    public var destinations: [Endpoint]
    public var ports: [ProtocolPort]
    public var expect: Expectation
    /// What the sources present and send (spec mesh.md 2.4).
    public var request: MeshRequest
    /// The sources and destinations as written (a workload once), or every pod/external by default:
    /// the rows and columns tables and exceptions speak of.
    public var sourceRefs: [ProbeRef]
    public var destinationRefs: [ProbeRef]
    /// Which written reference each source pod / destination came from.
    public var sourceRef: [ObjectKey: ProbeRef]
    public var destinationRef: [Endpoint: ProbeRef]

    /// The most cells one probe step may hold: a thousand pods probing each other on one port. A
    /// cell costs a few KiB through the model and the report, so a Deployment of 10,000 replicas
    /// probed all-to-all (a hundred million cells) would exhaust memory instead of failing clearly.
    public static let maximumCells = 1_000_000

    /// The destination cells of one source, over every port (a Service destination is one cell
    /// per backend, `Timeline.aimed`): the step holds `sources.count * destinationCells` cells.
    public private(set) var destinationCells = 0
    /// The cells of the step: one model verdict and one real connection each.
    public var cellCount: Int { sources.count * destinationCells }

    /// A live lab's probe (`keycard probe LAB --from --to --ports`): sources, destinations and
    /// ports as given (nil: the defaults of a scenario's probe step), judged by the model, with
    /// every check a probe step gets; an error is located at `location` (the command line).
    public init(
        live from: [ProbeRef]?, to: [ProbeRef]?, ports: [ProtocolPort]?, cluster: Cluster, hidden: Set<ObjectKey>,
        location: SourceLocation
    ) throws(ScenarioError) {
        let probe = ProbeStep(from: from, to: to, ports: ports, expect: .model)
        let step = Step(index: 0, location: location, action: .probe(probe))
        try self.init(probe, step: step, cluster: cluster, hidden: hidden)
        if let problem = cellLimitProblem(step, remedy: Self.nameFewer) { throw problem }
    }

    /// `hidden` pods (the cluster DNS pod) are left out of the default sources and destinations.
    /// The size is not checked here: a step over `maximumCells` is the caller's to refuse
    /// (`cellLimitProblem`), as only the commands that judge cells must.
    init(_ probe: ProbeStep, step: Step, cluster: Cluster, hidden: Set<ObjectKey> = []) throws(ScenarioError) {
        // Sorted only when a default needs them: 2,000 steps naming their pods over 500 pods sorted
        // a million pods at load.
        let pods = probe.from == nil || probe.to == nil ? cluster.sortedPods.filter { !hidden.contains($0.key) } : []
        // A host-network pod connects from its node's namespace, where the lab runs no Service
        // proxy: named as a source of a Service it is refused (below), and the default sources of
        // a step that aims at a Service leave such pods out.
        let aimsAtServices =
            probe.to?.contains { if case .endpoint(let endpoint) = $0 { endpoint.serviceKey != nil } else { false } } ?? false
        // Default rows and columns are written as a table would write them (`Endpoint.written`).
        sourceRefs = probe.from ?? pods.filter { !(aimsAtServices && $0.hostNetwork) }.map { .endpoint(.written($0.key)) }
        destinationRefs =
            probe.to
            ?? (pods.map { .endpoint(.written($0.key)) }
                + cluster.externals.values.sorted { $0.name < $1.name }.map { .endpoint(.external($0.name)) })
        sources = []
        destinations = []
        sourceRef = [:]
        destinationRef = [:]
        for ref in sourceRefs {
            for endpoint in try Self.expand(ref, "probe.from", step: step, cluster: cluster) {
                guard let key = endpoint.sourceKey else { continue }
                if let first = sourceRef[key] {
                    throw ScenarioError(step.location, "probe.from: pod \(key) is named twice (as \(first) and as \(ref))")
                }
                sourceRef[key] = ref
                sources.append(key)
            }
        }
        for ref in destinationRefs {
            for endpoint in try Self.expand(ref, "probe.to", step: step, cluster: cluster) {
                if case .node(let name) = endpoint {
                    throw ScenarioError(
                        step.location, "probe.to: node/\(name) is a probe source only (a node serves no port in the lab)")
                }
                if let first = destinationRef[endpoint] {
                    throw ScenarioError(step.location, "probe.to: \(endpoint) is named twice (as \(first) and as \(ref))")
                }
                destinationRef[endpoint] = ref
                destinations.append(endpoint)
            }
        }
        request = probe.request
        if let node = sources.first(where: { $0.namespace == ObjectKey.nodeNamespace && cluster.nodeIndex($0.name) != nil }),
            let service = destinations.first(where: { $0.serviceKey != nil })
        {
            throw ScenarioError(
                step.location,
                "probe: \(node) -> \(service): the lab runs no Service proxy in node namespaces; probe the Service's pods from the node")
        }
        // A host-network pod connects from its node's namespace, where the lab has no Service proxy either.
        if let host = sources.first(where: { cluster.isHostNetwork($0) }), let service = destinations.first(where: { $0.serviceKey != nil })
        {
            throw ScenarioError(
                step.location,
                "probe: \(host) -> \(service): \(host) uses the host network and the lab runs no Service proxy in node namespaces; probe the Service's pods from it"
            )
        }
        for case .service(let key, let backend) in destinations {
            if probe.ports?.contains(where: { $0.proto == .icmp }) == true {
                throw ScenarioError(
                    step.location,
                    "probe.to: Service \(key) with ICMP: a ClusterIP is a virtual address that answers no ping; probe its pods")
            }
            guard let service = cluster.services[key] else {
                throw ScenarioError(step.location, "probe.to: Service \(key) does not exist at this step")
            }
            guard service.clusterIP != nil else {
                throw ScenarioError(
                    step.location, "probe.to: Service \(key) has no ClusterIP (headless or ExternalName): probe its pods")
            }
            // `svc/ns/name>ns/pod` aims at one backend: a pod the Service does not select is none.
            if let backend, !Self.isBackendPod(backend, of: service, cluster) {
                throw ScenarioError(
                    step.location, "probe.to: svc/\(key)>\(backend): pod \(backend) is not a backend of Service \(key) at this step")
            }
            // Both would hold that backend's cell, and one column's expectation would go unchecked.
            if let backend, destinations.contains(.service(key)) {
                throw ScenarioError(
                    step.location, "probe.to: names svc/\(key) and svc/\(key)>\(backend), which share that backend's cell: name one")
            }
            for port in probe.ports ?? [] where !service.ports.contains(where: { $0.protocolPort == port }) {
                throw ScenarioError(
                    step.location,
                    "probe.to: Service \(key) has no port \(port) (its ports: \(service.ports.map(\.protocolPort.description).joined(separator: ", ")))"
                )
            }
            // A Service is reached through its ClusterIP: Service traffic, never a pod-IP call (R15).
            if request.route == .podIP {
                throw ScenarioError(
                    step.location, "probe.to: Service \(key) with via: pod-ip: a Service is not a pod address; probe its pods, or drop via")
            }
        }
        if let ports = probe.ports {
            self.ports = ports
        } else if request.http != nil {
            // spec mesh.md 2.4: without ports, an http probe covers the HTTP ports its destinations serve.
            self.ports = Set(destinations.flatMap { cluster.httpPorts(of: $0) }).sorted()
            if self.ports.isEmpty {
                throw ScenarioError(
                    step.location,
                    "probe has http but no destination serves an HTTP port (R37: a Service port named http, http-<suffix>, http2, grpc or grpc-web or with such an appProtocol; with no Service, a container port named http or http-<suffix>)"
                )
            }
        } else {
            self.ports = Set(destinations.flatMap { cluster.servedPorts(of: $0) }).sorted()
            if self.ports.isEmpty {
                throw ScenarioError(step.location, "probe has no port to probe: no destination serves one; name ports")
            }
        }
        if sources.isEmpty { throw ScenarioError(step.location, "probe has no source: no pod exists at this step") }
        if destinations.isEmpty { throw ScenarioError(step.location, "probe has no destination: no pod exists at this step") }
        // A Service destination is one cell per backend (`Timeline.aimed`).
        var targets = 0
        for port in self.ports {
            for destination in destinations {
                targets += destination.serviceKey == nil ? 1 : Timeline.aimed(destination, port, cluster).count
            }
        }
        // Over `maximumCells` the step is refused by whoever judges its cells (`cellLimitProblem`).
        destinationCells = targets
        expect = probe.expect
        try checkSteeredBackends(step, cluster)
        try checkHTTP(step, cluster)
        try checkExposed(step, cluster, portsDefaulted: probe.ports == nil)
        try check(step)
    }

    /// spec mesh.md 2.4: `http` only towards ports declared HTTP (R37); keycard does not guess.
    private func checkHTTP(_ step: Step, _ cluster: Cluster) throws(ScenarioError) {
        guard request.http != nil else { return }
        for port in ports {
            let targets = destinations.flatMap { Timeline.aimed($0, port, cluster) }
            if let problem = cluster.httpProblem(targets, port: port) {
                throw ScenarioError(step.location, "probe has http, but \(problem)")
            }
        }
    }

    /// The pods (or external) `ref` stands for at this step; a workload with no pod stands for none.
    private static func expand(_ ref: ProbeRef, _ field: String, step: Step, cluster: Cluster) throws(ScenarioError) -> [Endpoint] {
        // `external/NAME` or `node/NAME` naming a pod of a namespace called so (no such external or node).
        if case .endpoint(let written) = ref, case .pod(let key) = cluster.resolve(written), written != .pod(key) {
            guard cluster.pods[key] != nil else { throw ScenarioError(step.location, "\(field): pod \(key) does not exist at this step") }
            return [.pod(key)]
        }
        switch ref {
        case .endpoint(.pod(let key)):
            guard cluster.pods[key] != nil else { throw ScenarioError(step.location, "\(field): pod \(key) does not exist at this step") }
            return [.pod(key)]
        case .endpoint(.external(let name)):
            guard cluster.externals[name] != nil else {
                throw ScenarioError(step.location, "\(field): external \(name) is not declared in spec.externals")
            }
            return [.external(name)]
        case .endpoint(.node(let name)):
            guard cluster.nodeIndex(name) != nil else {
                throw ScenarioError(
                    step.location, "\(field): the lab has no node \(name) (node-0 ... node-\(cluster.nodeCount - 1), spec.lab.nodes)")
            }
            return [.node(name)]
        case .endpoint(let endpoint): return [endpoint]
        case .workload(let key):
            guard cluster.workloads[key] != nil else { throw ScenarioError(step.location, "\(field): \(key) does not exist at this step") }
            return cluster.pods(of: key).map { .pod($0.key) }
        }
    }

    private func check(_ step: Step) throws(ScenarioError) {
        switch expect {
        case .model: return
        case .tables(let tables):
            for port in ports where tables[port] == nil {
                throw ScenarioError(step.location, "expect has no table for probed port \(port)")
            }
            for (port, table) in tables {
                guard ports.contains(port) else {
                    throw ScenarioError(table.location, "expect has a table for \(port), which this probe does not probe")
                }
                if Set(table.rows) != Set(sourceRefs) || table.rows.count != sourceRefs.count {
                    throw ScenarioError(
                        table.location,
                        "the \(port) table's rows must be exactly the probe's sources: \(sourceRefs.map(\.description).joined(separator: " "))"
                    )
                }
                if Set(table.columns) != Set(destinationRefs) || table.columns.count != destinationRefs.count {
                    throw ScenarioError(
                        table.location,
                        "the \(port) table's columns must be exactly the probe's destinations: \(destinationRefs.map(\.description).joined(separator: " "))"
                    )
                }
            }
        case .exceptions(_, let lists):
            var seen: [Cell: Decision] = [:]
            for decision in Decision.allCases {
                for cell in lists[decision] ?? [] {
                    guard sourceRefs.contains(cell.from), destinationRefs.contains(cell.to), ports.contains(cell.port) else {
                        throw ScenarioError(
                            step.location, "expect names \(cell.from) -> \(cell.to) on \(cell.port), which this probe does not probe")
                    }
                    if let other = seen[cell] {
                        throw ScenarioError(
                            step.location,
                            "expect lists \(cell.from) -> \(cell.to) on \(cell.port) under both \(other.rawValue) and \(decision.rawValue)")
                    }
                    seen[cell] = decision
                }
            }
        }
    }

    /// What the file expects for one cell: a decision, or nil for "not checked" / "follow the model".
    /// A replica of a workload takes the expectation written for its workload; a Service cell aims
    /// at one backend, and the file's columns name the Service.
    public func explicitExpectation(from: ObjectKey, to cellDestination: Endpoint, port: ProtocolPort) -> ExpectedCell {
        // A pod reaching itself through its own Service (hairpin) is judged by the model only
        // (`ProbeCell.isHairpin`): checked when the file writes an expectation for it.
        let hairpin = cellDestination.isHairpin(from: from)
        if case .model = expect { return hairpin ? .ignored : .model }
        // A column the file writes with its backend (`svc/ns/name>ns/pod`) is that cell's own.
        let to = destinationRef[cellDestination] != nil ? cellDestination : cellDestination.column
        let row = sourceRef[from] ?? .endpoint(.written(from))
        let column = destinationRef[to] ?? .endpoint(to)
        switch expect {
        case .model: return hairpin ? .ignored : .model
        case .tables(let tables):
            guard let decision = tables[port]?.mark(from: row, to: column)?.decision else { return .ignored }
            return .explicit(decision)
        case .exceptions(let fallback, let lists):
            let cell = Cell(from: row, to: column, port: port)
            if let listed = Decision.allCases.first(where: { lists[$0]?.contains(cell) ?? false }) { return .explicit(listed) }
            // A pod reaching itself (directly or through its own Service) is not a network
            // question: unlisted, it is not checked.
            if case .pod(let key) = to, key == from { return .ignored }
            if case .external = to, to == .written(from) { return .ignored }
            if hairpin { return .ignored }
            return .explicit(fallback)
        }
    }
}

/// The expectation of one probe cell.
public enum ExpectedCell: Hashable, Sendable {
    case model
    case explicit(Decision)
    case ignored
}
