import KeycardModel
import KeycardValues

/// Hubble's `policy_match_type` (`flow.Flow`, `uint32`, field 23): on a policy verdict event, what
/// kind of policy map entry decided the packet, as the datapath reports it (bpf `lib/policy.h`,
/// `__policy_can_access`; Hubble's `decodePolicyMatchType`). The values are cilium
/// `pkg/monitor/api/types.go` `PolicyMatch*` (bpf `lib/common.h` `POLICY_MATCH_*`); Hubble's
/// printer shows them as `policy-verdict:L3-L4 INGRESS ALLOWED`. `none` (0) is not written
/// (protobuf's JSON mapping leaves a zero out): a default deny matched no entry.
enum PolicyMatchType: Int, Sendable {
    /// The peer's identity, any protocol and port (`L3-Only`).
    case l3Only = 1
    /// The peer's identity, a protocol and a port or port block (`L3-L4`).
    case l3L4 = 2
    /// Any peer, a protocol and a port or port block (`L4-Only`).
    case l4Only = 3
    /// Any peer, any protocol and port (`all`).
    case all = 4
    /// The peer's identity and a protocol, any port (`L3-Proto`).
    case l3Proto = 5
    /// Any peer and a protocol, any port (`Proto-Only`).
    case protoOnly = 6

    /// One policy map entry that holds the packet: whether it names the peer's identity (`l3`), and
    /// how many bits of protocol (8) and port (16) its key fixes (`prefix`: 0 any protocol, 8 a
    /// protocol with any port, 24 one port; between, an aligned block of a port range).
    struct Entry: Equatable {
        var l3: Bool
        var prefix: Int
    }

    /// The datapath's choice among the entries that hold the packet: the longest prefix of the
    /// entries naming the peer (L3 lookup) against the longest of those naming any peer (L4-only
    /// lookup), the L4-only one only when its prefix is longer (bpf `lib/policy.h`,
    /// `__policy_can_access`: "the entry with longer prefix length is selected ... Otherwise the
    /// allow entry with non-wildcard L3 is chosen"); nil when no entry holds it.
    static func chosen(_ entries: [Entry]) -> PolicyMatchType? {
        let l3 = entries.filter(\.l3).map(\.prefix).max()
        let l4 = entries.filter { !$0.l3 }.map(\.prefix).max()
        if let l4, l4 > (l3 ?? -1) {
            return l4 == 0 ? .all : l4 <= 8 ? .protoOnly : .l4Only
        }
        guard let l3 else { return nil }
        return l3 > 8 ? .l3L4 : l3 > 0 ? .l3Proto : .l3Only
    }

    /// The prefix of the entry a port or port range puts in the map for `port`: Cilium keys a range
    /// as the aligned power-of-two blocks that cover it (`PortRangeToMaskedPorts`), so `port` falls
    /// in exactly one, whose mask fixes 16 minus its size's bits; a single port fixes all 16.
    static func prefix(of range: ClosedRange<Int>, holding port: Int) -> Int {
        var start = range.lowerBound
        while start <= range.upperBound {
            var bits = 0
            while bits < 16, start % (1 << (bits + 1)) == 0, start + (1 << (bits + 1)) - 1 <= range.upperBound { bits += 1 }
            if port < start + (1 << bits) { return 8 + 16 - bits }
            start += 1 << bits
        }
        return 24
    }
}

extension FlowLog {
    /// The `policy_match_type` of `side`'s policy verdict on `port` (the port the policies judged)
    /// toward `destination`, from what decided it in keycard's model: the NetworkPolicy rules that
    /// allow it (a rule without peers names any peer; one without ports any protocol and port; a
    /// port without a number a protocol; a named port one port), the ClusterNetworkPolicy rule that
    /// accepted or denied it (its peers always name who, its `protocols` as a NetworkPolicy's
    /// ports), and the local node's own allowance (Cilium's `allow-localhost`: the host's identity,
    /// any port). Nil for a default deny, which matched no entry.
    static func matchType(
        _ side: DirectionVerdict, direction: NetworkPolicy.PolicyType, port: ProtocolPort, destination: Endpoint, cluster: Cluster
    )
        -> Int?
    {
        let holder = cluster.namedPortHolder(destination)
        var entries: [PolicyMatchType.Entry] = []
        if side.outcome == .localNode { entries.append(.init(l3: true, prefix: 0)) }
        if let step = side.tiers.last, step.result == .accept || step.result == .deny, let key = step.policy, let index = step.ruleIndex,
            let rule = cluster.clusterPolicies[key]?.rules(direction)[safe: index]
        {
            let prefixes = (rule.protocols ?? []).filter { PolicyEngine.matches($0, port, holder) }.map { entry -> Int in
                switch entry {
                case .port(_, nil): 8
                case .port(_, let range?): PolicyMatchType.prefix(of: range, holding: port.port)
                case .namedPort: 24
                }
            }
            entries.append(.init(l3: true, prefix: rule.protocols == nil ? 0 : prefixes.max() ?? 24))
        } else if side.outcome == .allowed {
            for ref in side.allowingRules {
                guard let rule = cluster.policies[ref.policy]?.rules(direction)[safe: ref.ruleIndex] else { continue }
                entries.append(.init(l3: !(rule.peers ?? []).isEmpty, prefix: prefix(of: rule, port: port, holder: holder)))
            }
        } else if side.outcome == .localNode {
            // Beside allow-localhost, the map holds the L4-only entries of the isolating policies'
            // rules without peers; one whose port prefix is longer decides (`chosen`).
            for key in side.isolatingPolicies {
                for rule in cluster.policies[key]?.rules(direction) ?? [] where (rule.peers ?? []).isEmpty {
                    let ports = rule.ports ?? []
                    guard ports.isEmpty || ports.contains(where: { PolicyEngine.matches($0, port, holder) }) else { continue }
                    entries.append(.init(l3: false, prefix: prefix(of: rule, port: port, holder: holder)))
                }
            }
        }
        return PolicyMatchType.chosen(entries)?.rawValue
    }

    /// How many bits of protocol and port the entry `rule` puts in the map for `port` fixes: 0
    /// without ports, else the longest of its ports that hold `port` (`PolicyMatchType.Entry`).
    private static func prefix(of rule: NetworkPolicy.Rule, port: ProtocolPort, holder: Pod?) -> Int {
        let ports = rule.ports ?? []
        let prefixes = ports.filter { PolicyEngine.matches($0, port, holder) }.map { entry -> Int in
            switch entry.port {
            case nil: 8
            case .number(let first): PolicyMatchType.prefix(of: first...max(first, entry.endPort ?? first), holding: port.port)
            case .name: 24
            }
        }
        return ports.isEmpty ? 0 : prefixes.max() ?? 24
    }
}

extension Array {
    fileprivate subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
