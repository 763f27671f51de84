import KeycardModel
import KeycardRuleset
import KeycardValues

/// Compiles the policy model into one nftables table per namespace that enforces it.
///
/// Per protected pod and direction, the rules of every policy that selects the pod are flattened
/// into deduplicated allow tuples held in three sets (`PolicyProgram`); the chains and rules of a
/// table depend only on which pods the lab holds, so adding, deleting or changing a policy and
/// relabelling a pod or namespace change set and map elements only. A packet's cost does not grow
/// with the number of policies: it meets a constant number of hash lookups and one small pipapo
/// lookup per direction.
public struct PolicyCompiler: Sendable {
    public let labName: String
    public let placement: Placement
    /// The priority of egress judgement: 0, after Service translation (the kernel runs nat chains
    /// from its own hooks at -100 whatever their priorities), or `preDNATEgressPriority` to judge
    /// egress before translation (`ServiceEnforcement.preDNAT`): the pod's output chain at that
    /// priority (pod placement), or a node prerouting chain at it (node placement).
    public var egressPriority: Int32 = 0

    /// -150 (mangle): after conntrack (-200), so `ct state` works, and before dstnat (-100).
    public static let preDNATEgressPriority: Int32 = -150
    /// Audit mode: every default-deny rule logs to `auditLogGroup` and lets the packet through
    /// (as it would have been allowed) instead of dropping it.
    public var audit = false
    /// The NFLOG group of audit mode's would-be drops: not the prober's `dropLogGroup`, so an
    /// audited packet does not settle a probe as denied.
    public static let auditLogGroup: UInt16 = 8

    /// Lay the pod tables out for the mesh's redirection (`MeshRedirectCompiler`): set for a lab
    /// that has meshed pods at some step, so that NetworkPolicy keeps judging the original
    /// destination and port; other labs keep the plain layout, byte for byte. Pod placement only
    /// (node placement judges in node namespaces, which the redirection never touches):
    /// - ingress is judged in `prerouting` at `meshIngressPriority`, before the inbound capture
    ///   rewrites the destination port to 15006 (the `input` hook would see 15006). Chosen over
    ///   matching conntrack's original tuple (`ct original ...`): the allow-tuple lookups stay the
    ///   same rules on the packet's own header, and the chain sees exactly what `input` saw before
    ///   (a pod namespace routes nothing, so every packet in prerouting is for the pod);
    /// - egress accepts `ip daddr 127.0.0.0/8`: the application's redirected connection to the
    ///   proxy's 127.0.0.1:15001 keeps the output device of its original route (the hook's device
    ///   is fixed before the nat rewrite, so `oifname "lo"` does not match it); the proxy's own,
    ///   marked connection to the real destination is then judged like any other.
    public var meshLayout = false
    /// Lay out the ClusterNetworkPolicy tiers around the NetworkPolicy tier
    /// (`PolicyCompiler+Tiers.swift`): set for a lab that holds a ClusterNetworkPolicy at some
    /// step; other labs keep the plain layout, byte for byte.
    public var tiers = false

    /// -150 (mangle), as `preDNATEgressPriority`: after conntrack, before dstnat (-100), where the
    /// mesh's inbound capture redirects.
    public static let meshIngressPriority: Int32 = -150

    public init(labName: String, placement: Placement) {
        self.labName = labName
        self.placement = placement
    }

    /// keycard's table name in every namespace of the lab.
    public var tableName: String { "kc-\(labName)" }

    /// The NFLOG group every default-deny rule logs to (groups are per namespace, so one number serves
    /// every namespace); the prober listens on it for the kernel's word that a probe was dropped.
    public static let dropLogGroup: UInt16 = 7
    /// nft allows 127 bytes of log prefix; keycard keeps it short.
    static let dropLogPrefixLimit = 60

