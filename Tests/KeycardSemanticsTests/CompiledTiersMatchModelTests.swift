import KeycardCompiler
import KeycardModel
import KeycardRuleset
import KeycardValues
import Testing

/// The ClusterNetworkPolicy tier chains (`PolicyCompiler.tiers`), evaluated by the interpreter of
/// the ruleset values, give the model's verdict for every connection of random clusters with
/// random Admin and Baseline policies on top of random NetworkPolicies, in both placements.
@Suite("Compiled tiers implement the model")
struct CompiledTiersMatchModelTests {
    @Test(arguments: Placement.allCases)
    func randomClustersWithTiers(_ placement: Placement) {
        var checked = 0
        var denied = 0
        var decidedByTiers = 0
        for seed in UInt64(1)...120 {
            var generator = RandomCluster(seed: seed)
            let (cluster, nodes) = generator.makeWithClusterPolicies(Int(seed % 4), clusterPolicies: 1 + Int(seed % 4))
            var compiler = PolicyCompiler(labName: "sem", placement: placement)
            compiler.tiers = true
            let tables = compiler.compile(cluster, nodes: nodes, nodeCount: 2)
            let engine = PolicyEngine(cluster)
            for source in cluster.sortedPods {
                let destinations = cluster.sortedPods.map { Endpoint.pod($0.key) } + [.external("ext")]
                for destination in destinations where destination != .pod(source.key) {
                    for port in CompiledRulesMatchModelTests.ports {
                        let verdict = engine.evaluate(from: .pod(source.key), to: destination, port: port)
                        let real = CompiledRulesMatchModelTests.interpreted(
                            tables, placement, cluster, nodes, from: source.key, to: destination, port: port)
                        checked += 1
                        if verdict.decision == .deny { denied += 1 }
                        if !(verdict.egress.tiers + verdict.ingress.tiers).isEmpty { decidedByTiers += 1 }
                        #expect(
                            verdict.decision == real,
                            "seed \(seed): \(source.key) -> \(destination) \(port): model \(verdict.decision), rules \(real); \(verdict.egress.tiers.walkthrough) | \(verdict.ingress.tiers.walkthrough)"
                        )
                        if verdict.decision != real { return }
                    }
                }
            }
        }
        #expect(checked > 8_000)
        #expect(denied > checked / 10 && denied < checked * 9 / 10)
        #expect(decidedByTiers > checked / 4)
    }

    /// `nodes` egress peers (network-policy-api `ClusterNetworkPolicyEgressPeer.Nodes`): random
    /// clusters on two nodes with a host-network pod on each, random policies whose egress peers
    /// include node selectors (by `kubernetes.io/hostname`, `kubernetes.io/os`, or all nodes);
    /// every pod's connections to every pod and host-network pod, compiled and interpreted as the
    /// kernel meets them (`HostNetworkRulesMatchModelTests.toHost`), give the model's verdict.
    @Test(arguments: Placement.allCases)
    func randomClustersWithNodePeers(_ placement: Placement) {
        var checked = 0
        var denied = 0
        var toNodesByTiers = 0
        for seed in UInt64(1)...100 {
            var generator = RandomCluster(seed: seed)
            var (cluster, nodes) = generator.make(policies: Int(seed % 3))
            cluster.nodeCount = 2
            var hosts: [(ObjectKey, Int)] = []
            var everyNode = nodes
            for node in 0..<2 {
                var pod = Pod(namespace: "x", name: "host-\(node)", labels: ["app": "web"], ports: [ContainerPort(name: "http", port: 80)])
                pod.hostNetwork = true
                cluster.pods[pod.key] = pod
                cluster.addresses[pod.key] = LabNetwork.nodeAddress(node)
                everyNode[pod.key] = node
                hosts.append((pod.key, node))
            }
            cluster.podNodes = everyNode
            for index in 0..<(1 + Int(seed % 3)) {
                let policy = generator.makeClusterPolicy(index, nodePeers: true)
                cluster.clusterPolicies[policy.key] = policy
            }
            var compiler = PolicyCompiler(labName: "sem", placement: placement)
            compiler.tiers = true
            let tables = compiler.compile(cluster, nodes: nodes, nodeCount: 2)
            let engine = PolicyEngine(cluster)
            for source in cluster.sortedPods where !source.hostNetwork {
                for destination in cluster.sortedPods where destination.key != source.key {
                    for port in CompiledRulesMatchModelTests.ports {
                        let verdict = engine.evaluate(from: .pod(source.key), to: .pod(destination.key), port: port)
                        let real =
                            if let host = hosts.first(where: { $0.0 == destination.key }) {
                                HostNetworkRulesMatchModelTests.toHost(
                                    tables, placement, cluster, nodes, from: source.key, hostNode: host.1, port: port)
                            } else {
                                CompiledRulesMatchModelTests.interpreted(
                                    tables, placement, cluster, nodes, from: source.key, to: .pod(destination.key), port: port)
                            }
                        checked += 1
                        if verdict.decision == .deny { denied += 1 }
                        if destination.hostNetwork && !verdict.egress.tiers.isEmpty { toNodesByTiers += 1 }
                        #expect(
                            verdict.decision == real,
                            "seed \(seed): \(source.key) -> \(destination.key) \(port): model \(verdict.decision), rules \(real); \(verdict.egress.tiers.walkthrough)"
                        )
                        if verdict.decision != real { return }
                    }
                }
            }
        }
        #expect(checked > 5_000)
        #expect(denied > checked / 10 && denied < checked * 9 / 10, "\(denied) of \(checked) denied")
        #expect(toNodesByTiers > 300, "connections to host-network pods decided by a tier: \(toNodesByTiers)")
    }

    /// network-policy-api conformance `CNPAdminTierEgressNodePeers`
    /// (conformance/base/admin_tier/experimental-egress-selector-rules.yaml): Accept to nodes on
    /// TCP/34345, Pass to nodes on UDP/34347, then Deny to slytherin's pods, nodes and 0.0.0.0/0.
    /// The compiled rules carry the nodes' addresses, so the host-network pod is reached on the
    /// accepted and passed ports and a pod is denied on the passed port (a nodes peer matches no pod).
    @Test(arguments: Placement.allCases)
    func conformanceNodePeers(_ placement: Placement) throws {
        var cluster = Cluster()
        cluster.nodeCount = 2
        for house in ["gryffindor", "slytherin", "forest"] {
            cluster.namespaces[house] = Namespace(name: house, labels: ["conformance-house": house])
        }
        var nodes: [ObjectKey: Int] = [:]
        for (index, house) in ["gryffindor", "slytherin"].enumerated() {
            for node in 0..<2 {
                let pod = Pod(
                    namespace: house, name: "pod-\(node)", labels: ["conformance-house": house],
                    ports: [ContainerPort(port: 34347, proto: .udp)])
                cluster.pods[pod.key] = pod
                cluster.addresses[pod.key] = IPv4(0x0AF4_0000 + UInt32(node) * 256 + UInt32(10 + index))
                nodes[pod.key] = node
            }
        }
        var everyNode = nodes
        for node in 0..<2 {
            var centaur = Pod(
                namespace: "forest", name: "centaur-\(node)", ports: [ContainerPort(port: 34345), ContainerPort(port: 34346)])
            centaur.hostNetwork = true
            cluster.pods[centaur.key] = centaur
            cluster.addresses[centaur.key] = LabNetwork.nodeAddress(node)
            everyNode[centaur.key] = node
        }
        cluster.podNodes = everyNode
        let linux = LabelSelector(matchLabels: ["kubernetes.io/os": "linux"])
        let house = { (name: String) in LabelSelector(matchLabels: ["conformance-house": name]) }
        let cnp = ClusterNetworkPolicy(
            name: "node-and-cidr-as-peers-example", tier: .admin, priority: 75,
            subject: .pods(namespaces: house("gryffindor"), pods: house("gryffindor")),
            egress: [
                .init(action: .accept, peers: [.nodes(linux)], protocols: [.port(.tcp, 34345...34345)]),
                .init(action: .pass, peers: [.nodes(linux)], protocols: [.port(.udp, 34347...34347)]),
                .init(
                    action: .deny,
                    peers: [
                        .pods(namespaces: house("slytherin"), pods: house("slytherin")), .nodes(linux),
                        .networks([try #require(CIDR.parse("0.0.0.0/0")), try #require(CIDR.parse("::/0"))]),
                    ]),
            ])
        cluster.clusterPolicies[cnp.key] = cnp
        var compiler = PolicyCompiler(labName: "sem", placement: placement)
        compiler.tiers = true
        let tables = compiler.compile(cluster, nodes: nodes, nodeCount: 2)
        let engine = PolicyEngine(cluster)
        let client = ObjectKey("gryffindor", "pod-1")
        let cases: [(ObjectKey, ProtocolPort, Decision)] = [
            (ObjectKey("forest", "centaur-1"), ProtocolPort(.tcp, 34345), .allow),
            (ObjectKey("forest", "centaur-0"), ProtocolPort(.tcp, 34345), .allow),
            (ObjectKey("forest", "centaur-1"), ProtocolPort(.udp, 34347), .allow),
            (ObjectKey("forest", "centaur-1"), ProtocolPort(.tcp, 34346), .deny),
            (ObjectKey("slytherin", "pod-0"), ProtocolPort(.udp, 34347), .deny),
            (ObjectKey("slytherin", "pod-1"), ProtocolPort(.udp, 34347), .deny),
            (ObjectKey("gryffindor", "pod-0"), ProtocolPort(.udp, 34347), .deny),
        ]
        for (destination, port, expected) in cases {
            let model = engine.evaluate(from: .pod(client), to: .pod(destination), port: port).decision
            let real =
                if destination.namespace == "forest" {
                    HostNetworkRulesMatchModelTests.toHost(
                        tables, placement, cluster, nodes, from: client, hostNode: everyNode[destination] ?? 0, port: port)
                } else {
                    CompiledRulesMatchModelTests.interpreted(
                        tables, placement, cluster, nodes, from: client, to: .pod(destination), port: port)
                }
            #expect(model == expected, "\(client) -> \(destination) \(port): model \(model)")
            #expect(real == expected, "\(client) -> \(destination) \(port): rules \(real)")
        }
    }
}

/// The meet the controller installs between two versions of a tier table accepts nothing that
/// either version drops (docs/atomicity.md). A change that keeps every rule's action and moves
/// its peers keeps the chains, so the meet is taken set by set: a Deny's peers of either version
/// are denied (they restrict), an Admin Pass's cannot be met element-wise (the whole chains are).
@Suite("The meet of two tier tables")
struct TierMeetTests {
    @Test(arguments: Placement.allCases)
    func meetAcceptsNothingEitherDrops(_ placement: Placement) {
        var compared = 0
        var elementMeets = 0
        for seed in UInt64(1)...100 {
            var generator = RandomCluster(seed: seed)
            let (old, nodes) = generator.makeWithClusterPolicies(Int(seed % 3), clusterPolicies: 1 + Int(seed % 3))
            // The same policies, each rule with another version's peers and protocols.
            var new = old
            var changer = RandomCluster(seed: seed &+ 5000)
            for (key, policy) in old.clusterPolicies {
                let other = changer.makeClusterPolicy(0)
                func moved(_ rules: [ClusterNetworkPolicy.Rule], _ others: [ClusterNetworkPolicy.Rule]) -> [ClusterNetworkPolicy.Rule] {
                    rules.enumerated().map { index, rule in
                        guard !others.isEmpty else { return rule }
                        var copy = others[index % others.count]
                        copy.action = rule.action
                        return copy
                    }
                }
                var changed = policy
                changed.ingress = moved(policy.ingress, other.ingress)
                changed.egress = moved(policy.egress, other.egress)
                new.clusterPolicies[key] = changed
            }
            // Every other seed, other NetworkPolicies too: pods become isolated or stop being so,
            // which with tiers sends their traffic to or from the Baseline tier.
            if seed % 2 == 0 {
                new.policies = [:]
                for index in 0..<2 {
                    let policy = changer.makePolicy(index)
                    new.policies[policy.key] = policy
                }
            }
            var compiler = PolicyCompiler(labName: "sem", placement: placement)
            compiler.tiers = true
            let oldTables = compiler.compile(old, nodes: nodes, nodeCount: 2)
            let newTables = compiler.compile(new, nodes: nodes, nodeCount: 2)
            let addresses = old.addresses.values.map(\.value) + [0xC000_020A]
            for (target, oldTable) in oldTables {
                guard let newTable = newTables[target], newTable != oldTable else { continue }
                let meet = oldTable.meet(newTable)
                if meet.chains.count == newTable.chains.count { elementMeets += 1 }
                for hook in [BaseChain.Hook.input, .output, .forward] {
                    for saddr in addresses {
                        for daddr in addresses where daddr != saddr {
                            for port in CompiledRulesMatchModelTests.ports {
                                let packet = RulesetInterpreter.Packet(
                                    saddr: saddr, daddr: daddr, proto: port.proto.number, dport: UInt16(port.port))
                                guard RulesetInterpreter(table: meet).verdict(hook, packet) == .accept else { continue }
                                compared += 1
                                let old = RulesetInterpreter(table: oldTable).verdict(hook, packet)
                                let new = RulesetInterpreter(table: newTable).verdict(hook, packet)
                                #expect(
                                    old == .accept && new == .accept,
                                    "seed \(seed) \(target) \(hook): the meet accepts, old \(old), new \(new)")
                                if old != .accept || new != .accept { return }
                            }
                        }
                    }
                }
            }
        }
        #expect(compared > 5_000)
        #expect(elementMeets > 3, "the changes must exercise the element-wise meet")
    }

    /// A pod that becomes isolated under a Baseline Deny: the old version's Baseline drops `x`,
    /// the new one's NetworkPolicy lets `x` in. Uniting the isolation sets and intersecting the
    /// allow sets (the meet without tiers) would accept `x`; with tiers isolation moves traffic
    /// both ways (not isolated, the Baseline tier decides), so the whole chains are met.
    @Test func isolationUnderABaselineDenyIsMetByChains() throws {
        var cluster = Cluster()
        for name in ["a", "b"] { cluster.namespaces[name] = Namespace(name: name) }
        let web = Pod(namespace: "a", name: "web", labels: ["app": "web"], ports: [ContainerPort(port: 80)])
        let x = Pod(namespace: "b", name: "x", labels: ["app": "x"])
        for (index, pod) in [web, x].enumerated() {
            cluster.pods[pod.key] = pod
            cluster.addresses[pod.key] = IPv4(0x0AF4_0002 + UInt32(index))
            cluster.podNodes[pod.key] = 0
        }
        let baseline = ClusterNetworkPolicy(
            name: "baseline", tier: .baseline, priority: 1,
            subject: .namespaces(LabelSelector(matchLabels: ["kubernetes.io/metadata.name": "a"])),
            ingress: [.init(action: .deny, peers: [.namespaces(.everything)])])
        cluster.clusterPolicies[baseline.key] = baseline
        var new = cluster
        let allow = NetworkPolicy(
            namespace: "a", name: "allow-x", podSelector: .everything,
            ingress: [
                NetworkPolicy.Rule(peers: [.init(podSelector: LabelSelector(matchLabels: ["app": "x"]), namespaceSelector: .everything)])
            ])
        new.policies[allow.key] = allow
        var compiler = PolicyCompiler(labName: "sem", placement: .pod)
        compiler.tiers = true
        let oldTable = try #require(compiler.compile(cluster, nodes: cluster.podNodes, nodeCount: 1)[.pod(web.key)])
        let newTable = try #require(compiler.compile(new, nodes: cluster.podNodes, nodeCount: 1)[.pod(web.key)])
        let packet = RulesetInterpreter.Packet(saddr: 0x0AF4_0003, daddr: 0x0AF4_0002, proto: 6, dport: 80)
        #expect(RulesetInterpreter(table: oldTable).verdict(.input, packet) != .accept)
        #expect(RulesetInterpreter(table: newTable).verdict(.input, packet) == .accept)
        #expect(RulesetInterpreter(table: oldTable.meet(newTable)).verdict(.input, packet) != .accept)
    }

    /// An Admin Pass that moves from one peer to another: the old version passes `x` to the
    /// NetworkPolicy tier, which denies it, the new one lets `x` reach a later Accept. Neither the
    /// intersection nor the union of the Pass sets is a meet; the whole chains are met.
    @Test(arguments: Placement.allCases)
    func aPassThatMovesIsMetByChains(_ placement: Placement) throws {
        var cluster = Cluster()
        cluster.namespaces["n"] = Namespace(name: "n")
        for (index, name) in ["a", "x", "y"].enumerated() {
            let pod = Pod(namespace: "n", name: name, labels: ["app": name], ports: [ContainerPort(port: 80)])
            cluster.pods[pod.key] = pod
            cluster.addresses[pod.key] = IPv4(0x0AF4_0002 + UInt32(index))
            cluster.podNodes[pod.key] = 0
        }
        let isolate = NetworkPolicy(namespace: "n", name: "isolate-a", podSelector: LabelSelector(matchLabels: ["app": "a"]))
        cluster.policies[isolate.key] = isolate
        func admin(passing app: String) -> ClusterNetworkPolicy {
            ClusterNetworkPolicy(
                name: "guard", tier: .admin, priority: 1,
                subject: .pods(namespaces: .everything, pods: LabelSelector(matchLabels: ["app": "a"])),
                ingress: [
                    .init(action: .pass, peers: [.pods(namespaces: .everything, pods: LabelSelector(matchLabels: ["app": app]))]),
                    .init(action: .accept, peers: [.namespaces(.everything)]),
                ])
        }
        var old = cluster
        old.clusterPolicies = [ClusterPolicyKey(name: "guard"): admin(passing: "x")]
        var new = cluster
        new.clusterPolicies = [ClusterPolicyKey(name: "guard"): admin(passing: "y")]
        var compiler = PolicyCompiler(labName: "sem", placement: placement)
        compiler.tiers = true
        let nodes = cluster.podNodes
        let target: RulesetTarget = placement == .pod ? .pod(ObjectKey("n", "a")) : .node(0)
        let oldTable = try #require(compiler.compile(old, nodes: nodes, nodeCount: 1)[target])
        let newTable = try #require(compiler.compile(new, nodes: nodes, nodeCount: 1)[target])
        let hook: BaseChain.Hook = placement == .pod ? .input : .forward
        for (source, oldVerdict, newVerdict) in [(UInt32(0x0AF4_0003), false, true), (0x0AF4_0004, true, false)] {
            let packet = RulesetInterpreter.Packet(saddr: source, daddr: 0x0AF4_0002, proto: 6, dport: 80)
            #expect((RulesetInterpreter(table: oldTable).verdict(hook, packet) == .accept) == oldVerdict)
            #expect((RulesetInterpreter(table: newTable).verdict(hook, packet) == .accept) == newVerdict)
            #expect(RulesetInterpreter(table: oldTable.meet(newTable)).verdict(hook, packet) != .accept, "from \(IPv4(source))")
        }
    }
}

