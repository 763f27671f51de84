import CNetfilter
import Glibc
import KeycardRuleset

/// Where a rule is lowered: its table and the ids of sets added earlier in the same batch.
struct LoweringContext {
    var table: String
    var family: TableFamily
    /// Set name → NFTNL_SET_ID, for sets created in this batch (empty for element-only batches).
    var setIDs: [String: UInt32] = [:]
}

extension TableFamily {
    /// The NFPROTO_* value of the family.
    var nfproto: UInt32 {
        switch self {
        case .inet: UInt32(NFPROTO_INET)
        case .ip: UInt32(NFPROTO_IPV4)
        case .bridge: UInt32(NFPROTO_BRIDGE)
        case .netdev: UInt32(NFPROTO_NETDEV)
        }
    }
}

extension Rule {
    /// The rule as libnftnl expressions, in the order nft would emit them.
    func lowered(chain: String, _ context: LoweringContext) throws(KernelError) -> NftnlRule {
        let rule = try NftnlRule()
        rule.set(NFTNL_RULE_TABLE, string: context.table)
        rule.set(NFTNL_RULE_CHAIN, string: chain)
        rule.set(NFTNL_RULE_FAMILY, u32: context.family.nfproto)
        var needsNetworkCheck = true
        for match in matches {
            try match.lower(into: rule, context, needsNetworkCheck: &needsNetworkCheck)
        }
        if let log { rule.add(try NftExpr.log(group: log.group, prefix: nftSafeString(log.prefix))) }
        if counter { rule.add(try NftExpr.counter()) }
        if case .dnat(let address, let port) = verdict {
            // nft adds `meta nfproto ipv4` before an `ip` nat in an inet table.
            if needsNetworkCheck && context.family == .inet {
                rule.add(try NftExpr.meta(NFT_META_NFPROTO))
                rule.add(try NftExpr.cmp(NFT_CMP_EQ, [UInt8(NFPROTO_IPV4)]))
            }
            rule.add(try NftExpr.immediate(NetworkBytes.u32(address), into: NftExpr.register1))
            rule.add(try NftExpr.immediate(NetworkBytes.u16(port), into: NftExpr.register2))
            rule.add(try NftExpr.dnat())
        } else if case .snat(let address) = verdict {
            if needsNetworkCheck && context.family == .inet {
                rule.add(try NftExpr.meta(NFT_META_NFPROTO))
                rule.add(try NftExpr.cmp(NFT_CMP_EQ, [UInt8(NFPROTO_IPV4)]))
            }
            rule.add(try NftExpr.immediate(NetworkBytes.u32(address), into: NftExpr.register1))
            rule.add(try NftExpr.snat())
        } else if case .setMark(let mark) = verdict {
            rule.add(try NftExpr.immediate(hostBytes(mark), into: NftExpr.register1))
            rule.add(try NftExpr.setMeta(NFT_META_MARK))
        } else if case .redirect(let port) = verdict {
            rule.add(try NftExpr.immediate(NetworkBytes.u16(port), into: NftExpr.register1))
            rule.add(try NftExpr.redirect())
        } else if case .vmap(let fields, let map) = verdict {
            try Match.lowerConcat(fields, into: rule, context, needsNetworkCheck: &needsNetworkCheck)
            rule.add(try NftExpr.lookup(set: map, id: context.setIDs[map], negated: false, verdictMap: true))
        } else if let expr = try verdict.lowered() {
            rule.add(expr)
        }
        if !comment.isEmpty { try attachComment(to: rule, chain: chain) }
        return rule
    }

    /// The comment as NFTNL_RULE_USERDATA (TLV type NFTNL_UDATA_RULE_COMMENT), which `nft list` shows.
    private func attachComment(to rule: borrowing NftnlRule, chain: String) throws(KernelError) {
        let userData = try NftnlUserData()
        let comment = nftComment(comment)
        guard userData.put(UInt8(NFTNL_UDATA_RULE_COMMENT.rawValue), string: comment) else {
            throw KernelError("rule comment does not fit the rule's user data", subject: "\(chain): \(comment)", errno: EINVAL)
        }
        _ = userData.withBytes { rule.set(NFTNL_RULE_USERDATA, data: $0, length: $1) }
    }
}