    /// The tables of every target: each pod (pod placement) or each node (node placement).
    /// `nodes` maps every pod the lab holds to its node index — pods of the lab that the cluster does
    /// not hold now (deleted, or applied only later) are cut off, as a pod that does not exist
    /// answers nothing; `nodeCount` is the number of nodes. A host-network pod is no target: it
    /// runs in its node's namespace and no policy selects it (NetworkPolicy, KeycardModel
    /// HostNetwork.swift; ClusterNetworkPolicy, `PolicyEngine.selects`), so `nodes` must leave it
    /// out (`AddressPlan.podNamespaceNodes`): its address is its node's, shared by every such pod.
    public func compile(_ cluster: Cluster, nodes: [ObjectKey: Int], nodeCount: Int) -> [RulesetTarget: Table] {
        var tables: [RulesetTarget: Table] = [:]
        let cache = CompileCache(cluster)
        let absent = nodes.keys.filter { cluster.pods[$0] == nil }.sorted()
        switch placement {
        case .pod:
            for pod in cache.sortedPods where !pod.hostNetwork {
                tables[.pod(pod.key)] = podTable(pod, cluster) { self.tuples($0, $1, cache) }
            }
            for key in absent { tables[.pod(key)] = absentPodTable() }
        case .node:
            let absentAddresses = absent.compactMap { cluster.addresses[$0] }
            for node in 0..<nodeCount {
                // Every pod the lab places on the node, present or not: its chains stay for the
                // lab's life, so pods coming and going move elements only.
                let local = nodes.filter { $0.value == node }.map(\.key).sorted()
                tables[.node(node)] = nodeTable(local, cluster, absent: absentAddresses) { self.tuples($0, $1, cache) }
            }
        }
        return tables
    }

    /// The table of a pod namespace whose pod does not exist at this point: nothing in or out.
    func absentPodTable() -> Table {
        let rules = [Rule(counter: true, verdict: .drop, comment: "this pod does not exist now")]
        return Table(
            name: tableName, family: .inet,
            chains: [
                Chain(name: "absent-ingress", base: BaseChain(hook: .input), rules: [Rule([.iifname("lo")], verdict: .accept)] + rules),
                Chain(
                    name: "absent-egress", base: BaseChain(hook: .output, priority: egressPriority),
                    rules: [Rule([.oifname("lo")], verdict: .accept)] + rules),
            ])
    }

    // MARK: pod placement

    /// A pod's own table: per direction, a base chain that accepts replies and loopback and jumps
    /// to the NetworkPolicy tier, which passes (`return`) while no policy isolates the pod and
    /// otherwise judges by the pod's allow tuples. Tiers before (admin) and after (baseline)
    /// NetworkPolicy get their own jumps around it.
    /// `allowed` gives the pod's allow tuples for a direction, nil while no policy isolates it.
    func podTable(_ pod: Pod, _ cluster: Cluster, allowed: (Pod, NetworkPolicy.PolicyType) -> AllowTuples?) -> Table {
        var table = Table(name: tableName, family: .inet)
        let address = cluster.addresses[pod.key].map { [SetElement.value([.ipv4($0.value)])] } ?? []
        for direction in [NetworkPolicy.PolicyType.ingress, .egress] {
            let short = direction == .ingress ? "in" : "eg"
            let program = PolicyProgram(prefix: "\(short)-", direction: direction, pod: pod.key, audit: audit)
            let tuples = allowed(pod, direction)
            let isolatedSet = "\(short)-isolated"
            // Without tiers a pod not isolated is allowed everything, so isolating restricts. With
            // tiers it goes on to the Baseline tier, which may deny what the NetworkPolicy tier
            // allows: isolation moves traffic both ways, and `Table.meet` must meet whole chains.
            table.sets.append(
                NamedSet(
                    name: isolatedSet, key: [.ipv4Address], elements: tuples == nil ? [] : address,
                    polarity: tiers ? .neither : .restricts))
            table.sets += program.sets(tuples)

            let name = direction == .ingress ? "policy-ingress" : "policy-egress"
            let tier = direction == .ingress ? "np-ingress" : "np-egress"
            let loopback: Match = direction == .ingress ? .iifname("lo") : .oifname("lo")
            var rules = [
                Rule.allowReplies,
                Rule([loopback], verdict: .accept, comment: "a pod reaching itself"),
                Rule.dropIPv6,
            ]
            if direction == .ingress, let rule = localNodeRule(pod, cluster) { rules.append(rule) }
            if meshLayout && direction == .egress {
                rules.append(
                    Rule([.daddr(prefix: 0x7F00_0000, length: 8)], verdict: .accept, comment: "a pod reaching itself (the mesh proxy)"))
            }
            // With tiers: Admin, then NetworkPolicy, then (not isolated) Baseline.
            let around = tiers ? tierChains(pod, direction, cluster, prefix: "\(short)-", networkPolicy: tier, allow: .accept) : nil
            rules.append(
                around.map { Rule(verdict: .jump($0.admin.name), comment: "Admin tier") }
                    ?? Rule(verdict: .jump(tier), comment: "NetworkPolicy tier"))
            var base = Chain(name: name, base: podBaseChain(direction), rules: rules)
            if direction == .egress, egressPriority != 0, cluster.dataPlane(of: pod.key) == .sidecar {
                let split = preDNATSidecarEgress(name: name, rules: rules)
                base = split.afterCapture
                table.chains.append(split.beforeCapture)
            }
            let gate: Match = direction == .ingress ? .daddrInSet(isolatedSet, negated: true) : .saddrInSet(isolatedSet, negated: true)
            let tierChain = Chain(
                name: tier,
                rules: [
                    Rule(
                        [gate], verdict: around.map { .goto($0.baseline.name) } ?? .return,
                        comment: "not isolated by any \(direction.rawValue.lowercased()) policy")
                ]
                    + program.rules(allow: .accept))
            table.chains += [base, tierChain]
            if let around {
                table.sets += around.sets
                table.chains += [around.admin, around.baseline]
            }
        }
        return table
    }

