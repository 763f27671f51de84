import KeycardModel
import KeycardRuleset
import KeycardValues

/// Compiles the policy model into one nftables table per namespace that enforces it.
///
/// Rule count grows with policies × rules × ports, never with pods: pods enter through named sets
/// (peers as interval sets of addresses, named ports as `daddr . l4proto . dport` sets), so a label
/// change alters set elements, not rules.
public struct PolicyCompiler: Sendable {
    public let labName: String
    public let placement: Placement

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
    /// answers nothing; `nodeCount` is the number of nodes.
    public func compile(_ cluster: Cluster, nodes: [ObjectKey: Int], nodeCount: Int) -> [RulesetTarget: Table] {
        var tables: [RulesetTarget: Table] = [:]
        let cache = CompileCache(cluster)
        let absent = nodes.keys.filter { cluster.pods[$0] == nil }.sorted()
        switch placement {
        case .pod:
            for pod in cache.sortedPods { tables[.pod(pod.key)] = podTable(pod, cache) }
            for key in absent { tables[.pod(key)] = absentPodTable() }
        case .node:
            let absentAddresses = absent.compactMap { cluster.addresses[$0] }
            for node in 0..<nodeCount {
                let local = cache.sortedPods.filter { nodes[$0.key] == node }
                tables[.node(node)] = nodeTable(local, cache, absent: absentAddresses)
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
                Chain(name: "absent-egress", base: BaseChain(hook: .output), rules: [Rule([.oifname("lo")], verdict: .accept)] + rules),
            ])
    }

    // MARK: pod placement

    /// A pod's own table. Every policy of the pod's namespace with the direction's type has its
    /// rules here, gated by a set holding the pod's address while the policy selects it, and the
    /// final drop is gated by a set holding it while any does: a relabel only moves elements.
    func podTable(_ pod: Pod, _ cache: CompileCache) -> Table {
        let cluster = cache.cluster
        var table = Table(name: tableName, family: .inet)
        let address = cluster.addresses[pod.key].map { [SetElement.value([.ipv4($0.value)])] } ?? []
        for direction in [NetworkPolicy.PolicyType.ingress, .egress] {
            let name = direction == .ingress ? "policy-ingress" : "policy-egress"
            let hook: BaseChain.Hook = direction == .ingress ? .input : .output
            var chain = Chain(name: name, base: BaseChain(hook: hook))
            let policies = cache.policies(in: pod.namespace, direction)
            if !policies.isEmpty {
                let isolatedSet = "\(name)-isolated"
                let isolated = policies.contains { $0.podSelector.matches(pod.labels) }
                table.sets.append(
                    NamedSet(
                        name: isolatedSet, key: [.ipv4Address],
                        elements: isolated ? address : [], polarity: .restricts))
                chain.rules.append(Rule([.ctState([.established, .related])], verdict: .accept, comment: "replies of allowed connections"))
                let loopback: Match = direction == .ingress ? .iifname("lo") : .oifname("lo")
                chain.rules.append(Rule([loopback], verdict: .accept, comment: "a pod reaching itself"))
                for policy in policies {
                    let selected = policy.podSelector.matches(pod.labels) ? [pod] : []
                    for (index, rule) in policy.rules(direction).enumerated() {
                        let compiled = RuleCompiler(cache: cache, policy: policy, direction: direction, index: index, rule: rule)
                            .compile(selected: selected, namedPorts: direction == .ingress ? .thisPod(pod) : .peers, verdict: .accept)
                        table.sets += compiled.sets
                        chain.rules += compiled.rules
                    }
                }
                let gate: Match = direction == .ingress ? .daddrInSet(isolatedSet) : .saddrInSet(isolatedSet)
                chain.rules.append(
                    Rule(
                        [gate], log: Self.dropLog(direction, policies), counter: true, verdict: .drop,
                        comment: Self.denyComment(direction, policies)))
            }
            table.chains.append(chain)
        }
        return table
    }

    // MARK: node placement