extension Match {
    func lower(into rule: borrowing NftnlRule, _ context: LoweringContext, needsNetworkCheck: inout Bool) throws(KernelError) {
        /// `meta nfproto ipv4` (inet) or `meta protocol ip` (bridge, netdev): once per rule, as nft does.
        func networkCheck() throws(KernelError) {
            guard needsNetworkCheck else { return }
            needsNetworkCheck = false
            switch context.family {
            case .ip: return
            case .inet:
                rule.add(try NftExpr.meta(NFT_META_NFPROTO))
                rule.add(try NftExpr.cmp(NFT_CMP_EQ, [UInt8(NFPROTO_IPV4)]))
            case .bridge, .netdev:
                rule.add(try NftExpr.meta(NFT_META_PROTOCOL))
                rule.add(try NftExpr.cmp(NFT_CMP_EQ, NetworkBytes.u16(0x0800)))
            }
        }
        switch self {
        case .ctState(let states):
            let mask = states.reduce(UInt32(0)) { $0 | $1.bit }
            rule.add(try NftExpr.ctState())
            rule.add(try NftExpr.bitwise(mask: hostBytes(mask), xor: [0, 0, 0, 0]))
            rule.add(try NftExpr.cmp(NFT_CMP_NEQ, [0, 0, 0, 0]))
        case .iifname(let name, let negated), .oifname(let name, let negated):
            if case .iifname = self { rule.add(try NftExpr.meta(NFT_META_IIFNAME)) } else { rule.add(try NftExpr.meta(NFT_META_OIFNAME)) }
            rule.add(try NftExpr.cmp(negated ? NFT_CMP_NEQ : NFT_CMP_EQ, NetworkBytes.interfaceName(name)))
        case .l4proto(let number):
            rule.add(try NftExpr.meta(NFT_META_L4PROTO))
            rule.add(try NftExpr.cmp(NFT_CMP_EQ, [number]))
        case .saddrInSet(let set, let negated), .daddrInSet(let set, let negated):
            try networkCheck()
            let offset: UInt32 = if case .saddrInSet = self { 12 } else { 16 }
            rule.add(try NftExpr.payload(NFT_PAYLOAD_NETWORK_HEADER, offset: offset, length: 4))
            rule.add(try NftExpr.lookup(set: set, id: context.setIDs[set], negated: negated))
        case .saddr(let prefix, let length), .daddr(let prefix, let length):
            try networkCheck()
            let offset: UInt32 = if case .saddr = self { 12 } else { 16 }
            try lowerPrefix(prefix, length: length, offset: offset, into: rule)
        case .dport(let port):
            rule.add(try NftExpr.payload(NFT_PAYLOAD_TRANSPORT_HEADER, offset: 2, length: 2))
            rule.add(try NftExpr.cmp(NFT_CMP_EQ, NetworkBytes.u16(port)))
        case .dportRange(let low, let high):
            rule.add(try NftExpr.payload(NFT_PAYLOAD_TRANSPORT_HEADER, offset: 2, length: 2))
            if low == high {
                rule.add(try NftExpr.cmp(NFT_CMP_EQ, NetworkBytes.u16(low)))
            } else {
                rule.add(try NftExpr.range(NetworkBytes.u16(min(low, high)), NetworkBytes.u16(max(low, high))))
            }
        case .concatInSet(let fields, let set):
            try Self.lowerConcat(fields, into: rule, context, needsNetworkCheck: &needsNetworkCheck)
            rule.add(try NftExpr.lookup(set: set, id: context.setIDs[set], negated: false))
        case .sportHash(let modulus, let seed, let value):
            // `th sport` is bytes 0-1 of the transport header, hashed as loaded (network order).
            rule.add(try NftExpr.payload(NFT_PAYLOAD_TRANSPORT_HEADER, offset: 0, length: 2))
            rule.add(try NftExpr.jhash(length: 2, modulus: modulus, seed: seed))
            rule.add(try NftExpr.cmp(NFT_CMP_EQ, hostBytes(value)))
        case .mark(let mark, let negated):
            // The mark is a host-order 32-bit value (nft's mark type is host endian).
            rule.add(try NftExpr.meta(NFT_META_MARK))
            rule.add(try NftExpr.cmp(negated ? NFT_CMP_NEQ : NFT_CMP_EQ, hostBytes(mark)))
        case .ipv6:
            rule.add(try NftExpr.meta(NFT_META_NFPROTO))
            rule.add(try NftExpr.cmp(NFT_CMP_EQ, [UInt8(NFPROTO_IPV6)]))
        }
    }

