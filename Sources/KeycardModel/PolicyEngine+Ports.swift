import KeycardValues

extension PolicyEngine {
    /// `evaluate(from:to:port:)` for each of `ports`, in the same order, with the same verdicts.
    ///
    /// For a pod or address destination under NetworkPolicies alone, each rule's peers are matched
    /// once and its ports are looked up among `ports` (sorted once, ranges found by binary
    /// search), so the cost grows with rules plus matches rather than rules times ports: lint's
    /// `shadowed-rule` pass asks every port any rule names, and a policy of thousands of rules
    /// names thousands. Services, exposed entries, a pod to itself, the local node and cluster
    /// tiers are evaluated port by port.
    public func evaluate(from source: Endpoint, to destination: Endpoint, ports: [ProtocolPort]) -> [Verdict] {
        let sender = cluster.networkSource(source)
        let simple: Bool =
            switch destination {
            case .service, .exposed: false
            default:
                cluster.clusterPolicies.isEmpty && !(source == destination && { if case .pod = source { true } else { false } }())
                    && ports.first.map { localNodeVerdict(from: sender, to: destination, port: $0) == nil } ?? true
            }
        guard simple else { return ports.map { evaluate(from: source, to: destination, port: $0) } }
        let egress = judgeNetworkPolicies(.egress, pod: sender, peer: destination, destination: destination, ports: ports)
        let ingress = judgeNetworkPolicies(.ingress, pod: destination, peer: sender, destination: destination, ports: ports)
        return ports.indices.map { Verdict(from: source, to: destination, port: ports[$0], egress: egress[$0], ingress: ingress[$0]) }
    }

    /// `judge` for each of `ports` (no cluster tiers).
    private func judgeNetworkPolicies(
        _ direction: NetworkPolicy.PolicyType, pod endpoint: Endpoint, peer: Endpoint, destination: Endpoint, ports: [ProtocolPort]
    ) -> [DirectionVerdict] {
        guard case .pod(let key) = endpoint, let pod = cluster.pods[key] else {
            return Array(repeating: DirectionVerdict(outcome: .notApplicable, isolatingPolicies: [], allowingRules: []), count: ports.count)
        }
        let isolating = isolation.policies(for: pod, direction, in: cluster)
        guard !pod.hostNetwork, !isolating.policies.isEmpty else {
            return Array(repeating: DirectionVerdict(outcome: .notIsolated, isolatingPolicies: [], allowingRules: []), count: ports.count)
        }
        let destinationPod = cluster.namedPortHolder(destination)
        // Port positions sorted by (protocol, number): a range's ports are one slice.
        let order = ports.indices.sorted { ports[$0] < ports[$1] }
        func positions(_ proto: TransportProtocol, _ range: ClosedRange<Int>) -> ArraySlice<Int> {
            let low = ProtocolPort(proto, range.lowerBound)
            let high = ProtocolPort(proto, range.upperBound)
            let start = partition(order) { ports[$0] < low }
            let end = partition(order) { ports[$0] <= high }
            return start < end ? order[start..<end] : []
        }
        var allowing = Array(repeating: [RuleRef](), count: ports.count)
        for policy in isolating.policies {
            for (ruleIndex, rule) in policy.rules(direction).enumerated() {
                guard let peerIndex = matchingPeer(rule, of: policy, peer) else { continue }
                func allow(_ position: Int, _ portIndex: Int?) {
                    allowing[position].append(
                        RuleRef(
                            policy: policy.key, direction: direction, ruleIndex: ruleIndex, peerIndex: peerIndex.index, portIndex: portIndex
                        ))
                }
                guard let entries = rule.ports, !entries.isEmpty else {
                    for position in ports.indices { allow(position, nil) }
                    continue
                }
                // Each port takes the first entry that matches it, as `matchingPort` does.
                var taken = Set<Int>()
                for (entryIndex, entry) in entries.enumerated() {
                    let matched: [Int] =
                        switch entry.port {
                        case nil: Array(positions(entry.proto, 0...Int.max))
                        case .number(let first):
                            (entry.endPort ?? first) < first ? [] : Array(positions(entry.proto, first...(entry.endPort ?? first)))
                        case .name(let name):
                            (destinationPod?.resolve(portName: name, proto: entry.proto) ?? []).flatMap {
                                positions(entry.proto, $0...$0)
                            }
                        }
                    for position in matched where taken.insert(position).inserted { allow(position, entryIndex) }
                }
            }
        }
        // Each port's list is in policy and rule order, as the rules were visited.
        return allowing.map { rules in
            DirectionVerdict(
                outcome: rules.isEmpty ? .denied : .allowed, isolatingPolicies: isolating.keys, allowingRules: rules)
        }
    }

    /// The first index of `order` whose port is not `before`, by binary search (`before` holds
    /// for a prefix of `order`).
    private func partition(_ order: [Int], _ before: (Int) -> Bool) -> Int {
        var low = 0
        var high = order.count
        while low < high {
            let middle = (low + high) / 2
            if before(order[middle]) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
