import KeycardModel
import KeycardValues

/// The checks about who is isolated, and what isolation breaks.
extension LintPass {
    /// `unselected-pod`: once per pod, or per workload for the pods it made.
    mutating func checkUnselectedPods() {
        var reported: Set<ObjectRef> = []
        for pod in pods where cluster.isolatingPolicies(for: pod, .ingress).isEmpty && cluster.isolatingPolicies(for: pod, .egress).isEmpty
        {
            let object = ref(pod)
            guard reported.insert(object).inserted else { continue }
            // A policy may well select it: NetworkPolicy does not isolate a host-network pod.
            let why =
                pod.hostNetwork
                ? "uses the host network, which NetworkPolicy does not isolate whatever selects it"
                : "is selected by no NetworkPolicy"
            // Another CNI's policy in its namespace (or cluster-wide) may select it in a real cluster.
            let foreign = foreignPolicies.filter { $0.namespace == nil || $0.namespace == pod.namespace }
            let note =
                foreign.isEmpty || pod.hostNetwork
                ? ""
                : " (as far as keycard sees: \(foreign.map(\.description).joined(separator: ", ")), which keycard skips, may select it in a cluster running \(Set(foreign.map(\.cni)).sorted().joined(separator: ", ")))"
            // ClusterNetworkPolicies that have it as a subject and a Deny rule still limit its traffic.
            let tiers = ClusterNetworkPolicy.Tier.allCases.flatMap { tier in
                NetworkPolicy.PolicyType.allCases.flatMap {
                    engine.tierRules(tier, $0, for: pod).filter { $0.rule.action == .deny }.map(\.policy.key.description)
                }
            }
            var seen: Set<String> = []
            let judging = tiers.filter { seen.insert($0).inserted }
            let reach =
                judging.isEmpty || pod.hostNetwork
                ? "every pod may reach it and it may reach everything"
                : "only ClusterNetworkPolicies (\(judging.joined(separator: ", "))) limit what reaches it and what it reaches"
            report("unselected-pod", "\(object) \(why): \(reach)\(note)", object)
        }
    }

    /// `missing-default-deny-ingress` / `-egress`: per namespace with pods of the user's.
    mutating func checkDefaultDeny() {
        let namespaces = Set(pods.map(\.namespace)).sorted()
        for namespace in namespaces {
            for direction in NetworkPolicy.PolicyType.allCases {
                let hasDefaultDeny = cluster.policies.values.contains {
                    $0.namespace == namespace && $0.podSelector.isEmpty && $0.effectivePolicyTypes.contains(direction)
                        && $0.rules(direction).isEmpty
                }
                if hasDefaultDeny { continue }
                let object =
                    locations.keys.contains(ObjectRef(kind: .namespace, namespace: nil, name: namespace))
                    ? ObjectRef(kind: .namespace, namespace: nil, name: namespace)
                    : pods.first { $0.namespace == namespace }.map(ref)
                report(
                    "missing-default-deny-\(direction.rawValue.lowercased())",
                    "namespace \(namespace) has no default-deny \(direction.rawValue) policy (empty podSelector, policyTypes [\(direction.rawValue)], no \(direction.rawValue.lowercased()) rule)",
                    object)
            }
        }
    }

