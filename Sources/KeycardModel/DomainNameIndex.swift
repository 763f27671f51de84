import KeycardValues
import Synchronization

/// The names the lab's cluster DNS answers with each address, for `domainNames` peers: built
/// once per engine, at the first `domainNames` rule judged, instead of once per address judged
/// (the compiler asks `PolicyEngine.matches` for every address of the lab).
final class DomainNameIndex: Sendable {
    /// Names whose A records hold one address: `exact` for exact entries, `wildcard` for `*.`
    /// entries, which do not select through a ClusterIP Service's endpoint names
    /// (`PolicyEngine.clusterIPEndpointNames`).
    struct Names {
        var exact: [String] = []
        var wildcard: [String] = []
    }

    private let index = Mutex<[IPv4: Names]?>(nil)

    /// The names `address` answers for in `cluster` (the one the engine was made for).
    func names(for address: IPv4, in cluster: Cluster) -> Names {
        if let known = index.withLock({ $0 }) { return known[address] ?? Names() }
        let built = Self.build(cluster)
        index.withLock { $0 = built }
        return built[address] ?? Names()
    }

    private static func build(_ cluster: Cluster) -> [IPv4: Names] {
        let records = DNSRecords(cluster)
        let unselectable = PolicyEngine.clusterIPEndpointNames(cluster, domain: records.domain)
        var index: [IPv4: Names] = [:]
        for (name, addresses) in records.addresses {
            for address in addresses {
                index[address, default: Names()].exact.append(name)
                if !unselectable.contains(name) { index[address, default: Names()].wildcard.append(name) }
            }
        }
        return index
    }
}
