/// One rule: matches, an optional log statement, an optional counter, a verdict, and a comment
/// that says where it came from (`"x/allow-a#ingress[0]"`), shown by `nft list`.
public struct Rule: Hashable, Sendable, Codable {
    public var matches: [Match]
    public var log: LogStatement?
    public var counter: Bool
    public var verdict: Verdict
    public var comment: String

    public init(
        _ matches: [Match] = [], log: LogStatement? = nil, counter: Bool = false,
        verdict: Verdict, comment: String = ""
    ) {
        self.matches = matches
        self.log = log
        self.counter = counter
        self.verdict = verdict
        self.comment = comment
    }
}

/// `log prefix "..." group N`: the packet is sent to an NFLOG group (evidence of drops).
public struct LogStatement: Hashable, Sendable, Codable {
    public var group: UInt16
    public var prefix: String

    public init(group: UInt16, prefix: String) {
        self.group = group
        self.prefix = prefix
    }
}

/// A conntrack state (`ct state established,related`).
public enum CtState: String, Hashable, Sendable, Codable, CaseIterable {
    case invalid, established, related, new

    /// The kernel's NF_CT_STATE bit for this state.
    public var bit: UInt32 {
        switch self {
        case .invalid: 1
        case .established: 2
        case .related: 4
        case .new: 8
        }
    }
}

/// A field of a concatenated lookup (`ip daddr . meta l4proto . th dport @np`).
public enum ConcatField: String, Hashable, Sendable, Codable {
    case saddr, daddr, l4proto, dport

    /// The set key field this expression produces.
    public var keyField: KeyField {
        switch self {
        case .saddr, .daddr: .ipv4Address
        case .l4proto: .inetProto
        case .dport: .inetService
        }
    }
}

/// One match of a rule; all matches of a rule must hold.
public enum Match: Hashable, Sendable, Codable {
    /// `ct state a,b`: any of the states.
    case ctState([CtState])
    /// `iifname "lo"` (or `!=`).
    case iifname(String, negated: Bool = false)
    /// `oifname "eth0"` (or `!=`).
    case oifname(String, negated: Bool = false)
    /// `meta l4proto tcp`: 6 tcp, 17 udp, 132 sctp.
    case l4proto(UInt8)
    /// `ip saddr @set` (or `!= @set`).
    case saddrInSet(String, negated: Bool = false)
    /// `ip daddr @set` (or `!= @set`).
    case daddrInSet(String, negated: Bool = false)
    /// `ip saddr 10.0.0.0/16`; host-order prefix.
    case saddr(prefix: UInt32, length: UInt8)
    /// `ip daddr 10.0.0.0/16`; host-order prefix.
    case daddr(prefix: UInt32, length: UInt8)
    /// `th dport 80`: transport header offset 2; put an `l4proto` match before it.
    case dport(UInt16)
    /// `th dport 1000-2000`, inclusive.
    case dportRange(UInt16, UInt16)
    /// `ip daddr . meta l4proto . th dport @set`.
    case concatInSet([ConcatField], set: String)
    /// `jhash th sport mod MODULUS seed SEED == VALUE`: the kernel's Jenkins hash of the 2-byte
    /// source port (`ServiceHash`), scaled to 0..<modulus, equals `value`. Picks a Service endpoint.
    case sportHash(modulus: UInt32, seed: UInt32, value: UInt32)
    /// `meta mark 0x00006b63` (or `!=`): the packet's mark (host order), which a socket sets with
    /// SO_MARK; the mesh's redirection lets the proxy's marked sockets pass (`MeshDataPath.bypassMark`).
    case mark(UInt32, negated: Bool = false)
    /// `meta nfproto ipv6`: an IPv6 packet (in an inet table, which sees both families).
    case ipv6
}

/// What a rule does with a packet that matched.
public enum Verdict: Hashable, Sendable, Codable {
    case accept, drop, `return`
    case jump(String), goto(String)
    /// `ip saddr vmap @map`: the verdict the map holds for the key, or, when it holds none,
    /// evaluation goes on with the next rule.
    case vmap([ConcatField], map: String)
    /// No verdict: a statement-only rule (log, counter) that lets evaluation continue.
    case none
    /// `dnat ip to ADDRESS:PORT` (nat chains only): rewrites the destination of the connection's
    /// first packet; conntrack translates the rest and un-translates the replies. Terminal, as in nft.
    /// Host-order address.
    case dnat(address: UInt32, port: UInt16)
    /// `redirect to :PORT` (nat chains only; put a `meta l4proto tcp` match before it): rewrites
    /// the destination of the connection's first packet to the namespace's own address on `port`
    /// (the incoming interface's primary address in prerouting, 127.0.0.1 in output), so a local
    /// listener accepts it and reads the original destination with SO_ORIGINAL_DST. Terminal, as in nft.
    case redirect(port: UInt16)
    /// `meta mark set MARK` (host order): a statement, not a verdict; evaluation continues. The
    /// node-port proxy marks a connection it must source-NAT (`NodePortCompiler`).
    case setMark(UInt32)
    /// `snat ip to ADDRESS` (nat postrouting chains only): rewrites the source of the connection's
    /// first packet; conntrack translates the rest and un-translates the replies. Terminal, as in
    /// nft. Host-order address.
    case snat(address: UInt32)
}
