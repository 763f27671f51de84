import KeycardModel
import KeycardTestSupport
import KeycardValues

/// Random clusters over three namespaces, a handful of pods and policies using every feature of
/// NetworkPolicySpec, for comparing the compiled rules with the model.
struct RandomCluster {
    var rng: SeededGenerator
    let namespaces = ["x", "y", "z"]
    let apps = ["web", "db", "api"]

    init(seed: UInt64) { rng = SeededGenerator(seed: seed) }

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }
    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &rng) < percent }

    /// The cluster and each pod's node (of 2).
    mutating func make(policies count: Int) -> (Cluster, [ObjectKey: Int]) {
        var cluster = Cluster()
        var nodes: [ObjectKey: Int] = [:]
        var next: UInt32 = 0x0AF4_0001
        for ns in namespaces {
            cluster.namespaces[ns] = Namespace(name: ns, labels: ["ns": ns, "tier": pick(["a", "b"])])
            for index in 0..<Int.random(in: 1...3, using: &rng) {
                var ports: [ContainerPort] = [ContainerPort(name: "http", port: 80)]
                if chance(50) { ports.append(ContainerPort(name: "dns", port: 53, proto: .udp)) }
                if chance(50) { ports.append(ContainerPort(name: pick(["alt", "http2"]), port: 8080)) }
                let pod = Pod(namespace: ns, name: "p\(index)", labels: ["app": pick(apps)], ports: ports)
                cluster.pods[pod.key] = pod
                cluster.addresses[pod.key] = IPv4(next)
                nodes[pod.key] = Int.random(in: 0...1, using: &rng)
                next += 1
            }
        }
        cluster.externals["ext"] = External(name: "ext", ip: IPv4(0xC000_020A), ports: [ProtocolPort(.tcp, 80)])
        for index in 0..<count {
            let policy = makePolicy(index)
            cluster.policies[policy.key] = policy
        }
        return (cluster, nodes)
    }

    mutating func selector() -> LabelSelector {
        switch Int.random(in: 0..<5, using: &rng) {
        case 0: return .everything
        case 1: return LabelSelector(matchLabels: ["app": pick(apps)])
        case 2: return LabelSelector(matchExpressions: [.init(key: "app", operator: .in, values: [pick(apps), pick(apps)])])
        case 3: return LabelSelector(matchExpressions: [.init(key: "app", operator: .notIn, values: [pick(apps)])])
        default: return LabelSelector(matchExpressions: [.init(key: pick(["app", "missing"]), operator: pick([.exists, .doesNotExist]))])
        }
    }

    mutating func namespaceSelector() -> LabelSelector {
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: return .everything
        case 1: return LabelSelector(matchLabels: ["tier": pick(["a", "b"])])
        default: return LabelSelector(matchLabels: [Namespace.nameLabel: pick(namespaces)])
        }
    }

    mutating func peer() -> NetworkPolicy.Peer {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return .init(podSelector: selector())
        case 1: return .init(namespaceSelector: namespaceSelector())
        case 2: return .init(podSelector: selector(), namespaceSelector: namespaceSelector())
        default:
            let cidr = pick(["10.244.0.0/29", "10.244.0.0/16", "0.0.0.0/0", "192.0.2.0/24", "fd00::/8"])
            var block = NetworkPolicy.IPBlock(cidr: CIDR.parse(cidr) ?? .ipv4(IPv4(0), 0))
            if cidr == "10.244.0.0/16" || cidr == "0.0.0.0/0", chance(60) {
                block.except = [CIDR.parse(pick(["10.244.0.2/31", "10.244.0.4/32", "10.244.0.0/30"])) ?? .ipv4(IPv4(0), 32)]
            }
            return .init(ipBlock: block)
        }
    }

    mutating func port() -> NetworkPolicy.Port {
        let proto: TransportProtocol = pick([.tcp, .tcp, .udp, .sctp])
        switch Int.random(in: 0..<5, using: &rng) {
        case 0: return .init(proto: proto)
        case 1: return .init(proto: proto, port: .number(pick([80, 53, 8080, 81])))
        case 2: return .init(proto: proto, port: .number(pick([53, 79, 80])), endPort: pick([80, 8080]))
        default: return .init(proto: proto, port: .name(pick(["http", "dns", "alt", "http2", "nothere"])))
        }
    }

    mutating func rules() -> [NetworkPolicy.Rule]? {
        if chance(20) { return nil }
        return (0..<Int.random(in: 0...2, using: &rng)).map { _ in
            NetworkPolicy.Rule(
                peers: chance(30) ? nil : (0..<Int.random(in: 0...2, using: &rng)).map { _ in peer() },
                ports: chance(40) ? nil : (0..<Int.random(in: 0...2, using: &rng)).map { _ in port() })
        }
    }

    mutating func makePolicy(_ index: Int) -> NetworkPolicy {
        let types: [NetworkPolicy.PolicyType]? = pick([nil, [], [.ingress], [.egress], [.ingress, .egress]])
        return NetworkPolicy(
            namespace: pick(namespaces), name: "p\(index)", podSelector: selector(),
            policyTypes: types, ingress: rules(), egress: rules())
    }
}
