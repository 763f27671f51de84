import KeycardModel
import KeycardValues

/// The checks about single policies and their rules.
extension LintPass {
    /// `policy-selects-nothing`.
    mutating func checkPolicySelectors() {
        for policy in sortedPolicies {
            let selects = cluster.pods.values.contains { $0.namespace == policy.namespace && policy.podSelector.matches($0.labels) }
            if !selects {
                report(
                    "policy-selects-nothing", "\(policy.key)'s podSelector selects no pod of namespace \(policy.namespace)",
                    Self.ref(policy), [.key("spec"), .key("podSelector")])
            }
        }
    }

    /// `peer-selects-nothing`: selector peers (not ipBlocks) that match no pod.
    mutating func checkPeers() {
        for policy in sortedPolicies {
            for direction in NetworkPolicy.PolicyType.allCases {
                for (index, rule) in policy.rules(direction).enumerated() {
                    for (peerIndex, peer) in (rule.peers ?? []).enumerated() where peer.ipBlock == nil {
                        let selects = cluster.pods.keys.contains { engine.matches(peer, of: policy, .pod($0)) }
                        if selects { continue }
                        let field = direction == .ingress ? "from" : "to"
                        report(
                            "peer-selects-nothing",
                            "\(Self.ruleName(direction, index)).\(field)[\(peerIndex)] of \(policy.key) selects no pod",
                            Self.ref(policy), Self.rulePath(direction, index) + [.key(field), .index(peerIndex)])
                    }
                }
            }
        }
    }

    /// `shadowed-rule`: every connection the rule allows (between each pod its policy selects and
    /// every pod, external and one outside address, on every port in use and one unused port per
    /// protocol) is also allowed by another rule.
    mutating func checkShadowed() {
        typealias Key = LintRuleKey
        // 192.0.2.1 (TEST-NET-1, RFC 5737): an address no lab gives out, standing for the outside.
        let outside = Endpoint.address(IPv4(0xC000_0201))
        let endpoints = cluster.sortedPods.map { Endpoint.pod($0.key) } + cluster.externals.keys.sorted().map(Endpoint.external) + [outside]
        let ports = candidatePorts()
        var seen: Set<Key> = []
        var alone: Set<Key> = []
        // The distinct sets of rules that allowed one connection together.
        var together: Set<Set<Key>> = []
        func note(_ rules: [RuleRef]) {
            let keys = Set(rules.map { Key($0) })
            for key in keys {
                seen.insert(key)
                if keys.count == 1 { alone.insert(key) }
            }
            if keys.count > 1 { together.insert(keys) }
        }
        // Without cluster tiers only a pod some policy isolates in a direction has rules allowing
        // anything there: the others are skipped (a thousand pods under one policy would
        // otherwise cost millions of evaluations that note nothing).
        for pod in cluster.sortedPods {
            let egress = mayHaveAllowingRules(pod, .egress)
            let ingress = mayHaveAllowingRules(pod, .ingress)
            guard egress || ingress else { continue }
            // All ports at once: the engine matches each rule's peers once, not once per port.
            for endpoint in endpoints where endpoint != .pod(pod.key) {
                if egress {
                    for verdict in engine.evaluate(from: .pod(pod.key), to: endpoint, ports: ports) { note(verdict.egress.allowingRules) }
                }
                if ingress {
                    for verdict in engine.evaluate(from: endpoint, to: .pod(pod.key), ports: ports) { note(verdict.ingress.allowingRules) }
                }
            }
        }
        // Rules that cover each other (the same rule written in three policies) are not all
        // shadowed: removing every one would lose what they allow. The last in order goes first,
        // each only while every connection it allows keeps another rule not yet removed.
        var removed: Set<Key> = []
        for key in seen.subtracting(alone).sorted().reversed() {
            let covered = together.allSatisfy { keys in !keys.contains(key) || !keys.subtracting(removed).subtracting([key]).isEmpty }
            if covered { removed.insert(key) }
        }
        for key in removed.sorted() {
            guard let policy = cluster.policies[key.policy] else { continue }
            let company = together.filter { $0.contains(key) }.reduce(into: Set<Key>()) { $0.formUnion($1) }.subtracting([key])
            let kept = company.subtracting(removed)
            let others = (kept.isEmpty ? company : kept).sorted().map { "\(Self.ruleName($0.direction, $0.index)) of \($0.policy)" }
            report(
                "shadowed-rule",
                "\(Self.ruleName(key.direction, key.index)) of \(policy.key) allows nothing that \(others.joined(separator: ", ")) do not already allow",
                Self.ref(policy), Self.rulePath(key.direction, key.index))
        }
    }

    /// Every port some pod or external serves or some rule names, and one port per protocol
    /// that none does (the rest of the port space).
    private func candidatePorts() -> [ProtocolPort] {
        var ports = Set(cluster.pods.values.flatMap { pod in pod.ports.map { ProtocolPort($0.proto, $0.port) } })
        ports.formUnion(cluster.externals.values.flatMap(\.ports))
        for policy in cluster.policies.values {
            for rule in policy.rules(.ingress) + policy.rules(.egress) {
                for entry in rule.ports ?? [] {
                    guard case .number(let first) = entry.port else { continue }
                    ports.insert(ProtocolPort(entry.proto, first))
                    if let end = entry.endPort { ports.insert(ProtocolPort(entry.proto, end)) }
                }
            }
        }
        for proto in TransportProtocol.allCases where proto.isKubernetes {
            if let unused = (1...65535).reversed().first(where: { !ports.contains(ProtocolPort(proto, $0)) }) {
                ports.insert(ProtocolPort(proto, unused))
            }
        }
        return ports.sorted()
    }

