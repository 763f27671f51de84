import KeycardModel
import KeycardRuleset
import KeycardValues

/// ClusterNetworkPolicy tiers around the NetworkPolicy tier (docs/cluster-network-policy.md),
/// laid out only for labs that hold a ClusterNetworkPolicy at some step (`PolicyCompiler.tiers`);
/// other labs keep their tables byte for byte.
///
/// Per protected pod and direction, three chains, entered at the first:
/// ```
/// P-admin:    per run of consecutive Admin rules with the same action that apply to the pod, in
///             order (priority, then as written), the lookups of `PolicyProgram` into that run's
///             own sets, ending in the action: Accept → allow, Deny → logged drop, Pass → goto
///             P-np; last: goto P-np
/// P-np:       the NetworkPolicy tier (final for an isolated pod); not isolated: goto P-baseline
/// P-baseline: per Baseline rule likewise, Pass → allow; falling off the end allows
/// ```
/// "allow" is `accept` in a pod's table and ingress, `return` for node-placement egress (so that
/// the destination's ingress is still judged). A rule's sets hold its peers × protocols flattened
/// as NetworkPolicy rules are (exact, any-port, disjoint boxes), so a packet costs one hash or
/// pipapo lookup per run of same-action rules (first match decides, so the runs stay in order),
/// whatever the number of pods, namespaces and CIDRs they name. Labs with tiers are reprogrammed by whole
/// tables (`LabPolicies`): subjects and priorities move rules, not only elements.
extension PolicyCompiler {
    /// The tier chains and sets of `pod` in `direction`. `prefix` names them (`in-` in a pod's
    /// table, `in-ns/pod-` in a node's); `networkPolicy` is the NetworkPolicy tier chain, which
    /// the admin chain continues to and which continues (when not isolated) to `baselineChain`.
    func tierChains(
        _ pod: Pod, _ direction: NetworkPolicy.PolicyType, _ cluster: Cluster, prefix: String, networkPolicy: String,
        allow: KeycardRuleset.Verdict
    ) -> (sets: [NamedSet], admin: Chain, baseline: Chain) {
        let engine = PolicyEngine(cluster)
        var sets: [NamedSet] = []
        var chains: [Chain] = []
        for tier in ClusterNetworkPolicy.Tier.allCases {
            let short = tier == .admin ? "a" : "b"
            var rules: [Rule] = []
            // Consecutive rules with the same action share their sets: whichever of them matches
            // first, the verdict is the same, so a run of 1,000 Deny rules is one set of lookups.
            var groups: [[TierRule]] = []
            for entry in engine.tierRules(tier, direction, for: pod) {
                if let last = groups.last?.last, last.rule.action == entry.rule.action {
                    groups[groups.count - 1].append(entry)
                } else {
                    groups.append([entry])
                }
            }
            for (position, group) in groups.enumerated() {
                let action = group[0].rule.action
                let program = PolicyProgram(
                    prefix: RuleText.objectName("\(prefix)\(short)\(position)-"), direction: direction, pod: pod.key)
                var merged = AllowTuples()
                for entry in group { tuples(entry, pod, cluster, engine, into: &merged) }
                // How the meet of two versions treats the run's sets (`Table.meet`): an Accept's (and
                // a Baseline Pass's, which allows) peers allow, a Deny's restrict, an Admin Pass's
                // send traffic to the NetworkPolicy tier, which may allow or deny it.
                let polarity: NamedSet.Polarity =
                    switch action {
                    case .accept: .allows
                    case .deny: audit ? .allows : .restricts
                    case .pass: tier == .admin ? .neither : .allows
                    }
                let own = program.sets(merged, polarity: polarity)
                sets += own
                let verdict: KeycardRuleset.Verdict
                var log: LogStatement?
                switch action {
                case .accept: verdict = allow
                case .deny:
                    verdict = audit ? allow : .drop
                    log = audit ? program.auditLog : program.dropLog
                case .pass: verdict = tier == .admin ? .goto(networkPolicy) : allow
                }
                let names =
                    group.count == 1 ? group[0].label : "\(group[0].label) ... \(group[group.count - 1].label) (\(group.count) rules)"
                let comment = RuleText.clip("\(tier.rawValue) \(action.rawValue) \(names)")
                // A lookup only into a set that holds something: a rule costs one lookup per
                // kind of tuple it has (usually one), not three.
                for (set, lookup) in zip(own, program.rules(allow: verdict).prefix(3)) where !set.elements.isEmpty {
                    rules.append(Rule(lookup.matches, log: log, counter: true, verdict: verdict, comment: comment))
                }
            }
            if tier == .admin { rules.append(Rule(verdict: .goto(networkPolicy), comment: "NetworkPolicy tier")) }
            chains.append(Chain(name: tierChainName(prefix, tier), rules: rules))
        }
        return (sets, chains[0], chains[1])
    }

