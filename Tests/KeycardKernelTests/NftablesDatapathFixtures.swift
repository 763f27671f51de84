import KeycardRuleset

extension NftFixtures {
    /// The element-only datapath in small: a concatenated interval (pipapo) set of boxes
    /// `ipv4_addr . inet_proto . inet_service` looked up by a concatenation, an exact hash set with
    /// a commented element, and a verdict map keyed by the pod address dispatching to a pod chain.
    static func datapath(name: String = "kc-test.dp") -> Table {
        let tuple: [KeyField] = [.ipv4Address, .inetProto, .inetService]
        let box = box(ip(10, 0, 0, 0), ip(10, 255, 255, 255), 6, 80, 90)
        return Table(
            name: name, family: .inet,
            sets: [
                NamedSet(name: "in-p-ranges", key: tuple, interval: true, elements: [box], union: "in-p-"),
                {
                    var exact = NamedSet(
                        name: "in-p-exact", key: tuple, elements: [.value([.ipv4(ip(10, 244, 0, 5)), .proto(6), .port(8080)])],
                        union: "in-p-")
                    exact.comments = [exact.elements[0]: "x/allow#ingress[0]"]
                    return exact
                }(),
                NamedSet(
                    name: "in-pods", key: [.ipv4Address], elements: [.mapping([.ipv4(ip(10, 244, 0, 2))], .goto("in-p"))],
                    polarity: .restricts, data: .verdict),
            ],
            chains: [
                Chain(
                    name: "forward", base: BaseChain(hook: .forward),
                    rules: [established, Rule(verdict: .vmap([.daddr], map: "in-pods"), comment: "ingress of isolated pods")]),
                Chain(
                    name: "in-p",
                    rules: [
                        Rule(
                            [.concatInSet([.saddr, .l4proto, .dport], set: "in-p-exact")], counter: true, verdict: .accept, comment: "exact"
                        ),
                        Rule(
                            [.concatInSet([.saddr, .l4proto, .dport], set: "in-p-ranges")], counter: true, verdict: .accept,
                            comment: "ranges"),
                        Rule(log: LogStatement(group: 7, prefix: "kc deny ingress x/p"), counter: true, verdict: .drop, comment: "deny"),
                    ]),
            ])
    }

    /// A box `from-to . proto . low-high` (host-order addresses).
    static func box(_ from: UInt32, _ to: UInt32, _ proto: UInt8, _ low: UInt16, _ high: UInt16) -> SetElement {
        .box(from: [.ipv4(from), .proto(proto), .port(low)], to: [.ipv4(to), .proto(proto), .port(high)])
    }

    /// Element changes of every new encoding: a box deleted by its key and another added with
    /// `KEY_END` and a comment; a map element deleted and one added with a jump verdict.
    static let datapathChanges = [
        SetElementChange(
            set: "in-p-ranges", delete: [box(ip(10, 0, 0, 0), ip(10, 255, 255, 255), 6, 80, 90)],
            add: [box(ip(10, 1, 0, 0), ip(10, 1, 255, 255), 17, 53, 53)]),
        SetElementChange(
            set: "in-pods", delete: [.mapping([.ipv4(ip(10, 244, 0, 2))], .goto("in-p"))],
            add: [.mapping([.ipv4(ip(10, 244, 0, 3))], .jump("in-p"))]),
    ]
}
