import KeycardModel
import KeycardRuleset

/// The fixed program that judges one protected pod in one direction once it is isolated: three
/// lookups into sets of allow tuples, then a logged drop.
///
/// ```
/// ip saddr . meta l4proto . th dport @P-exact counter accept    # hash: pod peer . proto . port
/// ip saddr @P-any counter accept                                 # hash: pod peers on every port
/// ip saddr . meta l4proto . th dport @P-ranges counter accept   # pipapo: disjoint boxes
/// counter log prefix "kc deny ingress ns/pod" group 7 drop
/// ```
/// (egress looks up `ip daddr`). The rules never change: policies and labels only move elements.
/// Each element carries its first contributing `ns/policy#ingress[i]` as a comment.
/// `th dport` needs a transport header, so a packet without one falls to the drop (fail-closed).
struct PolicyProgram {
    /// Prefix of the three set names (`in-` in a pod's table, `in-ns/pod-` in a node's).
    let prefix: String
    let direction: NetworkPolicy.PolicyType
    /// The protected pod (for the drop's log prefix and comments).
    let pod: ObjectKey
    /// Audit mode: the last rule logs (`kc audit ...`, `PolicyCompiler.auditLogGroup`) and allows.
    var audit = false

    var exactSet: String { prefix + "exact" }
    var anySet: String { prefix + "any" }
    var rangesSet: String { prefix + "ranges" }

    /// The three sets, holding `tuples`; while the pod is not isolated (`tuples` nil) the ranges
    /// set holds the whole space, `0.0.0.0/0 . 0-255 . 0-65535`, so that the sets say what the
    /// direction allows either way (the meet of two versions intersects them, `Table.meet`).
    /// `polarity` says what a match does (`Table.meet` needs it): `.allows` for allowing rules (a
    /// union: any of the three sets allows), `.restricts` for a Deny rule's peers, `.neither` for
    /// an Admin Pass rule's (each set on its own).
    func sets(_ tuples: AllowTuples?, polarity: NamedSet.Polarity = .allows) -> [NamedSet] {
        let everything = TupleBox(addresses: 0...UInt32.max, protocols: TupleBox.anyProtocol, ports: TupleBox.anyPort)
        let tuple: [KeyField] = [.ipv4Address, .inetProto, .inetService]
        let pieces = tuples?.rangePieces
        let comments = tuples.map { $0.comments(rangePieces: pieces ?? []) }
        let union = polarity == .allows ? prefix : nil
        var sets = [
            NamedSet(name: exactSet, key: tuple, elements: tuples?.exactElements ?? [], polarity: polarity, union: union),
            NamedSet(name: anySet, key: [.ipv4Address], elements: tuples?.anyElements ?? [], polarity: polarity, union: union),
            NamedSet(
                name: rangesSet, key: tuple, interval: true, elements: pieces?.map(\.element) ?? [everything.element],
                polarity: polarity, union: union),
        ]
        if let comments {
            for index in sets.indices {
                let own = sets[index].elements.reduce(into: [SetElement: String]()) { $0[$1] = comments[$1] }
                if !own.isEmpty { sets[index].comments = own }
            }
        }
        return sets
    }

    /// The lookups (each ending in `allow`) and the logged drop.
    func rules(allow: KeycardRuleset.Verdict) -> [Rule] {
        let peer: ConcatField = direction == .ingress ? .saddr : .daddr
        let tuple = [peer, .l4proto, .dport]
        let any: Match = direction == .ingress ? .saddrInSet(anySet) : .daddrInSet(anySet)
        let name = direction.rawValue.lowercased()
        return [
            Rule([.concatInSet(tuple, set: exactSet)], counter: true, verdict: allow, comment: "\(name) allowed: peer, protocol, port"),
            Rule([any], counter: true, verdict: allow, comment: "\(name) allowed: peer on every port"),
            Rule(
                [.concatInSet(tuple, set: rangesSet)], counter: true, verdict: allow,
                comment: "\(name) allowed: address, protocol, port ranges"),
            audit
                ? Rule(log: auditLog, counter: true, verdict: allow, comment: RuleText.clip("audit: would deny \(name) of isolated \(pod)"))
                : Rule(log: dropLog, counter: true, verdict: .drop, comment: RuleText.clip("default deny \(name) of isolated \(pod)")),
        ]
    }

    /// `log prefix "kc deny ingress ns/pod" group 7`: which direction dropped it and which pod's
    /// isolation, clipped to `PolicyCompiler.dropLogPrefixLimit` bytes.
    var dropLog: LogStatement { log("kc deny", group: PolicyCompiler.dropLogGroup) }

    /// `log prefix "kc audit ingress ns/pod" group 8`: audit mode's would-be drop.
    var auditLog: LogStatement { log("kc audit", group: PolicyCompiler.auditLogGroup) }

    private func log(_ what: String, group: UInt16) -> LogStatement {
        let text = "\(what) \(direction.rawValue.lowercased()) \(pod)"
        let limit = PolicyCompiler.dropLogPrefixLimit
        let prefix = text.utf8.count <= limit ? text : String(decoding: text.utf8.prefix(limit - 3), as: UTF8.self) + "..."
        return LogStatement(group: group, prefix: prefix)
    }
}

/// Short texts for the kernel's limits.
enum RuleText {
    /// Rule comments are kept short: the kernel caps user data.
    static func clip(_ text: String) -> String { text.utf8.count <= 120 ? text : String(text.prefix(117)) + "..." }

    /// A set or chain name from `name`, within the kernel's 256-byte limit (long ones shortened
    /// and made unique by a hash).
    static func objectName(_ name: String) -> String {
        if name.utf8.count <= 200 { return name }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return "\(String(name.prefix(180)))-\(String(hash, radix: 16))"
    }
}
