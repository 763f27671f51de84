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
        for written in open {
            let location = scan.expectOpenLocations[written] ?? step.location
            // An expectation the scan cannot meet is a mistake in the file, as a probe's is.
            guard scan.ports.contains(written.port) else {
                throw ScenarioError(
                    location,
                    "expect.open: \(written) is on port \(written.port), which this scan does not scan (ports: \(scan.ports.map(String.init).joined(separator: ", ")))"
                )
            }
            if case .ip(let ip) = written.host, case .cidr(let cidr) = scan.targets, !cidr.contains(ip) {
                throw ScenarioError(location, "expect.open: \(written) is outside the scanned targets \(cidr)")
            }
            // `targets: pods` dials pods' addresses only (`Cluster.scanTargets`), a host-network
            // pod's being its node's: any other address is never scanned, and could never be open.
            if case .ip(let ip) = written.host, scan.targets == .pods,
                !cluster.pods.keys.contains(where: { cluster.addresses[$0] == ip })
            {
                throw ScenarioError(
                    location, "expect.open: \(written) is no pod's address at this step, and this scan scans pods only (targets: pods)")
            }
            // A pod's address is that pod: the report names what it reaches by the pod
            // (`ModelReport.scanEndpoint`), so `ip:port` of a pod must be compared as the pod.
            var endpoint = written
            if case .ip(let ip) = written.host, case .pod(let key) = cluster.endpoint(at: ip) {
                endpoint = ScanEndpoint(host: .pod(key), port: written.port)
            }
            var pods: [ObjectKey] = []
            switch endpoint.host {
            case .pod(let key):
                guard cluster.pods[key] != nil else {
                    throw ScenarioError(location, "expect.open: pod \(key) does not exist at this step")
                }
                pods = [key]
                expanded.insert(endpoint)
            case .workload(let key):
                guard cluster.workloads[key] != nil else {
                    throw ScenarioError(location, "expect.open: \(key) does not exist at this step")
                }
                pods = cluster.pods(of: key).map(\.key)
                for pod in pods { expanded.insert(ScanEndpoint(host: .pod(pod), port: endpoint.port)) }
            case .ip: expanded.insert(endpoint)
            }
            // A scan skips its own address: an endpoint of the only scanner can never be open, and
            // was dropped from the comparison without a word (another replica of a scanning
            // workload does scan it).
            if sources.count == 1, let own = sources.first, pods.contains(own) {
                let named = written.host == endpoint.host ? "" : " (the address of \(own))"
                throw ScenarioError(
                    location,
                    "expect.open: \(written)\(named) is the scanning pod itself, which a scan never scans (it skips its own address)")
            }
        }
        expectOpen = expanded
    }

    /// What `source` must see open: the expectation without its own endpoints (a scan skips itself).
    public func expectOpen(for source: ObjectKey) -> Set<ScanEndpoint>? {
        expectOpen?.filter { $0.host != .pod(source) }
    }
}