    /// Where a pod's base chain hooks: ingress on `input` at 0 (in the mesh layout `prerouting`
    /// at `meshIngressPriority`), egress on `output` at `egressPriority`.
    func podBaseChain(_ direction: NetworkPolicy.PolicyType) -> BaseChain {
        if direction == .egress { return BaseChain(hook: .output, priority: egressPriority) }
        return meshLayout ? BaseChain(hook: .prerouting, priority: Self.meshIngressPriority) : BaseChain(hook: .input)
    }

    /// A sidecar pod's egress under pre-dnat, in two base chains with the same rules. Before any
    /// translation (`egressPriority`) only marked packets are judged: the proxy's own upstream
    /// connections, which dial the backend pod, and probes that escape the capture
    /// (`identity: none`), whose ClusterIP is judged as the model judges it. After the capture
    /// (priority 0, past the nat hook) the application's own connections have reached the proxy
    /// (127.0.0.1) unjudged, as on a cluster where the capture happens inside the pod before the
    /// network sees anything (`MeshVerdict.sourceProxied`); what the capture leaves alone
    /// (excluded ports and ranges) is judged there, after the Service translation. A pod is a
    /// sidecar pod from its creation to its deletion (R2), so its chains never move; ambient
    /// enrolment follows labels live and keeps the one chain (the load-time warning says so).
    func preDNATSidecarEgress(name: String, rules: [Rule]) -> (beforeCapture: Chain, afterCapture: Chain) {
        let mark = MeshDataPath.bypassMark
        let before = Chain(
            name: "\(name)-marked", base: BaseChain(hook: .output, priority: egressPriority),
            rules: [Rule([.mark(mark, negated: true)], verdict: .accept, comment: "judged after the capture (\(name))")] + rules)
        let after = Chain(
            name: name, base: BaseChain(hook: .output),
            rules: [Rule([.mark(mark)], verdict: .accept, comment: "judged before the translation (\(name)-marked)")] + rules)
        return (before, after)
    }

    // MARK: node placement

