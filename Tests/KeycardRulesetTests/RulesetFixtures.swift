import KeycardRuleset

/// Small tables for the pure tests, built from helpers.
enum Fixtures {
    static func ip(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32) -> UInt32 { a << 24 | b << 16 | c << 8 | d }

    static let pod = Table(
        name: "kc-lab.pod.x.a", family: .inet,
        sets: [
            NamedSet(
                name: "allow-a", key: [.ipv4Address], interval: true,
                elements: [
                    .range(from: ip(10, 1, 0, 1), to: ip(10, 1, 0, 5)), .prefix(ip(10, 0, 0, 0), length: 24),
                    .value([.ipv4(ip(10, 2, 0, 7))]), .prefix(ip(10, 0, 0, 128), length: 25),
                ]),
            NamedSet(
                name: "np", key: [.ipv4Address, .inetProto, .inetService],
                elements: [
                    .value([.ipv4(ip(10, 0, 0, 1)), .proto(6), .port(80)]), .value([.ipv4(ip(10, 0, 0, 2)), .proto(17), .port(53)]),
                ]),
            NamedSet(name: "none-yet", key: [.ipv4Address]),
        ],
        chains: [
            Chain(
                name: "input", base: BaseChain(hook: .input, priority: 0, policy: .drop),
                rules: [
                    Rule([.ctState([.established, .related])], verdict: .accept, comment: "kc/established"),
                    Rule([.iifname("lo")], verdict: .accept),
                    Rule(
                        [.saddrInSet("allow-a"), .l4proto(6), .dport(80)], counter: true, verdict: .accept, comment: "x/allow-a#ingress[0]"),
                    Rule([.saddrInSet("allow-a", negated: true), .l4proto(17), .dportRange(1000, 2000)], verdict: .jump("extra")),
                    Rule([.concatInSet([.daddr, .l4proto, .dport], set: "np")], verdict: .accept, comment: "x/np#ingress[0]"),
                    Rule(log: LogStatement(group: 5, prefix: "kc-drop "), verdict: .drop, comment: "kc/default-deny"),
                ]),
            Chain(
                name: "extra",
                rules: [
                    Rule([.oifname("eth0", negated: true)], verdict: .return),
                    Rule(
                        [.saddr(prefix: ip(10, 3, 0, 0), length: 16), .daddr(prefix: ip(10, 96, 16, 9), length: 20)],
                        verdict: .goto("input-tail")),
                ]),
            Chain(name: "input-tail", rules: [Rule([.l4proto(132)], counter: true, verdict: .none, comment: "say \"hi\"")]),
        ])

    static let natNode = Table(
        name: "kc-lab.node0", family: .ip,
        chains: [
            Chain(
                name: "pre", base: BaseChain(type: .nat, hook: .prerouting, priority: -100, policy: .accept),
                rules: [Rule([.l4proto(6), .dport(80)], verdict: .accept, comment: "kc/pass")])
        ])
}
