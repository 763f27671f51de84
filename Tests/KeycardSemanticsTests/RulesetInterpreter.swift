import KeycardRuleset

/// Evaluates keycard's ruleset values the way nf_tables evaluates the programmed rules, for one
/// packet opening a connection (conntrack state new). A test oracle: it lets the compiled rules be
/// checked against the policy model over thousands of cases without root.
struct RulesetInterpreter {
    struct Packet {
        var saddr: UInt32
        var daddr: UInt32
        var proto: UInt8
        var dport: UInt16
        var iif = "eth0"
        var oif = "eth0"
        /// An IPv6 packet (`saddr`/`daddr` unused): no `ip saddr`/`ip daddr` match holds for it,
        /// negated or not, as nft makes each depend on `meta nfproto ipv4` in an inet table.
        var ipv6 = false
    }

    enum Outcome: Equatable { case accept, drop }

    let table: Table

    /// The verdict of the base chain on `hook` (accept when the table has none).
    func verdict(_ hook: BaseChain.Hook, _ packet: Packet) -> Outcome {
        guard let chain = table.chains.first(where: { $0.base?.hook == hook }), let base = chain.base else { return .accept }
        switch run(chain, packet, depth: 0) {
        case .final(let outcome): return outcome
        case .returned: return base.policy == .accept ? .accept : .drop
        }
    }

    private enum Flow { case final(Outcome), returned }

    private func run(_ chain: Chain, _ packet: Packet, depth: Int) -> Flow {
        precondition(depth < 16, "jump loop")
        for rule in chain.rules where rule.matches.allSatisfy({ matches($0, packet) }) {
            var verdict = rule.verdict
            if case .vmap(let fields, let map) = verdict {
                // The map's verdict for the key; none: on to the next rule.
                guard let mapped = mapping(map, key(fields, packet)) else { continue }
                verdict = mapped
            }
            switch verdict {
            case .accept: return .final(.accept)
            case .drop: return .final(.drop)
            case .return: return .returned
            case .none, .vmap, .dnat, .redirect, .setMark, .snat: continue
            case .jump(let name):
                guard let target = table.chain(named: name) else { preconditionFailure("no chain \(name)") }
                if case .final(let outcome) = run(target, packet, depth: depth + 1) { return .final(outcome) }
            case .goto(let name):
                guard let target = table.chain(named: name) else { preconditionFailure("no chain \(name)") }
                return run(target, packet, depth: depth + 1)
            }
        }
        return .returned
    }

    private func matches(_ match: Match, _ packet: Packet) -> Bool {
        if packet.ipv6 {
            switch match {
            case .saddrInSet, .daddrInSet, .saddr, .daddr: return false
            case .concatInSet(let fields, _) where fields.contains(.saddr) || fields.contains(.daddr): return false
            default: break
            }
        }
        switch match {
        case .ctState(let states): return states.contains(.new)
        case .iifname(let name, let negated): return (packet.iif == name) != negated
        case .oifname(let name, let negated): return (packet.oif == name) != negated
        case .l4proto(let proto): return packet.proto == proto
        case .saddrInSet(let name, let negated): return contains(name, [.ipv4(packet.saddr)]) != negated
        case .daddrInSet(let name, let negated): return contains(name, [.ipv4(packet.daddr)]) != negated
        case .saddr(let prefix, let length): return inPrefix(packet.saddr, prefix, length)
        case .daddr(let prefix, let length): return inPrefix(packet.daddr, prefix, length)
        case .dport(let port): return packet.dport == port && hasPorts(packet)
        case .dportRange(let low, let high): return packet.dport >= low && packet.dport <= high && hasPorts(packet)
        case .concatInSet(let fields, let name):
            // `th dport` cannot load from a packet without a transport header: the rule breaks.
            if fields.contains(.dport) && !hasPorts(packet) { return false }
            return contains(name, key(fields, packet))
        case .sportHash:
            // Only the Service proxy's nat table picks endpoints; policy tables never hash.
            preconditionFailure("sportHash in a policy table")
        case .mark:
            // Only the mesh's redirection table looks at marks; policy tables never do.
            preconditionFailure("mark in a policy table")
        case .ipv6: return packet.ipv6
        }
    }

    private func key(_ fields: [ConcatField], _ packet: Packet) -> [KeyValue] {
        fields.map { field in
            switch field {
            case .saddr: .ipv4(packet.saddr)
            case .daddr: .ipv4(packet.daddr)
            case .l4proto: .proto(packet.proto)
            case .dport: .port(packet.dport)
            }
        }
    }

    /// A verdict map's verdict for `key`, if it holds the key.
    private func mapping(_ mapName: String, _ key: [KeyValue]) -> Verdict? {
        guard let set = table.set(named: mapName), set.data == .verdict else { preconditionFailure("no map \(mapName)") }
        for case .mapping(let mapped, let verdict) in set.elements where mapped == key { return verdict }
        return nil
    }

    /// Whether `th dport` loads: the kernel reads the two bytes at the transport header's offset 2
    /// for any protocol whose header is there (nft_payload on NFT_PAYLOAD_TRANSPORT_HEADER); for an
    /// ICMP echo they are its checksum, so only an every-port range matches it (seen in the lab:
    /// scenarios/icmp.yaml, an ipBlock rule without ports admits a ping).
    private func hasPorts(_ packet: Packet) -> Bool { [1, 6, 17, 132].contains(packet.proto) }

    private func inPrefix(_ address: UInt32, _ prefix: UInt32, _ length: UInt8) -> Bool {
        let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - UInt32(length))
        return address & mask == prefix & mask
    }

    private func contains(_ setName: String, _ key: [KeyValue]) -> Bool {
        guard let set = table.set(named: setName), set.data == nil else { preconditionFailure("no set \(setName)") }
        if set.interval && set.key.count > 1 {
            // Boxes must be disjoint (pipapo refuses overlaps): checked on every lookup.
            let boxes = set.elements.compactMap { element -> ([KeyValue], [KeyValue])? in
                if case .box(let from, let to) = element { return (from, to) }
                preconditionFailure("\(setName): a concatenated interval set holds only boxes")
            }
            precondition(Self.disjoint(boxes), "\(setName): overlapping boxes")
            return boxes.contains { from, to in
                key.count == from.count && zip(key, zip(from, to)).allSatisfy { value, corners in corners.0 <= value && value <= corners.1 }
            }
        }
        for element in set.elements {
            switch element {
            case .box, .mapping: preconditionFailure("\(setName): a box or mapping outside its kind of set")
            case .value(let values): if values == key { return true }
            case .range(let from, let to):
                if key.count == 1, case .ipv4(let address) = key[0], address >= min(from, to), address <= max(from, to) { return true }
            }
        }
        return false
    }

    /// Whether no two boxes share a point.
    static func disjoint(_ boxes: [([KeyValue], [KeyValue])]) -> Bool {
        for (i, a) in boxes.enumerated() {
            for b in boxes[(i + 1)...] where zip(zip(a.0, a.1), zip(b.0, b.1)).allSatisfy({ x, y in x.0 <= y.1 && y.0 <= x.1 }) {
                return false
            }
        }
        return true
    }
}