extension RandomCluster {
    /// A random cluster with `policies` NetworkPolicies and `clusterPolicies` random Admin or
    /// Baseline policies (`makeClusterPolicy`) on top.
    mutating func makeWithClusterPolicies(_ policies: Int, clusterPolicies: Int) -> (Cluster, [ObjectKey: Int]) {
        var (cluster, nodes) = make(policies: policies)
        for index in 0..<clusterPolicies {
            let policy = makeClusterPolicy(index)
            cluster.clusterPolicies[policy.key] = policy
        }
        return (cluster, nodes)
    }

    /// A random Admin or Baseline policy: random subject, 1–3 rules per direction with random
    /// actions, peers (namespaces, pods, networks; with `nodePeers`, egress `nodes` too) and
    /// protocols.
    mutating func makeClusterPolicy(_ index: Int, nodePeers: Bool = false) -> ClusterNetworkPolicy {
        let subject: ClusterNetworkPolicy.Subject =
            chance(50) ? .namespaces(namespaceSelector()) : .pods(namespaces: namespaceSelector(), pods: selector())
        func rules(_ direction: NetworkPolicy.PolicyType) -> [ClusterNetworkPolicy.Rule] {
            (0..<Int.random(in: 0...3, using: &rng)).map { _ in
                var peers: [ClusterNetworkPolicy.Peer] = []
                for _ in 0..<Int.random(in: 1...2, using: &rng) {
                    switch Int.random(in: 0..<(nodePeers ? 5 : 3), using: &rng) {
                    case 3...4 where direction == .egress:
                        let labels = pick([["kubernetes.io/os": "linux"], ["kubernetes.io/hostname": pick(["node-0", "node-1"])], [:]])
                        peers.append(.nodes(LabelSelector(matchLabels: labels)))
                    case 0: peers.append(.namespaces(namespaceSelector()))
                    case 1: peers.append(.pods(namespaces: namespaceSelector(), pods: selector()))
                    default:
                        if direction == .egress {
                            let cidr = pick(["10.244.0.0/30", "10.244.0.0/16", "0.0.0.0/0", "192.0.2.0/24"])
                            peers.append(.networks([CIDR.parse(cidr) ?? .any]))
                        } else {
                            peers.append(.namespaces(.everything))
                        }
                    }
                }
                var protocols: [ClusterNetworkPolicy.ProtocolMatch]?
                if chance(60) {
                    protocols = (0..<Int.random(in: 1...2, using: &rng)).map { _ in
                        switch Int.random(in: 0..<4, using: &rng) {
                        case 0: return .port(pick([.tcp, .udp, .sctp]), nil)
                        case 1:
                            let port = pick([80, 53, 8080])
                            return .port(pick([.tcp, .udp]), port...port)
                        case 2: return .port(.tcp, 53...8080)
                        default: return .namedPort(pick(["http", "dns", "alt"]))
                        }
                    }
                    // The CRD refuses named ports with networks and nodes peers.
                    if peers.contains(where: {
                        switch $0 {
                        case .networks, .nodes: true
                        default: false
                        }
                    }) {
                        protocols = protocols?.filter { if case .namedPort = $0 { false } else { true } }
                        if protocols?.isEmpty == true { protocols = nil }
                    }
                }
                return ClusterNetworkPolicy.Rule(action: pick([.accept, .deny, .deny, .pass]), peers: peers, protocols: protocols)
            }
        }
        return ClusterNetworkPolicy(
            name: "cnp\(index)", tier: pick([.admin, .baseline]), priority: pick([0, 10, 10, 20]), subject: subject,
            ingress: rules(.ingress), egress: rules(.egress))
    }
}