    /// `egress-blocks-dns`: a pod whose egress denies its DNS port to every nameserver its
    /// resolv.conf lists (`Timeline.podResolvConf`, by dnsPolicy as the Pod's DNS Policy doc and
    /// the kubelet's `GetPodDNS` say: cluster DNS for ClusterFirst, the node's for Default,
    /// `dnsConfig.nameservers` for None); for the cluster DNS pod (the lab's,
    /// with `spec.lab.dns`), by its NetworkPolicies or by a ClusterNetworkPolicy's Deny (reported
    /// at that rule); TCP/53 for a pod whose resolv.conf has `use-vc` (glibc asks every query over
    /// TCP); and TCP/53 for a pod allowed UDP/53 when cluster DNS holds a name whose answer does not
    /// fit the pod's UDP limit (`DNSResponse.wireSize` over `ResolvConf.udpAnswerLimit`: a headless
    /// Service with about 30 ready endpoints): its UDP answer comes back truncated and glibc asks
    /// again over TCP/53 (res_send.c `send_dg`), so looking that name up fails. Without a DNS pod,
    /// a pod isolated for egress whose NetworkPolicies allow its DNS port (UDP/53, TCP/53 with
    /// `use-vc`) to no destination.
    mutating func checkDNS() {
        let dnsPod = cluster.pods[ClusterDNS.podKey]
        // The names whose answer is largest first matter only once some pod is allowed UDP/53 alone.
        var largeNames: [Int: [(name: String, size: Int)]] = [:]
        func large(limit: Int, edns: Bool) -> [(name: String, size: Int)] {
            if let known = largeNames[limit] { return known }
            let records = DNSRecords(cluster)
            let found = records.names.compactMap { name -> (name: String, size: Int)? in
                guard let response = records.answer(name) else { return nil }
                let size = response.wireSize(question: name, edns: edns)
                return size > limit ? (name, size) : nil
            }
            largeNames[limit] = found
            return found
        }
        let clusterDNS = ClusterDNS.serverAddress(in: cluster)
        for pod in pods {
            let isolating = cluster.isolatingPolicies(for: pod, .egress)
            // The resolv.conf the kubelet writes for it, by its dnsPolicy (`Timeline.podResolvConf`):
            // a Default or None pod asks its node's or its own nameservers, not cluster DNS.
            let conf = Timeline.podResolvConf(of: pod, in: cluster, node: nodeResolvConf)
            let dns = Timeline.dnsPort(conf)
            if let dnsPod {
                let servers = conf.nameservers.compactMap(IPv4.init)
                let others = servers.filter { $0 != clusterDNS }
                guard servers.contains(where: { $0 == clusterDNS }) else {
                    // One it reaches answers its lookups (glibc asks the next after a timeout).
                    if others.contains(where: { reaches(pod, $0, port: dns) }) { continue }
                    if let first = isolating.first, !others.isEmpty {
                        let listed = others.map(\.description).joined(separator: ", ")
                        reportDNSBlocked(
                            pod, isolating, target: "the nameservers of its resolv.conf (\(listed), dnsPolicy \(pod.dnsPolicy.rawValue))",
                            port: dns, first)
                    }
                    continue
                }
                if reportDNSDenied(pod, dnsPod, isolating, port: dns, because: "its name lookups fail") { continue }
                guard !conf.usesTCP else { continue }
                let names = large(limit: conf.udpAnswerLimit, edns: conf.usesEDNS0)
                guard !names.isEmpty else { continue }
                let listed = names.prefix(3).map { "\($0.name) (\($0.size) bytes)" }.joined(separator: ", ")
                let more = names.count > 3 ? " and \(names.count - 3) more" : ""
                _ = reportDNSDenied(
                    pod, dnsPod, isolating, port: ProtocolPort(.tcp, 53),
                    because:
                        "looking up \(listed)\(more) fails: the answer does not fit \(conf.udpAnswerLimit) bytes over UDP, comes back truncated and the resolver asks again over TCP/53 (UDP/53 is allowed)"
                )
            } else if let first = isolating.first {
                let allowsDNS = isolating.contains { policy in
                    policy.rules(.egress).contains { rule in
                        guard let ports = rule.ports, !ports.isEmpty else { return true }
                        return ports.contains { PolicyEngine.matches($0, dns, nil) }
                    }
                }
                if !allowsDNS { reportDNSBlocked(pod, isolating, target: "any DNS server", port: dns, first) }
            }
        }
    }

    /// Whether `pod`'s egress allows `port` to the nameserver `address`: a pod's address is judged
    /// as that pod, any other as an address (an `ipBlock` peer); a loopback nameserver is the pod's
    /// own, which no policy judges.
    private func reaches(_ pod: Pod, _ address: IPv4, port: ProtocolPort) -> Bool {
        if address.value >> 24 == 127 { return true }
        let destination = cluster.addresses.first { $0.value == address }.map { Endpoint.pod($0.key) } ?? .address(address)
        return engine.evaluate(from: .pod(pod.key), to: destination, port: port).egress.outcome != .denied
    }

    /// Reports `egress-blocks-dns` when `pod`'s egress denies `port` to the cluster DNS pod (at a
    /// ClusterNetworkPolicy's Deny rule, else at its first isolating NetworkPolicy); true when it did.
    private mutating func reportDNSDenied(
        _ pod: Pod, _ dnsPod: Pod, _ isolating: [NetworkPolicy], port: ProtocolPort, because consequence: String
    ) -> Bool {
        let egress = engine.evaluate(from: .pod(pod.key), to: .pod(dnsPod.key), port: port).egress
        guard egress.outcome == .denied else { return false }
        if let step = egress.tiers.last, step.result == .deny, let key = step.policy,
            let policy = cluster.clusterPolicies[key], let index = step.ruleIndex
        {
            let when =
                policy.tier == .admin ? "before any NetworkPolicy is consulted" : "as no NetworkPolicy isolates it for egress"
            report(
                "egress-blocks-dns",
                "\(pod.key) cannot reach the cluster DNS (\(dnsPod.key)) on \(port): \(policy.tier.rawValue) policy \(key)'s Deny rule \(step.by ?? Self.ruleName(.egress, index)) drops it \(when), so \(consequence)",
                Self.ref(policy), Self.rulePath(.egress, index))
            return true
        }
        guard let first = isolating.first else { return false }
        reportDNSBlocked(pod, isolating, target: "the cluster DNS (\(dnsPod.key))", port: port, first, consequence: consequence)
        return true
    }

