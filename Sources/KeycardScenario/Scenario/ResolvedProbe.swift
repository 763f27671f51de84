import KeycardModel
import KeycardValues

/// A probe step with its defaults filled in from the cluster at that step, and its expectation
/// checked against exactly those sources, destinations and ports.
public struct ResolvedProbe: Sendable {
    public var sources: [ObjectKey]
    public var destinations: [Endpoint]
    public var ports: [ProtocolPort]
    public var expect: Expectation

    init(_ probe: ProbeStep, step: Step, cluster: Cluster) throws(ScenarioError) {
        sources = probe.from ?? cluster.sortedPods.map(\.key)
        destinations =
            probe.to
            ?? (cluster.sortedPods.map { .pod($0.key) }
                + cluster.externals.values.sorted { $0.name < $1.name }.map { .external($0.name) })
        for source in sources where cluster.pods[source] == nil {
            throw ScenarioError(step.location, "probe.from: pod \(source) does not exist at this step")
        }
        for destination in destinations {
            switch destination {
            case .pod(let key) where cluster.pods[key] == nil:
                throw ScenarioError(step.location, "probe.to: pod \(key) does not exist at this step")
            case .external(let name) where cluster.externals[name] == nil:
                throw ScenarioError(step.location, "probe.to: external \(name) is not declared in spec.externals")
            case .service(let key, _):
                guard let service = cluster.services[key] else {
                    throw ScenarioError(step.location, "probe.to: Service \(key) does not exist at this step")
                }
                guard service.clusterIP != nil else {
                    throw ScenarioError(
                        step.location, "probe.to: Service \(key) has no ClusterIP (headless or ExternalName): probe its pods")
                }
                for port in probe.ports ?? [] where !service.ports.contains(where: { $0.protocolPort == port }) {
                    throw ScenarioError(
                        step.location,
                        "probe.to: Service \(key) has no port \(port) (its ports: \(service.ports.map(\.protocolPort.description).joined(separator: ", ")))"
                    )
                }
            default: break
            }
        }
        if let ports = probe.ports {
            self.ports = ports
        } else {
            self.ports = Set(destinations.flatMap { cluster.servedPorts(of: $0) }).sorted()
            if self.ports.isEmpty {
                throw ScenarioError(step.location, "probe has no port to probe: no destination serves one; name ports")
            }
        }
        if sources.isEmpty { throw ScenarioError(step.location, "probe has no source: no pod exists at this step") }
        expect = probe.expect
        try check(step)
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
                if Set(table.rows) != Set(sources) || table.rows.count != sources.count {
                    throw ScenarioError(
                        table.location,
                        "the \(port) table's rows must be exactly the probe's sources: \(sources.map(\.description).joined(separator: " "))"
                    )
                }
                if Set(table.columns) != Set(destinations) || table.columns.count != destinations.count {
                    throw ScenarioError(
                        table.location,
                        "the \(port) table's columns must be exactly the probe's destinations: \(destinations.map(\.description).joined(separator: " "))"
                    )
                }
            }
        case .exceptions(_, let allow, let deny):
            for cell in allow + deny {
                guard sources.contains(cell.from), destinations.contains(cell.to), ports.contains(cell.port) else {
                    throw ScenarioError(
                        step.location, "expect names \(cell.from) -> \(cell.to) on \(cell.port), which this probe does not probe")
                }
            }
            let overlap = Set(allow).intersection(deny)
            if let cell = overlap.first {
                throw ScenarioError(step.location, "expect lists \(cell.from) -> \(cell.to) on \(cell.port) under both allow and deny")
            }
        }
    }

    /// What the file expects for one cell: a decision, or nil for "not checked" / "follow the model".
    public func explicitExpectation(from: ObjectKey, to cellDestination: Endpoint, port: ProtocolPort) -> ExpectedCell {
        // A Service cell aims at one backend; the file's columns name the Service.
        let to = cellDestination.column
        switch expect {
        case .model: return .model
        case .tables(let tables):
            switch tables[port]?.mark(from: from, to: to) {
            case .connected: return .explicit(.allow)
            case .blocked: return .explicit(.deny)
            case .unchecked, nil: return .ignored
            }
        case .exceptions(let fallback, let allow, let deny):
            let cell = Cell(from: from, to: to, port: port)
            if allow.contains(cell) { return .explicit(.allow) }
            if deny.contains(cell) { return .explicit(.deny) }
            // A pod reaching itself is not a network question: unlisted, it is not checked.
            if case .pod(let key) = to, key == from { return .ignored }
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