    /// A node's table: isolated pods of this node dispatch through a verdict map keyed by their
    /// address to their own chain (the same `PolicyProgram` as in pod placement). Egress is judged
    /// where a packet enters the network (the source's node) and returns when allowed; ingress
    /// where it leaves it (the destination's node). `local` is every pod the lab places on the node.
    func nodeTable(
        _ local: [ObjectKey], _ cluster: Cluster, absent: [IPv4] = [], allowed: (Pod, NetworkPolicy.PolicyType) -> AllowTuples?
    ) -> Table {
        var table = Table(name: tableName, family: .inet)
        // Addresses of the lab's pods that do not exist now: a set, so pods coming and going only
        // move elements.
        table.sets.append(
            NamedSet(
                name: "absent-pods", key: [.ipv4Address],
                elements: absent.map { .value([.ipv4($0.value)]) }, polarity: .restricts))
        var forward = Chain(
            name: "forward", base: BaseChain(hook: .forward),
            rules: [
                Rule.dropAbsentPods(.daddr),
                Rule.dropAbsentPods(.saddr),
                Rule.allowReplies,
            ])
        for direction in [NetworkPolicy.PolicyType.egress, .ingress] {
            let short = direction == .ingress ? "in" : "eg"
            let map = "\(short)-pods"
            var entries: [SetElement] = []
            for key in local {
                let chain = RuleText.objectName("\(short)-\(key)")
                let program = PolicyProgram(prefix: chain + "-", direction: direction, pod: key, audit: audit)
                var tuples: AllowTuples?
                let allow: KeycardRuleset.Verdict = direction == .egress ? .return : .accept
                if let pod = cluster.pods[key] {
                    tuples = allowed(pod, direction)
                    if tiers, let address = cluster.addresses[key] {
                        // With tiers every local pod is judged: Admin, NetworkPolicy, Baseline.
                        let around = tierChains(pod, direction, cluster, prefix: chain + "-", networkPolicy: chain, allow: allow)
                        table.sets += around.sets
                        table.chains += [around.admin, around.baseline]
                        let entry = around.admin.name
                        entries.append(.mapping([.ipv4(address.value)], direction == .egress ? .jump(entry) : .goto(entry)))
                        if tuples == nil {
                            table.sets += program.sets(nil)
                            table.chains.append(
                                Chain(name: chain, rules: [Rule(verdict: .goto(around.baseline.name), comment: "not isolated")]))
                            continue
                        }
                    } else if tuples != nil, let address = cluster.addresses[key] {
                        entries.append(.mapping([.ipv4(address.value)], direction == .egress ? .jump(chain) : .goto(chain)))
                    }
                }
                table.sets += program.sets(tuples)
                table.chains.append(Chain(name: chain, rules: program.rules(allow: allow)))
            }
            table.sets.append(NamedSet(name: map, key: [.ipv4Address], elements: entries, polarity: .restricts, data: .verdict))
            let field: ConcatField = direction == .egress ? .saddr : .daddr
            let dispatch = Rule(
                verdict: .vmap([field], map: map), comment: "\(direction.rawValue.lowercased()) of isolated pods on this node")
            if direction == .egress && egressPriority != 0 {
                // Pre-dnat: egress is judged where packets enter the node, before Service
                // translation (prerouting, after conntrack); ingress stays on forward.
                table.chains.insert(
                    Chain(
                        name: "egress-before-translation", base: BaseChain(hook: .prerouting, priority: egressPriority),
                        rules: [
                            Rule.allowReplies,
                            dispatch,
                        ]), at: 0)
            } else {
                forward.rules.append(dispatch)
            }
        }
        table.chains.insert(forward, at: 0)
        if let chain = localNodeChain(cluster) { table.chains.insert(chain, at: 1) }
        if let chain = toNodeChain(cluster) { table.chains.append(chain) }
        return table
    }

    // MARK: tuples

    /// The policies of the pod's namespace with `direction` among their types that select it.
    func selectingPolicies(_ pod: Pod, _ direction: NetworkPolicy.PolicyType, _ cache: CompileCache) -> [NetworkPolicy] {
        // NetworkPolicy does not apply to host-network pods (KeycardModel/HostNetwork.swift).
        pod.hostNetwork ? [] : cache.policies(in: pod.namespace, direction).filter { $0.podSelector.matches(pod.labels) }
    }

    /// Every rule of every selecting policy, flattened for `pod`; nil when no policy selects it.
    func tuples(_ pod: Pod, _ direction: NetworkPolicy.PolicyType, _ cache: CompileCache) -> AllowTuples? {
        let selecting = selectingPolicies(pod, direction, cache)
        if selecting.isEmpty { return nil }
        var tuples = AllowTuples()
        for policy in selecting {
            for (index, rule) in policy.rules(direction).enumerated() {
                let peers = cache.peers(of: rule, index, in: policy, direction)
                RuleFlattener(cluster: cache.cluster, peers: peers, policy: policy, direction: direction, index: index, rule: rule)
                    .contribute(to: &tuples, protected: pod)
            }
        }
        return tuples
    }
}