    private mutating func reportDNSBlocked(
        _ pod: Pod, _ isolating: [NetworkPolicy], target: String, port: ProtocolPort, _ first: NetworkPolicy,
        consequence: String = "its name lookups fail"
    ) {
        let names = isolating.map(\.key.description).joined(separator: ", ")
        report(
            "egress-blocks-dns",
            "\(pod.key) is isolated for egress by \(names) and no egress rule lets it reach \(target) on \(port): \(consequence)",
            Self.ref(first), [.key("spec"), .key("policyTypes")])
    }

    /// `one-sided-allow`: rules that allow connections between pods (on ports the destination
    /// serves) and open none of them, because the other side denies each. Reported per rule,
    /// with the flows it fails to open.
    mutating func checkOneSided() {
        typealias Key = LintRuleKey
        var flows: [Key: [String]] = [:]
        var blockers: [Key: Set<ObjectKey>] = [:]
        // Rules that open at least one connection: a broad rule (every peer) that the other side
        // denies for some peers is not a mistake, a rule that opens nothing is.
        var opens: Set<Key> = []
        // Without cluster tiers, a pair whose source no policy isolates for egress and whose
        // destination none isolates for ingress is allowed by no rule: it cannot matter here, and
        // skipping it keeps a thousand pods under one policy from a million evaluations.
        let pods = self.pods
        let egressIsolated = Set(pods.filter { mayHaveAllowingRules($0, .egress) }.map(\.key))
        let ingressIsolated = pods.filter { mayHaveAllowingRules($0, .ingress) }
        for source in pods {
            let destinations = egressIsolated.contains(source.key) ? pods : ingressIsolated
            for destination in destinations where destination.key != source.key {
                for port in cluster.servedPorts(of: .pod(destination.key)) {
                    let verdict = engine.evaluate(from: .pod(source.key), to: .pod(destination.key), port: port)
                    if verdict.decision.allows {
                        for rule in verdict.egress.allowingRules + verdict.ingress.allowingRules {
                            opens.insert(Key(rule))
                        }
                        continue
                    }
                    let (allowing, denying): (DirectionVerdict, DirectionVerdict)
                    switch (verdict.egress.outcome, verdict.ingress.outcome) {
                    case (.allowed, .denied): (allowing, denying) = (verdict.egress, verdict.ingress)
                    case (.denied, .allowed): (allowing, denying) = (verdict.ingress, verdict.egress)
                    default: continue
                    }
                    // A ClusterNetworkPolicy's Deny decided the other side: no NetworkPolicy rule
                    // could open it (Admin), or the side has no NetworkPolicy to name (Baseline):
                    // not the mistake this rule finds (`keycard explain` shows the tier's walk).
                    if denying.tiers.last?.result == .deny || denying.isolatingPolicies.isEmpty { continue }
                    for rule in allowing.allowingRules {
                        let key = Key(rule)
                        flows[key, default: []].append("\(source.key) -> \(destination.key) \(port)")
                        blockers[key, default: []].formUnion(denying.isolatingPolicies)
                    }
                }
            }
        }
        for key in flows.keys.sorted() where !opens.contains(key) {
            guard let policy = cluster.policies[key.policy], let list = flows[key] else { continue }
            // A rule with no peers (every source or destination) or with an ipBlock also opens
            // connections with hosts outside the pods: clients through a node port or load
            // balancer, the nodes, the internet. It opens those, so it is no forgotten egress.
            let rules = policy.rules(key.direction)
            if key.index < rules.count, rules[key.index].opensBeyondPods { continue }
            let shown = list.prefix(3).joined(separator: ", ") + (list.count > 3 ? " and \(list.count - 3) more" : "")
            let other = key.direction == .ingress ? "source's egress" : "destination's ingress"
            let by = (blockers[key] ?? []).sorted().map(\.description).joined(separator: ", ")
            let missing = key.direction == .ingress ? "an egress rule" : "an ingress rule"
            report(
                "one-sided-allow",
                "\(Self.ruleName(key.direction, key.index)) of \(policy.key) allows \(shown), but the \(other) denies it (isolated by \(by), no rule allows it): the connection stays blocked until \(missing) allows it too",
                Self.ref(policy), Self.rulePath(key.direction, key.index))
        }
    }
}
