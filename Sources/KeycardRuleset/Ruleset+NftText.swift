import KeycardValues

/// Rendering to `nft -f` text: deterministic, one statement per line, tabs as nft prints them.
extension Ruleset {
    /// The text `nft -f` loads to create every table of the ruleset.
    public func nftText() -> String { tables.map { $0.nftText() }.joined(separator: "\n") }
}

extension Table {
    /// `table FAMILY NAME { sets... chains... }` as `nft -f` loads it.
    public func nftText() -> String {
        var lines = ["table \(family.rawValue) \(name) {"]
        var blocks: [[String]] = sets.map { $0.nftLines() }
        blocks += chains.map { $0.nftLines() }
        for (index, block) in blocks.enumerated() {
            if index > 0 { lines.append("") }
            lines += block.map { "\t" + $0 }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}

extension NamedSet {
    func nftLines() -> [String] {
        let type = key.map(\.nftType).joined(separator: " . ") + (data == .verdict ? " : verdict" : "")
        var lines = ["\(data == nil ? "set" : "map") \(name) {", "\ttype " + type]
        if interval { lines.append("\tflags interval") }
        let elements = normalizedElements
        if !elements.isEmpty {
            let texts = elements.map { element in
                comments?[element].map { "\(element.nftText) comment \"\(nftComment($0))\"" } ?? element.nftText
            }
            lines.append("\telements = { " + texts.joined(separator: ", ") + " }")
        }
        lines.append("}")
        return lines
    }
}

extension KeyField {
    /// The nft type name (`ipv4_addr`, `inet_proto`, `inet_service`).
    public var nftType: String {
        switch self {
        case .ipv4Address: "ipv4_addr"
        case .inetProto: "inet_proto"
        case .inetService: "inet_service"
        }
    }
}

extension SetElement {
    /// The element as nft writes it (`10.0.0.0/24`, `10.0.0.1 . tcp . 80`).
    public var nftText: String {
        switch self {
        case .range(let from, let to): IPv4Range(IPv4(from), IPv4(to)).description
        case .value(let values): values.map(\.nftText).joined(separator: " . ")
        case .box(let from, let to):
            zip(from, to).map { low, high in
                if low == high { return low.nftText }
                if case .ipv4(let first) = low, case .ipv4(let last) = high { return IPv4Range(IPv4(first), IPv4(last)).description }
                return "\(low.nftText)-\(high.nftText)"
            }.joined(separator: " . ")
        case .mapping(let key, let verdict): key.map(\.nftText).joined(separator: " . ") + " : " + (verdict.nftText ?? "continue")
        }
    }
}

extension KeyValue {
    var nftText: String {
        switch self {
        case .ipv4(let address): IPv4(address).description
        case .proto(let number): protocolName(number)
        case .port(let port): String(port)
        }
    }
}

/// `tcp`, `udp`, `sctp`, or the number for any other protocol.
func protocolName(_ number: UInt8) -> String {
    switch number {
    case 6: "tcp"
    case 17: "udp"
    case 132: "sctp"
    default: String(number)
    }
}

extension Chain {
    func nftLines() -> [String] {
        var lines = ["chain \(name) {"]
        if let base {
            lines.append(
                "\ttype \(base.type.rawValue) hook \(base.hook.rawValue) priority \(base.priority); "
                    + "policy \(base.policy.rawValue);")
        }
        lines += rules.map { "\t" + $0.nftText }
        lines.append("}")
        return lines
    }
}

extension Rule {
    /// The rule as one nft line (`ip saddr @a meta l4proto tcp th dport 80 counter accept comment "..."`).
    public var nftText: String {
        var words = matches.map(\.nftText)
        if let log { words.append("log prefix \(quoted(log.prefix)) group \(log.group)") }
        if counter { words.append("counter") }
        if let verdict = verdict.nftText { words.append(verdict) }
        if case .vmap(let fields, let map) = verdict {
            words.append(fields.map(\.nftText).joined(separator: " . ") + " vmap @\(map)")
        }
        if !comment.isEmpty { words.append("comment \"\(nftComment(comment))\"") }
        return words.joined(separator: " ")
    }
}

extension Match {
    /// The match as nft writes it.
    public var nftText: String {
        switch self {
        case .ctState(let states): "ct state " + states.map(\.rawValue).joined(separator: ",")
        case .iifname(let name, let negated): "iifname \(negated ? "!= " : "")\(quoted(name))"
        case .oifname(let name, let negated): "oifname \(negated ? "!= " : "")\(quoted(name))"
        case .l4proto(let number): "meta l4proto \(protocolName(number))"
        case .saddrInSet(let set, let negated): "ip saddr \(negated ? "!= " : "")@\(set)"
        case .daddrInSet(let set, let negated): "ip daddr \(negated ? "!= " : "")@\(set)"
        case .saddr(let prefix, let length): "ip saddr \(prefixText(prefix, length))"
        case .daddr(let prefix, let length): "ip daddr \(prefixText(prefix, length))"
        case .dport(let port): "th dport \(port)"
        case .dportRange(let low, let high): low == high ? "th dport \(low)" : "th dport \(low)-\(high)"
        case .concatInSet(let fields, let set): fields.map(\.nftText).joined(separator: " . ") + " @\(set)"
        case .sportHash(let modulus, let seed, let value): "jhash th sport mod \(modulus) seed 0x\(String(seed, radix: 16)) == \(value)"
        case .mark(let mark, let negated): "meta mark \(negated ? "!= " : "")\(markText(mark))"
        case .ipv6: "meta nfproto ipv6"
        }
    }
}

extension ConcatField {
    var nftText: String {
        switch self {
        case .saddr: "ip saddr"
        case .daddr: "ip daddr"
        case .l4proto: "meta l4proto"
        case .dport: "th dport"
        }
    }
}

extension Verdict {
    /// The verdict keyword, or nil for a statement-only rule.
    public var nftText: String? {
        switch self {
        case .accept: "accept"
        case .drop: "drop"
        case .return: "return"
        case .jump(let chain): "jump \(chain)"
        case .goto(let chain): "goto \(chain)"
        case .dnat(let address, let port): "dnat ip to \(IPv4(address)):\(port)"
        case .redirect(let port): "redirect to :\(port)"
        case .setMark(let mark): "meta mark set \(markText(mark))"
        case .snat(let address): "snat ip to \(IPv4(address))"
        case .none, .vmap: nil
        }
    }
}

private func prefixText(_ prefix: UInt32, _ length: UInt8) -> String {
    let length = min(length, 32)
    let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - UInt32(length))
    let address = IPv4(prefix & mask).description
    return length == 32 ? address : "\(address)/\(length)"
}

/// A mark as nft lists it: eight hex digits (`0x00006b63`).
private func markText(_ mark: UInt32) -> String {
    let digits = String(mark, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}

private func quoted(_ text: String) -> String { "\"\(nftSafeString(text))\"" }

/// A comment as nft holds it: `nftSafeString`, clipped (on a character boundary, with "...") below
/// nft's 128-byte limit (NFTNL_UDATA_COMMENT_MAXLEN; `nft -f` refuses a longer one). The text and
/// the kernel lowering both use it, so `keycard rules` loads and shows what the lab holds.
public func nftComment(_ text: String) -> String {
    let safe = nftSafeString(text)
    guard safe.utf8.count >= nftCommentLimit else { return safe }
    var clipped = ""
    for character in safe {
        if clipped.utf8.count + character.utf8.count > nftCommentLimit - 4 { break }
        clipped.append(character)
    }
    return clipped + "..."
}

/// nft's comment limit in bytes (NFTNL_UDATA_COMMENT_MAXLEN).
public let nftCommentLimit = 128

/// nft strings cannot contain a double quote or a line break; they become `'` and a space. The
/// kernel lowering applies the same, so `nft list` and the text agree.
public func nftSafeString(_ text: String) -> String {
    guard text.contains(where: { $0 == "\"" || $0.isNewline }) else { return text }
    return String(text.map { $0 == "\"" ? "'" : $0.isNewline ? " " : $0 })
}
