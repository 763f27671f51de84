import KeycardModel
import KeycardValues

extension ExternalBlocks {
    /// The name prefix of a stand-in external (`ExternalBlocks.standIns`): never a name a
    /// scenario can give (external names are DNS labels, which have no `:`).
    static let standInPrefix = "block:"

    /// A stand-in external for every piece that holds no declared external of `clusters`: np-guard's
    /// diff always has its IP-block peers (`0.0.0.0-255.255.255.255[External]` when no policy
    /// names a block), so a change that opens a pod to the internet is a row even when the
    /// scenario declares no external. Each stand-in sits at its piece's first address that is no
    /// address of the lab (a pod, node, Service, load balancer or the lab's router; a piece with
    /// none in its first 256 addresses gets none), and serves, as the ports a pod may reach
    /// there, every port a pod of the clusters serves and every port number a rule names (`namedPorts`):
    /// keycard judges cells, and these are the ones a policy can tell apart.
    /// Its verdicts are the model's; `diff --prove` has no lab host there and proves none of them.
    static func standIns(for clusters: [Cluster]) -> [External] {
        let blocks = ExternalBlocks(clusters)
        let declared = clusters.flatMap { $0.externals.values.map(\.ip.value) }
        let ports = Array(Self.namedPorts(clusters)).sorted()
        var standIns: [External] = []
        for piece in blocks.starts.indices {
            let range = blocks.range(piece, piece)
            guard !declared.contains(where: range.contains) else { continue }
            var candidate = range.lowerBound
            var chosen: UInt32?
            for _ in 0..<256 {
                if clusters.allSatisfy({ Self.isOutsideTheLab(IPv4(candidate), $0) }) {
                    chosen = candidate
                    break
                }
                guard candidate < range.upperBound else { break }
                candidate += 1
            }
            guard let chosen else { continue }
            standIns.append(External(name: "\(standInPrefix)\(IPv4(chosen))", ip: IPv4(chosen), ports: ports))
        }
        return standIns
    }

    /// Whether nothing of the lab answers at `address` in `cluster`.
    static func isOutsideTheLab(_ address: IPv4, _ cluster: Cluster) -> Bool {
        guard case .address = cluster.endpoint(at: address), !LabNetwork.isRouterAddress(address) else { return false }
        return !cluster.services.values.contains { $0.clusterIP == address || $0.loadBalancerIngress == address }
    }

    /// Every port a pod of `clusters` serves (Service target ports included) and every port
    /// number their NetworkPolicy and ClusterNetworkPolicy rules name, with the ports just inside
    /// each end of a range (`insertBoundaries`).
    static func namedPorts(_ clusters: [Cluster]) -> Set<ProtocolPort> {
        var ports: Set<ProtocolPort> = []
        // A verdict is the same from one boundary to the next: a range's ends and the ports just
        // inside them stand for its interior, so a hole cut inside it shows (1000-2000 become
        // 1000 and 2000: 1001 and 1999 are lost).
        func insertBoundaries(_ proto: TransportProtocol, _ range: ClosedRange<Int>) {
            let inside = range.count > 2 ? [range.lowerBound + 1, range.upperBound - 1] : []
            for port in [range.lowerBound, range.upperBound] + inside where (1...65535).contains(port) {
                ports.insert(ProtocolPort(proto, port))
            }
        }
        for cluster in clusters {
            for key in cluster.pods.keys { ports.formUnion(cluster.servedPortsIncludingServices(of: key)) }
            for policy in cluster.policies.values {
                for rule in (policy.ingress ?? []) + (policy.egress ?? []) {
                    for port in rule.ports ?? [] {
                        guard case .number(let number)? = port.port else { continue }
                        insertBoundaries(port.proto, number...(port.endPort ?? number))
                    }
                }
            }
            for policy in cluster.clusterPolicies.values {
                for rule in policy.ingress + policy.egress {
                    for match in rule.protocols ?? [] {
                        guard case .port(let proto, let range?) = match else { continue }
                        insertBoundaries(proto, range)
                    }
                }
            }
        }
        return ports.filter { $0.proto != .icmp && $0.port > 0 }
    }
}
