import KeycardModel
import KeycardValues

/// A probe step with its defaults filled in from the cluster at that step, and its expectation
/// checked against exactly those sources, destinations and ports.
public struct ResolvedProbe: Sendable {
    public var sources: [ObjectKey]
    public var destinations: [Endpoint]
    public var ports: [ProtocolPort]
    public var expect: Expectation
    /// What the sources present and send (spec mesh.md 2.4).
    public var request: MeshRequest

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
            default: break
            }
        }
        request = probe.request
        if let ports = probe.ports {
            self.ports = ports
        } else if request.http != nil {
            // spec mesh.md 2.4: without ports, an http probe covers the HTTP ports its destinations serve.
            self.ports = Set(
                destinations.flatMap { destination -> [ProtocolPort] in
                    guard case .pod(let key) = destination, let pod = cluster.pods[key] else { return [] }
                    return pod.ports.filter { pod.isHTTPPort($0.port) && $0.proto == .tcp }.map { ProtocolPort(.tcp, $0.port) }
                }
            ).sorted()
            if self.ports.isEmpty {
                throw ScenarioError(
                    step.location, "probe has http but no destination serves an HTTP port (a port named http or http-<suffix>)")
            }
        } else {
            self.ports = Set(destinations.flatMap { cluster.servedPorts(of: $0) }).sorted()
            if self.ports.isEmpty {
                throw ScenarioError(step.location, "probe has no port to probe: no destination serves one; name ports")
            }
        }
        if sources.isEmpty { throw ScenarioError(step.location, "probe has no source: no pod exists at this step") }
        expect = probe.expect
        try checkHTTP(step, cluster)
        try check(step)
    }

    /// spec mesh.md 2.4: `http` only towards ports declared HTTP (R37); keycard does not guess.
    private func checkHTTP(_ step: Step, _ cluster: Cluster) throws(ScenarioError) {
        guard request.http != nil else { return }
        for port in ports {
            guard port.proto == .tcp else { throw ScenarioError(step.location, "probe has http, but \(port) is not TCP") }
            for destination in destinations {
                guard case .pod(let key) = destination, let pod = cluster.pods[key] else {
                    throw ScenarioError(step.location, "probe has http, but \(destination) is not a pod with HTTP ports")
                }
                if !pod.isHTTPPort(port.port) {
                    throw ScenarioError(
                        step.location,
                        "probe has http, but \(port) of \(key) is not an HTTP port (R37: name the container port http or http-<suffix>); Istio would sniff, keycard does not guess"
                    )
                }
            }
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
        case .exceptions(_, let lists):
            var seen: [Cell: Decision] = [:]
            for decision in Decision.allCases {
                for cell in lists[decision] ?? [] {
                    guard sources.contains(cell.from), destinations.contains(cell.to), ports.contains(cell.port) else {
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
    public func explicitExpectation(from: ObjectKey, to: Endpoint, port: ProtocolPort) -> ExpectedCell {
        switch expect {
        case .model: return .model
        case .tables(let tables):
            guard let decision = tables[port]?.mark(from: from, to: to)?.decision else { return .ignored }
            return .explicit(decision)
        case .exceptions(let fallback, let lists):
            let cell = Cell(from: from, to: to, port: port)
            if let listed = Decision.allCases.first(where: { lists[$0]?.contains(cell) ?? false }) { return .explicit(listed) }
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