    /// `in-admin`, `in-baseline` (pod table); `in-ns/pod-admin` ... (node table).
    func tierChainName(_ prefix: String, _ tier: ClusterNetworkPolicy.Tier) -> String {
        RuleText.objectName(prefix + (tier == .admin ? "admin" : "baseline"))
    }

    /// One rule's peers × protocols for `pod` (the protected side), as allow tuples: pods' and
    /// selected nodes' addresses, CIDRs, DNS-named addresses. `domainNames` in a Deny or Pass rule
    /// fails closed as the model does (every address).
    func tuples(_ entry: TierRule, _ pod: Pod, _ cluster: Cluster, _ engine: PolicyEngine, into tuples: inout AllowTuples) {
        let contribution = entry.label
        let rule = entry.rule
        func add(_ addresses: ClosedRange<UInt32>, peer: Pod?) {
            let destination = entry.direction == .ingress ? pod : peer
            guard let protocols = rule.protocols else {
                if addresses.count == 1 {
                    tuples.addAny(peer: addresses.lowerBound, by: contribution)
                } else {
                    tuples.addBox(
                        TupleBox(addresses: addresses, protocols: TupleBox.anyProtocol, ports: TupleBox.anyPort), by: contribution)
                }
                return
            }
            for match in protocols {
                var pieces: [(TransportProtocol, ClosedRange<Int>)] = []
                switch match {
                case .port(let proto, let range): pieces.append((proto, range ?? 0...65535))
                case .namedPort(let name):
                    for proto in TransportProtocol.allCases where proto.isKubernetes {
                        for port in destination?.resolve(portName: name, proto: proto) ?? [] { pieces.append((proto, port...port)) }
                    }
                }
                for (proto, range) in pieces {
                    if addresses.count == 1 && range.count == 1 {
                        tuples.addExact(peer: addresses.lowerBound, proto: proto.number, port: UInt16(range.lowerBound), by: contribution)
                    } else {
                        let box = TupleBox(
                            addresses: addresses, protocols: UInt32(proto.number)...UInt32(proto.number),
                            ports: UInt32(range.lowerBound)...UInt32(range.upperBound))
                        tuples.addBox(box, by: contribution)
                    }
                }
            }
        }
        for peer in rule.peers {
            switch peer {
            case .namespaces, .pods:
                for other in cluster.sortedPods where engine.matches(peer, action: rule.action, .pod(other.key)) {
                    if let address = cluster.addresses[other.key] { add(address.value...address.value, peer: other) }
                }
            case .networks(let cidrs):
                for cidr in cidrs where cidr.family == .ipv4 { add(cidr.firstAddress.value...cidr.lastAddress.value, peer: nil) }
            case .nodes(let selector):
                // The selected nodes' addresses: the nodes and their host-network pods.
                for address in cluster.nodeAddresses(selectedBy: selector) { add(address.value...address.value, peer: nil) }
            case .domainNames:
                if rule.action != .accept {
                    add(0...UInt32.max, peer: nil)
                } else {
                    let addresses = Set(cluster.addresses.values).union(cluster.externals.values.map(\.ip))
                    for address in addresses.sorted(by: { $0.value < $1.value })
                    where engine.matches(peer, action: rule.action, cluster.endpoint(at: address)) {
                        let peerPod: Pod? = if case .pod(let key) = cluster.endpoint(at: address) { cluster.pods[key] } else { nil }
                        add(address.value...address.value, peer: peerPod)
                    }
                }
            }
        }
    }
}
