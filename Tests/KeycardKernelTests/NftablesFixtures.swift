import KeycardRuleset

/// Small rulesets for the kernel tests, built from helpers rather than fixture files.
enum NftFixtures {
    static func ip(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32) -> UInt32 { a << 24 | b << 16 | c << 8 | d }

    static let established = Rule([.ctState([.established, .related])], verdict: .accept, comment: "kc/established")
    static let loopback = Rule([.iifname("lo")], verdict: .accept, comment: "kc/loopback")

    /// A pod's input and output chains: ct state, lo, an interval saddr set, port ranges,
    /// a concatenated named-port set, jump/return, and drop with log.
    static func podLike(name: String = "kc-test.pod") -> Table {
        Table(
            name: name, family: .inet,
            sets: [
                NamedSet(
                    name: "allow-a", key: [.ipv4Address], interval: true,
                    elements: [
                        .prefix(ip(10, 244, 1, 0), length: 24), .range(from: ip(10, 244, 2, 7), to: ip(10, 244, 2, 9)),
                        .value([.ipv4(ip(10, 244, 3, 1))]),
                    ]),
                NamedSet(
                    name: "np", key: [.ipv4Address, .inetProto, .inetService],
                    elements: [
                        .value([.ipv4(ip(10, 244, 1, 5)), .proto(6), .port(8080)]),
                        .value([.ipv4(ip(10, 244, 1, 6)), .proto(17), .port(53)]),
                    ]),
                NamedSet(name: "dst-svc", key: [.ipv4Address], elements: [.value([.ipv4(ip(10, 96, 0, 10))])]),
            ],
            chains: [
                Chain(
                    name: "input", base: BaseChain(hook: .input, priority: 0, policy: .drop),
                    rules: [
                        established,
                        Rule([.ctState([.invalid])], verdict: .drop, comment: "kc/invalid"),
                        loopback,
                        Rule(
                            [.saddrInSet("allow-a"), .l4proto(6), .dport(80)], counter: true, verdict: .accept,
                            comment: "x/allow-a#ingress[0]"),
                        Rule(
                            [.saddrInSet("allow-a", negated: true), .l4proto(17), .dportRange(1000, 2000)],
                            verdict: .jump("ingress-extra"), comment: "x/allow-a#ingress[1]"),
                        Rule(
                            [.concatInSet([.daddr, .l4proto, .dport], set: "np")], verdict: .accept,
                            comment: "x/named-ports#ingress[0]"),
                        Rule(log: LogStatement(group: 7, prefix: "kc-drop x/pod "), verdict: .drop, comment: "kc/default-deny"),
                    ]),
                Chain(
                    name: "output", base: BaseChain(hook: .output, priority: 0, policy: .accept),
                    rules: [
                        established,
                        Rule([.oifname("lo")], verdict: .accept, comment: "kc/loopback-out"),
                        Rule([.daddrInSet("dst-svc"), .l4proto(6), .dportRange(1, 1024)], verdict: .accept, comment: "x/egress#egress[0]"),
                        Rule([.daddrInSet("dst-svc", negated: true)], counter: true, verdict: .none, comment: "kc/count-other"),
                    ]),
                Chain(
                    name: "ingress-extra",
                    rules: [
                        Rule([.oifname("eth0", negated: true)], verdict: .return, comment: "kc/not-eth0"),
                        Rule([.l4proto(17), .dport(1500)], verdict: .accept, comment: "x/allow-a#ingress[1]"),
                    ]),
            ])
    }

    /// `ip` family, prefixes (byte-aligned and not), goto, a nat chain, an empty set and chain.
    static func ipFamily(name: String = "kc-test.node") -> Table {
        Table(
            name: name, family: .ip,
            sets: [NamedSet(name: "empty", key: [.ipv4Address], interval: true)],
            chains: [
                Chain(
                    name: "forward", base: BaseChain(hook: .forward, priority: -5, policy: .accept),
                    rules: [
                        Rule(
                            [.saddr(prefix: ip(10, 244, 0, 0), length: 16), .daddr(prefix: ip(10, 96, 16, 0), length: 20)],
                            verdict: .goto("pods"), comment: "kc/pod-cidr"),
                        Rule([.daddr(prefix: ip(10, 0, 0, 1), length: 32)], verdict: .drop, comment: "kc/host"),
                        Rule([.saddrInSet("empty")], verdict: .drop, comment: "kc/empty"),
                    ]),
                Chain(name: "pods", rules: [Rule([.l4proto(132), .dport(9)], verdict: .accept, comment: "kc/sctp")]),
                Chain(name: "unused"),
                Chain(
                    name: "pre", base: BaseChain(type: .nat, hook: .prerouting, priority: -100, policy: .accept),
                    rules: [Rule([.l4proto(6), .dport(80)], verdict: .accept, comment: "kc/nat-pass")]),
            ])
    }

    /// `count` rules in one base chain (for size tests and the benchmark).
    static func manyRules(_ count: Int, name: String = "kc-test.many") -> Table {
        let rules = (0..<count).map { (index: Int) -> Rule in
            let source: UInt32 = ip(10, 244, 0, 0) + UInt32(index % 65536)
            let port = UInt16(1000 + index % 60000)
            let matches: [Match] = [.saddr(prefix: source, length: 32), .l4proto(6), .dport(port)]
            return Rule(matches, counter: true, verdict: .accept, comment: "ns\(index % 50)/policy-\(index)#ingress[0]")
        }
        return Table(name: name, chains: [Chain(name: "input", base: BaseChain(hook: .input, policy: .accept), rules: rules)])
    }

    /// A table with a plain set of `count` addresses and an interval set of `count` /32..ranges.
    static func manyElements(_ count: Int, name: String = "kc-test.elems") -> Table {
        let plainBase: UInt32 = ip(10, 100, 0, 0)
        let rangeBase: UInt32 = ip(10, 200, 0, 0)
        let plain = (0..<count).map { (index: Int) -> SetElement in .value([.ipv4(plainBase + UInt32(index))]) }
        // Ranges of 2 addresses with a gap of 2, so nothing merges.
        let ranges = (0..<count).map { (index: Int) -> SetElement in
            let from = rangeBase + UInt32(index * 4)
            return .range(from: from, to: from + 1)
        }
        return Table(
            name: name,
            sets: [
                NamedSet(name: "plain", key: [.ipv4Address], elements: plain),
                NamedSet(name: "ranges", key: [.ipv4Address], interval: true, elements: ranges),
            ],
            chains: [
                Chain(
                    name: "input", base: BaseChain(hook: .input, policy: .accept),
                    rules: [
                        Rule([.saddrInSet("plain")], verdict: .accept, comment: "kc/plain"),
                        Rule([.saddrInSet("ranges")], verdict: .accept, comment: "kc/ranges"),
                    ])
            ])
    }
}
