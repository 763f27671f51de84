import KeycardModel
import KeycardValues

/// One connection of a TCP connect scan and the model's prediction for it.
public struct PredictedScan: Sendable, Hashable {
    /// What the connection reaches: a pod, an external, a node, a bare address, a Service's
    /// ClusterIP (`.service(key, backend:)`, the backend the scanner aims at) or a node port or
    /// load-balancer address (`.exposed`).
    public var endpoint: Endpoint
    public var ip: IPv4
    /// The TCP port connected to.
    public var port: Int
    /// nil: not judged, as Kubernetes leaves it to the implementation (see `Cluster.scanTargets`).
    public var model: ScanState?
    /// Through a node port or load balancer with externalTrafficPolicy Cluster to an endpoint on
    /// another node: the entry node's address, which the connection is source-NATed to and the
    /// backend's policies judge (`ExposedPath.sourceNAT`); nil when the source address is kept.
    public var sourceNAT: IPv4?

    /// Whether a report may leave it out when nothing answered, as predicted: a bare address, or a
    /// Service address on a port the Service does not have (a scan over a CIDR meets thousands).
    public func isQuiet(observed: ScanState?) -> Bool {
        guard model == .filtered, observed == nil || observed == .filtered else { return false }
        switch endpoint {
        case .address, .service(_, backend: nil), .exposed(_, _, backend: nil): return true
        default: return false
        }
    }
}

extension Cluster {
    /// The endpoints a TCP connect scan from `source` covers, with the model's prediction for each
    /// port: `filtered` where nothing answers (an address with no endpoint, or a policy denies),
    /// `refused` where the mesh refuses, else `open` or `closed` as the endpoint listens on the port.
    /// One model for a scan step of a scenario (`Timeline.scanTargets`) and `keycard scan` on a
    /// live lab.
    ///
    /// A Service's ClusterIP is judged from a pod off the host network, as kube-proxy translates
    /// it (`ClusterIPPath`): on a Service port with endpoints the connection reaches one backend,
    /// and the scan aims at the backend that answers best (open, then closed, then refused), so
    /// the prediction says whether any backend is reachable — what a scanner that tries again
    /// finds. A port without endpoints is filtered (the lab's proxy drops, `ServiceProxyCompiler`),
    /// as is a port the Service does not have. From an external, a node port or a load-balancer
    /// address is judged the same way along `NodePortPath`. A pod's or a node's connection to a
    /// node port or a load-balancer address, a ClusterIP from a node or an external, and a pod's own
    /// Service reached through its ClusterIP with no other backend (hairpin), and the lab router's
    /// own addresses (`LabNetwork.isRouterAddress`) are not judged (model nil): where NetworkPolicy sees such traffic is left to the implementation
    /// (network-policies#what-you-can-t-do-with-network-policies-at-least-not-yet), and the lab
    /// builds no hairpin path.
    /// - Parameters:
    ///   - targets: every pod but the source, or every address of a CIDR but the source's.
    ///   - ports: TCP port numbers, scanned in this order for each address.
    ///   - meshIdentity: what the scanner presents to meshed destinations; nil judges no mesh.
    ///   - listening: ports pods listen on besides their container ports: the target ports the
    ///     lab serves for Services (a scenario's at any step, `Timeline.serviceTargetPorts`; a
    ///     live lab's as it was brought up).
    /// - Returns: one target per address and port, addresses in `targets` order.
    public func scanTargets(
        from source: ObjectKey, _ targets: ScanStep.Targets, ports: [Int], meshIdentity: ProbeIdentity?,
        listening: [ObjectKey: Set<ProtocolPort>] = [:]
    ) -> [PredictedScan] {
        let judge = ScanJudge(self, source: source, meshIdentity: meshIdentity, listening: listening)
        let ownIP = addresses[source]
        var scanned: [IPv4] = []
        switch targets {
        case .pods:
            // Host-network pods of one node share its address: scanned once.
            var seen: Set<IPv4> = ownIP.map { [$0] } ?? []
            scanned = sortedPods.filter { $0.key != source }.compactMap { addresses[$0.key] }.filter { seen.insert($0).inserted }
        case .cidr(let cidr):
            var value = cidr.network
            while true {
                if IPv4(value) != ownIP { scanned.append(IPv4(value)) }
                if value == cidr.last { break }
                value += 1
            }
        }
        var result: [PredictedScan] = []
        result.reserveCapacity(scanned.count * ports.count)
        for ip in scanned {
            let found = endpoint(at: ip)
            for port in ports {
                let (endpoint, model) = judge.predict(ip, found, port: port)
                var target = PredictedScan(endpoint: endpoint, ip: ip, port: port, model: model)
                if case .exposed(let key, let entry, let backend?) = endpoint {
                    target.sourceNAT = exposedPath(key, entry, backend: backend, port: ProtocolPort(.tcp, port))?.sourceNAT
                }
                result.append(target)
            }
        }
        return result
    }
}

/// The scan model for one source (`Cluster.scanTargets`), also what `ModelProbeRunner` answers.
public struct ScanJudge: Sendable {
    let cluster: Cluster
    let source: ObjectKey
    let engine: PolicyEngine
    let mesh: (engine: MeshEngine, identity: ProbeIdentity)?
    let listening: [ObjectKey: Set<ProtocolPort>]
    let servicesByAddress: [IPv4: Service]
    let loadBalancers: [IPv4: Service]

    /// - Parameters: as `Cluster.scanTargets`.
    public init(_ cluster: Cluster, source: ObjectKey, meshIdentity: ProbeIdentity?, listening: [ObjectKey: Set<ProtocolPort>] = [:]) {
        self.cluster = cluster
        self.source = source
        engine = PolicyEngine(cluster)
        mesh = meshIdentity.map { (engine: MeshEngine(cluster), identity: $0) }
        self.listening = listening
        var byAddress: [IPv4: Service] = [:]
        var balancers: [IPv4: Service] = [:]
        for service in cluster.sortedServices {
            if let ip = service.clusterIP, byAddress[ip] == nil { byAddress[ip] = service }
            if let ip = service.loadBalancerIngress, balancers[ip] == nil { balancers[ip] = service }
        }
        servicesByAddress = byAddress
        loadBalancers = balancers
    }

    /// The endpoint a connection to `ip`:`port` reaches (`found`: what `Cluster.endpoint(at:)`
    /// says lives at `ip`) and its predicted state; nil: not judged.
    func predict(_ ip: IPv4, _ found: Endpoint, port: Int) -> (Endpoint, ScanState?) {
        let tcp = ProtocolPort(.tcp, port)
        let sourceEndpoint = cluster.source(source)
        switch found {
        case .address:
            if let service = servicesByAddress[ip] { return clusterIP(service, tcp, from: sourceEndpoint) }
            if let service = loadBalancers[ip] {
                return exposed(service, .loadBalancer, tcp, from: sourceEndpoint)
            }
            // The lab's router is no part of the cluster: reported, not judged.
            if LabNetwork.isRouterAddress(ip) { return (found, nil) }
            return (found, .filtered)
        case .node(let name):
            guard let index = cluster.nodeIndex(name), let service = cluster.nodePortService(tcp) else { return (found, state(found, tcp)) }
            return exposed(service, .node(index), tcp, from: sourceEndpoint)
        default:
            return (found, state(found, tcp))
        }
    }

    /// A connection to `service`'s ClusterIP on `port`.
    func clusterIP(_ service: Service, _ port: ProtocolPort, from sourceEndpoint: Endpoint) -> (Endpoint, ScanState?) {
        let bare = Endpoint.service(service.key)
        // A port the Service lacks is translated nowhere: nothing answers, whoever asks.
        guard let servicePort = service.ports.first(where: { $0.protocolPort == port }) else { return (bare, .filtered) }
        guard case .pod(let key) = sourceEndpoint, cluster.pods[key]?.hostNetwork == false else {
            // The proxy translates pods' connections only (the lab's table sits in pod namespaces,
            // or at nodes' prerouting): a node or an external is not judged.
            return (bare, nil)
        }
        let backends = ClusterIPPath.endpoints(cluster, service, servicePort, node: cluster.clientNode(of: sourceEndpoint))
        let others = backends.filter { $0.pod != source }
        if backends.isEmpty { return (bare, .filtered) }
        if others.isEmpty { return (.service(service.key, backend: source), nil) }
        return best(others.map { Endpoint.service(service.key, backend: $0.pod) }, port)
    }

    /// A connection to `service` through `entry` (a node port, or the load balancer) on `port`.
    func exposed(_ service: Service, _ entry: ServiceEntry, _ port: ProtocolPort, from sourceEndpoint: Endpoint) -> (
        Endpoint, ScanState?
    ) {
        let bare = Endpoint.exposed(service.key, entry)
        guard let servicePort = cluster.exposedPort(service, entry, port) else { return (bare, .filtered) }
        guard sourceEndpoint.isExternal else {
            // Not judged; aimed at one backend all the same, so repeated runs answer alike.
            let first = cluster.backends(of: service, port: servicePort).map(\.pod).first {
                cluster.exposedPath(service.key, entry, backend: $0, port: port) != nil
            }
            return (first.map { Endpoint.exposed(service.key, entry, backend: $0) } ?? bare, nil)
        }
        let reachable = cluster.backends(of: service, port: servicePort).map(\.pod).filter {
            cluster.exposedPath(service.key, entry, backend: $0, port: port) != nil
        }
        if reachable.isEmpty { return (bare, .filtered) }
        return best(reachable.map { Endpoint.exposed(service.key, entry, backend: $0) }, port)
    }

    /// The first of `candidates` whose state ranks highest: open, closed, refused, filtered.
    func best(_ candidates: [Endpoint], _ port: ProtocolPort) -> (Endpoint, ScanState?) {
        let rank: [ScanState: Int] = [.open: 3, .closed: 2, .refused: 1, .filtered: 0]
        var chosen = (candidates[0], state(candidates[0], port))
        for candidate in candidates.dropFirst() {
            let seen = state(candidate, port)
            if rank[seen, default: 0] > rank[chosen.1, default: 0] { chosen = (candidate, seen) }
        }
        return chosen
    }

    /// The model's state for a connection to `endpoint` on `port`.
    public func state(_ endpoint: Endpoint, _ port: ProtocolPort) -> ScanState {
        if case .address = endpoint { return .filtered }
        let meshVerdict = mesh.map {
            $0.engine.evaluate(from: source, to: endpoint, port: port, request: .scan($0.identity, to: endpoint))
        }
        if engine.evaluate(fromSource: source, to: endpoint, port: port, mesh: meshVerdict).decision == .deny { return .filtered }
        if let meshVerdict, meshVerdict.outcome != .allow { return .refused }
        if case .pod(let pod) = endpoint { return listens(pod, port) ? .open : .closed }
        // A node's address serves what its host-network pods listen on (their ports live in the node's namespace).
        if case .node(let name) = endpoint, let index = cluster.nodeIndex(name) {
            let hostPods = cluster.pods.values.filter { $0.hostNetwork && cluster.podNodes[$0.key] == index }
            return hostPods.contains { listens($0.key, port) } ? .open : .closed
        }
        if let backend = cluster.backendTarget(endpoint, port) { return listens(backend.pod, backend.target) ? .open : .closed }
        return cluster.servedPorts(of: endpoint).contains(port) ? .open : .closed
    }

    /// Whether `pod` answers on `port`: its container ports, and (the lab's port servers) every
    /// target port a Service sends it; a pod running a `command:` program has no port server,
    /// only what it declares is assumed served.
    func listens(_ pod: ObjectKey, _ port: ProtocolPort) -> Bool {
        if cluster.servedPorts(of: .pod(pod)).contains(port) { return true }
        guard cluster.pods[pod]?.commands.isEmpty != false else { return false }
        return listening[pod]?.contains(port) == true
    }
}
