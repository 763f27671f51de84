import KeycardModel
import KeycardRuleset

/// Compiles one ingress or egress rule of one policy into rules and the sets they look up.
struct RuleCompiler {
    let cache: CompileCache
    let policy: NetworkPolicy
    let direction: NetworkPolicy.PolicyType
    let index: Int
    let rule: NetworkPolicy.Rule

    /// What a named port resolves against: the destination pod.
    enum NamedPortTargets {
        /// Pod placement, ingress: the table's own pod.
        case thisPod(Pod)
        /// Node placement, ingress: the protected pods on this node.
        case pods([Pod])
        /// Egress: whichever peer pod the packet goes to.
        case peers
    }

    /// `selected`: the pods the rule protects, matched by address (an empty list still gets its set,
    /// so a relabel only fills it).
    func compile(selected: [Pod]?, namedPorts: NamedPortTargets, verdict: KeycardRuleset.Verdict) -> (sets: [NamedSet], rules: [Rule]) {
        var sets: [NamedSet] = []
        var base: [Match] = []
        let prefix = setPrefix
        if let selected {
            let name = "\(prefix)-pods"
            sets.append(NamedSet(name: name, key: [.ipv4Address], elements: addresses(of: selected)))
            base.append(direction == .egress ? .saddrInSet(name) : .daddrInSet(name))
        }
        let (peerPods, peerElements) = cache.peers(of: rule, index, in: policy, direction)
        if let peers = rule.peers, !peers.isEmpty {
            let name = "\(prefix)-peers"
            // Only ipBlocks need ranges; pod addresses alone go in a hash set.
            let ranged = peers.contains { $0.ipBlock != nil }
            sets.append(
                NamedSet(
                    name: name, key: [.ipv4Address], interval: ranged,
                    elements: ranged ? peerElements : peerElements.compactMap(\.singleAddress)))
            base.append(direction == .egress ? .daddrInSet(name) : .saddrInSet(name))
        }
        let comment = Self.clip("\(policy.key)#\(direction.rawValue.lowercased())[\(index)]")
        guard let ports = rule.ports, !ports.isEmpty else {
            return (sets, [Rule(base, counter: true, verdict: verdict, comment: comment)])
        }
        var rules: [Rule] = []
        for (portIndex, port) in ports.enumerated() {
            let portComment = Self.clip("\(comment).ports[\(portIndex)]")
            let proto: Match = .l4proto(port.proto.number)
            switch port.port {
            case nil:
                rules.append(Rule(base + [proto], counter: true, verdict: verdict, comment: portComment))
            case .number(let first):
                let match: Match = port.endPort.map { .dportRange(UInt16(first), UInt16($0)) } ?? .dport(UInt16(first))
                rules.append(Rule(base + [proto, match], counter: true, verdict: verdict, comment: portComment))
            case .name(let name):
                if case .thisPod(let pod) = namedPorts {
                    for number in Set(pod.resolve(portName: name, proto: port.proto)).sorted() {
                        rules.append(Rule(base + [proto, .dport(UInt16(number))], counter: true, verdict: verdict, comment: portComment))
                    }
                } else {
                    let targets: [Pod]
                    if case .pods(let pods) = namedPorts { targets = pods } else { targets = peerPods }
                    // The destination varies: match (address, protocol, port) of every pod that
                    // declares the name.
                    let setName = "\(prefix)-np\(portIndex)"
                    var elements: [SetElement] = []
                    for pod in targets {
                        guard let ip = cache.cluster.addresses[pod.key] else { continue }
                        for number in Set(pod.resolve(portName: name, proto: port.proto)).sorted() {
                            elements.append(.value([.ipv4(ip.value), .proto(port.proto.number), .port(UInt16(number))]))
                        }
                    }
                    sets.append(NamedSet(name: setName, key: [.ipv4Address, .inetProto, .inetService], elements: elements))
                    rules.append(
                        Rule(
                            base + [.concatInSet([.daddr, .l4proto, .dport], set: setName)],
                            counter: true, verdict: verdict, comment: portComment))
                }
            }
        }
        return (sets, rules)
    }

    private func addresses(of pods: [Pod]) -> [SetElement] {
        pods.compactMap { cache.cluster.addresses[$0.key] }.map { .value([.ipv4($0.value)]) }
    }

    /// A set name from the policy and rule, stable across relabels: `in-NS-NAME-0`.
    private var setPrefix: String {
        let short = direction == .ingress ? "in" : "eg"
        let name = "\(short)-\(policy.namespace)-\(policy.name)-\(index)"
        if name.utf8.count <= 200 { return name }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return "\(short)-\(String(name.prefix(180)))-\(String(hash, radix: 16))"
    }

    /// Rule comments are kept short: the kernel caps user data.
    static func clip(_ text: String) -> String { text.utf8.count <= 120 ? text : String(text.prefix(117)) + "..." }
}
