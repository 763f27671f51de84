import KeycardModel

/// A scan step resolved against the cluster at its step: the pods it scans from (one, or every
/// replica of a workload, each scanning in turn) and the open endpoints it expects, workloads
/// expanded to their pods.
public struct ResolvedScan: Sendable {
    /// The scanning pods, in key order for a workload, or the scanning external (`external/NAME`).
    public var sources: [ObjectKey]
    /// The exact open set each source must see (itself excluded), or nil to compare with the model.
    public var expectOpen: Set<ScanEndpoint>?

    init(_ scan: ScanStep, step: Step, cluster: Cluster) throws(ScenarioError) {
        var from = scan.from
        // `external/NAME` or `node/NAME` naming a pod of a namespace called so.
        if case .endpoint(let written) = from { from = .endpoint(cluster.resolve(written)) }
        switch from {
        case .endpoint(.pod(let key)):
            guard cluster.pods[key] != nil else { throw ScenarioError(step.location, "scan.from: pod \(key) does not exist at this step") }
            sources = [key]
        case .workload(let key):
            guard cluster.workloads[key] != nil else { throw ScenarioError(step.location, "scan.from: \(key) does not exist at this step") }
            sources = cluster.pods(of: key).map(\.key)
            if sources.isEmpty { throw ScenarioError(step.location, "scan.from: \(key) has no pod at this step") }
        case .endpoint(.external(let name)):
            guard cluster.externals[name] != nil else {
                throw ScenarioError(step.location, "scan.from: external \(name) is not declared in spec.externals")
            }
            sources = [.external(name)]
        case .endpoint(.node(let name)):
            guard cluster.nodeIndex(name) != nil else {
                throw ScenarioError(step.location, "scan.from: the lab has no node \(name) (spec.lab.nodes)")
            }
            sources = [.node(name)]
        case .endpoint(let endpoint):
            throw ScenarioError(step.location, "scan.from: \(endpoint) is not a pod, a workload, an external or a node")
        }
        // The limit holds for the step: every replica of a workload scans the whole range.
        let targets: UInt64
        switch scan.targets {
        case .pods: targets = UInt64(cluster.pods.count + cluster.services.count)
        case .cidr(let cidr): targets = cidr.size
        }
        let connections = UInt64(sources.count) * targets * UInt64(scan.ports.count)
        if connections > UInt64(ScanStep.maximumConnections) {
            throw ScenarioError(
                step.location,
                "scan: \(sources.count) scanners × \(targets) targets × \(scan.ports.count) ports is \(connections) connections, more than the \(ScanStep.maximumConnections) a scan step may try (scan from one pod, a smaller CIDR or fewer ports)"
            )
        }
        guard let open = scan.expectOpen else {
            expectOpen = nil
            return
        }
        var expanded: Set<ScanEndpoint> = []
        for endpoint in open {
            // An expectation the scan cannot meet is a mistake in the file, as a probe's is.
            guard scan.ports.contains(endpoint.port) else {
                throw ScenarioError(
                    step.location,
                    "expect.open: \(endpoint) is on port \(endpoint.port), which this scan does not scan (ports: \(scan.ports.map(String.init).joined(separator: ", ")))"
                )
            }
            if case .ip(let ip) = endpoint.host, case .cidr(let cidr) = scan.targets, !cidr.contains(ip) {
                throw ScenarioError(step.location, "expect.open: \(endpoint) is outside the scanned targets \(cidr)")
            }
            switch endpoint.host {
            case .pod(let key):
                guard cluster.pods[key] != nil else {
                    throw ScenarioError(step.location, "expect.open: pod \(key) does not exist at this step")
                }
                expanded.insert(endpoint)
            case .workload(let key):
                guard cluster.workloads[key] != nil else {
                    throw ScenarioError(step.location, "expect.open: \(key) does not exist at this step")
                }
                for pod in cluster.pods(of: key) { expanded.insert(ScanEndpoint(host: .pod(pod.key), port: endpoint.port)) }
            case .ip: expanded.insert(endpoint)
            }
        }
        expectOpen = expanded
    }

    /// What `source` must see open: the expectation without its own endpoints (a scan skips itself).
    public func expectOpen(for source: ObjectKey) -> Set<ScanEndpoint>? {
        expectOpen?.filter { $0.host != .pod(source) }
    }
}
