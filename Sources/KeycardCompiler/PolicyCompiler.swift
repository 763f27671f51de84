import KeycardModel
import KeycardRuleset

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

    /// The tables of every target: each present pod (pod placement) or each node (node placement).
    /// `nodes` maps each pod to its node index; `nodeCount` is the number of nodes.
    public func compile(_ cluster: Cluster, nodes: [ObjectKey: Int], nodeCount: Int) -> [RulesetTarget: Table] {
        var tables: [RulesetTarget: Table] = [:]
        switch placement {
        case .pod:
            for pod in cluster.sortedPods { tables[.pod(pod.key)] = podTable(pod, cluster) }
        case .node:
            for node in 0..<nodeCount {
                let local = cluster.sortedPods.filter { nodes[$0.key] == node }
                tables[.node(node)] = nodeTable(local, cluster)
            }
        }
        return tables
    }

    // MARK: pod placement

    func podTable(_ pod: Pod, _ cluster: Cluster) -> Table {
        var table = Table(name: tableName, family: .inet)
        for direction in [NetworkPolicy.PolicyType.ingress, .egress] {
            let hook: BaseChain.Hook = direction == .ingress ? .input : .output
            var chain = Chain(name: direction == .ingress ? "policy-ingress" : "policy-egress", base: BaseChain(hook: hook))
            let policies = cluster.isolatingPolicies(for: pod, direction)
            if !policies.isEmpty {
                chain.rules.append(Rule([.ctState([.established, .related])], verdict: .accept, comment: "replies of allowed connections"))
                let loopback: Match = direction == .ingress ? .iifname("lo") : .oifname("lo")
                chain.rules.append(Rule([loopback], verdict: .accept, comment: "a pod reaching itself"))
                for policy in policies {
                    for (index, rule) in policy.rules(direction).enumerated() {
                        let compiled = RuleCompiler(cluster: cluster, policy: policy, direction: direction, index: index, rule: rule)
                            .compile(selected: nil, namedPorts: direction == .ingress ? .thisPod(pod) : .peers, verdict: .accept)
                        table.sets += compiled.sets
                        chain.rules += compiled.rules
                    }
                }
                chain.rules.append(Rule(counter: true, verdict: .drop, comment: Self.denyComment(direction, policies)))
            }
            table.chains.append(chain)
        }
        return table
    }

    // MARK: node placement

    func nodeTable(_ local: [Pod], _ cluster: Cluster) -> Table {
        var table = Table(name: tableName, family: .inet)
        var forward = Chain(name: "forward", base: BaseChain(hook: .forward))
        forward.rules.append(Rule([.ctState([.established, .related])], verdict: .accept, comment: "replies of allowed connections"))
        for direction in [NetworkPolicy.PolicyType.egress, .ingress] {
            let name = direction == .ingress ? "policy-ingress" : "policy-egress"
            let isolated = local.filter { !cluster.isolatingPolicies(for: $0, direction).isEmpty }
            let isolatedSet = "\(name)-isolated"
            table.sets.append(NamedSet(name: isolatedSet, key: [.ipv4Address], interval: true,
                                       elements: isolated.compactMap { cluster.addresses[$0.key] }.map { .value([.ipv4($0.value)]) },
                                       polarity: .restricts))
            // Egress is judged where the packet enters the network (the source's node), ingress
            // where it leaves it (the destination's node).
            let selector: Match = direction == .egress ? .saddrInSet(isolatedSet) : .daddrInSet(isolatedSet)
            forward.rules.append(Rule([selector], verdict: .jump(name), comment: "\(name) of isolated pods on this node"))

            var chain = Chain(name: name)
            let policies = Set(isolated.flatMap { cluster.isolatingPolicies(for: $0, direction) }).sorted { $0.key < $1.key }
            for policy in policies {
                let selected = local.filter { policy.podSelector.matches($0.labels) && $0.namespace == policy.namespace }
                for (index, rule) in policy.rules(direction).enumerated() {
                    let compiled = RuleCompiler(cluster: cluster, policy: policy, direction: direction, index: index, rule: rule)
                        .compile(selected: selected, namedPorts: direction == .ingress ? .pods(selected) : .peers,
                                 verdict: direction == .egress ? .return : .accept)
                    table.sets += compiled.sets
                    chain.rules += compiled.rules
                }
            }
            chain.rules.append(Rule(counter: true, verdict: .drop, comment: "default deny \(name) of isolated pods"))
            table.chains.append(chain)
        }
        table.chains.insert(forward, at: 0)
        return table
    }

    static func denyComment(_ direction: NetworkPolicy.PolicyType, _ policies: [NetworkPolicy]) -> String {
        let names = policies.map(\.key.description).joined(separator: ",")
        return RuleCompiler.clip("default deny \(direction.rawValue.lowercased()), isolated by \(names)")
    }
}