    /// Loads each field into the next 32-bit register from NFT_REG_1, as nft does for a
    /// concatenation (`ip saddr . meta l4proto . th dport`); a lookup then reads the key from reg 1.
    static func lowerConcat(
        _ fields: [ConcatField], into rule: borrowing NftnlRule, _ context: LoweringContext, needsNetworkCheck: inout Bool
    ) throws(KernelError) {
        for (index, field) in fields.enumerated() {
            let register = NftExpr.concatRegister(index)
            switch field {
            case .saddr, .daddr:
                if needsNetworkCheck && context.family == .inet {
                    needsNetworkCheck = false
                    rule.add(try NftExpr.meta(NFT_META_NFPROTO))
                    rule.add(try NftExpr.cmp(NFT_CMP_EQ, [UInt8(NFPROTO_IPV4)]))
                } else if needsNetworkCheck && (context.family == .bridge || context.family == .netdev) {
                    needsNetworkCheck = false
                    rule.add(try NftExpr.meta(NFT_META_PROTOCOL))
                    rule.add(try NftExpr.cmp(NFT_CMP_EQ, NetworkBytes.u16(0x0800)))
                }
                let offset: UInt32 = field == .saddr ? 12 : 16
                rule.add(try NftExpr.payload(NFT_PAYLOAD_NETWORK_HEADER, offset: offset, length: 4, into: register))
            case .l4proto:
                rule.add(try NftExpr.meta(NFT_META_L4PROTO, into: register))
            case .dport:
                rule.add(try NftExpr.payload(NFT_PAYLOAD_TRANSPORT_HEADER, offset: 2, length: 2, into: register))
            }
        }
    }

    /// `ip saddr 10.0.0.0/16` loads the prefix's 2 bytes and compares; a prefix that is not
    /// byte-aligned (`/20`) loads all 4, masks them and compares, as nft does (else nft cannot print it).
    private func lowerPrefix(_ prefix: UInt32, length: UInt8, offset: UInt32, into rule: borrowing NftnlRule) throws(KernelError) {
        let length = Int(min(length, 32))
        guard length > 0 else { return }
        let mask: UInt32 = ~UInt32(0) << (32 - UInt32(length))
        let byteCount = length % 8 == 0 ? length / 8 : 4
        rule.add(try NftExpr.payload(NFT_PAYLOAD_NETWORK_HEADER, offset: offset, length: UInt32(byteCount)))
        if length % 8 != 0 {
            rule.add(try NftExpr.bitwise(mask: NetworkBytes.u32(mask), xor: [0, 0, 0, 0]))
        }
        rule.add(try NftExpr.cmp(NFT_CMP_EQ, Array(NetworkBytes.u32(prefix & mask).prefix(byteCount))))
    }
}

extension Verdict {
    /// `[ immediate reg 0 ... ]`, or nil for a statement-only rule.
    func lowered() throws(KernelError) -> NftnlExpr? {
        switch self {
        case .accept: try NftExpr.verdict(NF_ACCEPT)
        case .drop: try NftExpr.verdict(NF_DROP)
        case .return: try NftExpr.verdict(NFT_RETURN.rawValue)
        case .jump(let chain): try NftExpr.verdict(NFT_JUMP.rawValue, chain: chain)
        case .goto(let chain): try NftExpr.verdict(NFT_GOTO.rawValue, chain: chain)
        case .none, .vmap, .dnat, .redirect, .setMark, .snat: nil
        }
    }
}

/// Host-order bytes (ct state bits are compared in host order).
private func hostBytes(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }
