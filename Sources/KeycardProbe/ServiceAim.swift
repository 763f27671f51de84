import KeycardModel
import KeycardRuleset
import KeycardValues

/// How a probe to a Service reaches a chosen backend honestly: through the real ClusterIP, from a
/// source port that the proxy's endpoint choice (`jhash th sport mod N`, `ServiceHash`) sends to
/// that backend. The destination is never rewritten in user space.
public struct ServiceAim: Sendable {
    /// Each Service port's endpoints in the proxy's order, by Service and `proto/port`.
    let routes: [ObjectKey: [ProtocolPort: [ServiceBackend]]]
    /// Source ports are searched from here (a random start per step, below Linux's ephemeral range
    /// 32768-60999, so that a stale UDP conntrack entry of an earlier step is unlikely to be met).
    let start: UInt16
    /// The cluster the aim was made for: node-port and load-balancer paths (`aimExposed`).
    let cluster: Cluster

    public init(_ cluster: Cluster, start: UInt16 = UInt16.random(in: 20000...31000)) {
        var routes: [ObjectKey: [ProtocolPort: [ServiceBackend]]] = [:]
        for service in cluster.services.values {
            for port in service.ports { routes[service.key, default: [:]][port.protocolPort] = cluster.backends(of: service, port: port) }
        }
        self.routes = routes
        self.start = start
        self.cluster = cluster
    }

    /// The source port, backend address and target port for a cell from `source` to
    /// `.service(key, backend)` on `port`; nil when the cell does not aim at a backend, or the
    /// proxy of the source's node never sends there (`ClusterIPPath`: internalTrafficPolicy Local,
    /// see `strayPort`). `used` holds the ports taken already in the source's namespace (each is
    /// bound once per wave).
    public func aim(from source: ObjectKey, _ destination: Endpoint, _ port: ProtocolPort, used: inout Set<UInt16>) -> (
        sourcePort: UInt16, backend: ServiceBackend
    )? {
        if case .exposed = destination { return aimExposed(destination, port, used: &used) }
        guard case .service(let key, let pod?) = destination, let backends = endpoints(from: source, key, port),
            let index = backends.firstIndex(where: { $0.pod == pod })
        else { return nil }
        guard let sourcePort = freeSourcePort(landingOn: index, of: backends.count, used: &used) else { return nil }
        return (sourcePort, backends[index])
    }

    /// A source port not in `used` whose hash sends a connection to endpoint `index` of `count`
    /// (from this step's `start`, else from 20000), taken into `used`; nil when none is left.
    func freeSourcePort(landingOn index: Int, of count: Int, used: inout Set<UInt16>) -> UInt16? {
        let found =
            ServiceHash.sourcePort(landingOn: index, of: count, in: start...32767, skipping: used)
            ?? ServiceHash.sourcePort(landingOn: index, of: count, in: 20000...32767, skipping: used)
        if let found { used.insert(found) }
        return found
    }
}