    /// A node's table: every policy of the cluster with the direction's type has its rules here,
    /// gated by the set of this node's pods it selects; isolated pods of this node are jumped into
    /// the direction's chain. Egress is judged where a packet enters the network (the source's
    /// node), ingress where it leaves it (the destination's node).
    func nodeTable(_ local: [Pod], _ cache: CompileCache, absent: [IPv4] = []) -> Table {
        let cluster = cache.cluster
        var table = Table(name: tableName, family: .inet)
        var forward = Chain(name: "forward", base: BaseChain(hook: .forward))
        // Addresses of the lab's pods that do not exist now: a set, so pods coming and going only
        // move elements.
        table.sets.append(
            NamedSet(
                name: "absent-pods", key: [.ipv4Address],
                elements: absent.map { .value([.ipv4($0.value)]) }, polarity: .restricts))
        forward.rules.append(Rule([.daddrInSet("absent-pods")], counter: true, verdict: .drop, comment: "no such pod now"))
        forward.rules.append(Rule([.saddrInSet("absent-pods")], counter: true, verdict: .drop, comment: "no such pod now"))
        forward.rules.append(Rule([.ctState([.established, .related])], verdict: .accept, comment: "replies of allowed connections"))
        for direction in [NetworkPolicy.PolicyType.egress, .ingress] {
            let name = direction == .ingress ? "policy-ingress" : "policy-egress"
            let isolated = local.filter { !cluster.isolatingPolicies(for: $0, direction).isEmpty }
            let isolatedSet = "\(name)-isolated"
            table.sets.append(
                NamedSet(
                    name: isolatedSet, key: [.ipv4Address],
                    elements: isolated.compactMap { cluster.addresses[$0.key] }.map { .value([.ipv4($0.value)]) },
                    polarity: .restricts))
            let selector: Match = direction == .egress ? .saddrInSet(isolatedSet) : .daddrInSet(isolatedSet)
            forward.rules.append(Rule([selector], verdict: .jump(name), comment: "\(name) of isolated pods on this node"))

            var chain = Chain(name: name)
            let policies = cache.policies(in: nil, direction)
            for policy in policies {
                let selected = local.filter { policy.podSelector.matches($0.labels) && $0.namespace == policy.namespace }
                for (index, rule) in policy.rules(direction).enumerated() {
                    let compiled = RuleCompiler(cache: cache, policy: policy, direction: direction, index: index, rule: rule)
                        .compile(
                            selected: selected, namedPorts: direction == .ingress ? .pods(selected) : .peers,
                            verdict: direction == .egress ? .return : .accept)
                    table.sets += compiled.sets
                    chain.rules += compiled.rules
                }
            }
            chain.rules.append(
                Rule(
                    log: Self.dropLog(direction, []), counter: true, verdict: .drop,
                    comment: "default deny \(direction.rawValue.lowercased()) of isolated pods"))
            table.chains.append(chain)
        }
        table.chains.insert(forward, at: 0)
        return table
    }

    /// `log prefix "kc deny ingress x/a,x/b" group 7`: which direction and which isolating policies
    /// dropped the packet, clipped to `dropLogPrefixLimit` bytes.
    static func dropLog(_ direction: NetworkPolicy.PolicyType, _ policies: [NetworkPolicy]) -> LogStatement {
        let names = policies.map(\.key.description).joined(separator: ",")
        let text = ["kc deny", direction.rawValue.lowercased(), names].filter { !$0.isEmpty }.joined(separator: " ")
        let prefix =
            text.utf8.count <= dropLogPrefixLimit
            ? text : String(decoding: text.utf8.prefix(dropLogPrefixLimit - 3), as: UTF8.self) + "..."
        return LogStatement(group: dropLogGroup, prefix: prefix)
    }

    /// Names the policies that can isolate the pod (those of its namespace with this type), not
    /// those that do now: the rule must not change when a relabel changes the selection.
    static func denyComment(_ direction: NetworkPolicy.PolicyType, _ policies: [NetworkPolicy]) -> String {
        let names = policies.map(\.key.description).joined(separator: ",")
        return RuleCompiler.clip("default deny \(direction.rawValue.lowercased()) when isolated by any of \(names)")
    }
}