    /// `service-port-not-target-port`: a numeric rule port that no pod it could concern serves,
    /// equal to the `port` of a Service whose backends serve it on another target port.
    mutating func checkServicePorts() {
        for policy in sortedPolicies {
            for direction in NetworkPolicy.PolicyType.allCases {
                // Before translation (pre-DNAT enforcement) the egress side does see the Service port.
                if direction == .egress && cluster.serviceEnforcement == .preDNAT { continue }
                for (index, rule) in policy.rules(direction).enumerated() {
                    for (portIndex, entry) in (rule.ports ?? []).enumerated() {
                        guard case .number(let number) = entry.port, entry.endPort == nil else { continue }
                        let port = ProtocolPort(entry.proto, number)
                        // The pods whose served ports the rule is about: the selected pods for
                        // ingress; for egress, the pods its peers select (every pod without peers).
                        let concerned = cluster.sortedPods.filter { pod in
                            direction == .ingress
                                ? pod.namespace == policy.namespace && policy.podSelector.matches(pod.labels)
                                : (rule.peers ?? []).isEmpty
                                    || (rule.peers ?? []).contains { engine.matches($0, of: policy, .pod(pod.key)) }
                        }
                        if concerned.contains(where: { $0.ports.contains { $0.proto == port.proto && $0.port == port.port } }) { continue }
                        for service in cluster.sortedServices {
                            guard let servicePort = service.ports.first(where: { $0.protocolPort == port }) else { continue }
                            let backends = cluster.backends(of: service, port: servicePort).filter { backend in
                                concerned.contains { $0.key == backend.pod } && backend.target != port
                            }
                            guard let backend = backends.first else { continue }
                            report(
                                "service-port-not-target-port",
                                "\(Self.ruleName(direction, index)).ports[\(portIndex)] of \(policy.key) is \(port), the port of Service \(service.key); policy sees the connection after translation, on its backends' target port (\(backend.pod) \(backend.target)): this port never matches",
                                Self.ref(policy), Self.rulePath(direction, index) + [.key("ports"), .index(portIndex)])
                            break
                        }
                    }
                }
            }
        }
    }

    /// `rules-outside-policy-types`: types as written, or as an earlier apply left them
    /// (`NetworkPolicy.retainedPolicyTypes`: a policy created without egress rules keeps
    /// `[Ingress]` when an apply adds some).
    mutating func checkPolicyTypes() {
        for policy in sortedPolicies {
            let written = policy.policyTypes.flatMap { $0.isEmpty ? nil : $0 }
            guard let types = written ?? policy.retainedPolicyTypes.map({ Array($0).sorted { $0.rawValue > $1.rawValue } }) else {
                continue
            }
            for direction in NetworkPolicy.PolicyType.allCases where !types.contains(direction) {
                let rules = (direction == .ingress ? policy.ingress : policy.egress) ?? []
                if rules.isEmpty { continue }
                let key = direction.rawValue.lowercased()
                let list = "[\(types.map(\.rawValue).joined(separator: ", "))]"
                let why =
                    written != nil
                    ? "its policyTypes \(list) omit \(direction.rawValue)"
                    : "its policyTypes stay \(list), as the API server defaulted them when it was created (kubectl apply does not default them again; write policyTypes)"
                report(
                    "rules-outside-policy-types", "\(policy.key) has \(key) rules but \(why): they are ignored", Self.ref(policy),
                    [.key("spec"), .key(key)])
            }
        }
    }

    /// `ipblock-overlaps-pod-cidr`: an ipBlock whose range, less its excepts, meets the pod CIDR.
    mutating func checkIPBlocks() {
        for policy in sortedPolicies {
            for direction in NetworkPolicy.PolicyType.allCases {
                for (index, rule) in policy.rules(direction).enumerated() {
                    for (peerIndex, peer) in (rule.peers ?? []).enumerated() {
                        guard let block = peer.ipBlock, block.cidr.family == .ipv4, block.cidr.overlaps(podCIDR) else { continue }
                        let overlap = block.cidr.contains(podCIDR) ? podCIDR : block.cidr
                        if block.except.contains(where: { $0.contains(overlap) }) { continue }
                        let field = direction == .ingress ? "from" : "to"
                        report(
                            "ipblock-overlaps-pod-cidr",
                            "\(Self.ruleName(direction, index)).\(field)[\(peerIndex)] of \(policy.key): ipBlock \(block.cidr) covers pod addresses (pod CIDR \(podCIDR))",
                            Self.ref(policy), Self.rulePath(direction, index) + [.key(field), .index(peerIndex), .key("ipBlock")])
                    }
                }
            }
        }
    }
}

extension LintPass {
    /// Whether a rule can allow anything for `pod` in `direction`: only when a NetworkPolicy
    /// isolating it there has a rule for that direction (a deny-all isolates and allows nothing),
    /// or when cluster tiers are in play (their rules speak for every pod). Lint's pairwise passes
    /// skip the rest, which no rule can be noted for.
    func mayHaveAllowingRules(_ pod: Pod, _ direction: NetworkPolicy.PolicyType) -> Bool {
        !cluster.clusterPolicies.isEmpty || cluster.isolatingPolicies(for: pod, direction).contains { !$0.rules(direction).isEmpty }
    }
}
