import KeycardRuleset

/// Tables of realistic shape for the benchmark.
enum BenchTables {
    static func ip(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32) -> UInt32 { a << 24 | b << 16 | c << 8 | d }

    /// `count` rules of a pod-like input chain: source /32, tcp, port, counter, comment.
    static func rules(_ count: Int) -> Table {
        let base = ip(10, 244, 0, 0)
        var rules: [Rule] = [Rule([.ctState([.established, .related])], verdict: .accept, comment: "kc/established")]
        for index in 0..<count - 1 {
            let matches: [Match] = [
                .saddr(prefix: base + UInt32(index % 65536), length: 32), .l4proto(6), .dport(UInt16(1000 + index % 60000)),
            ]
            rules.append(Rule(matches, counter: true, verdict: .accept, comment: "ns\(index % 50)/policy-\(index)#ingress[0]"))
        }
        return Table(name: "kc-bench.rules", chains: [Chain(name: "input", base: BaseChain(hook: .input, policy: .drop), rules: rules)])
    }

    /// One set of `count` addresses and one rule using it.
    static func elements(_ count: Int) -> Table {
        let base = ip(10, 100, 0, 0)
        let elements = (0..<count).map { (index: Int) -> SetElement in .value([.ipv4(base + UInt32(index))]) }
        return Table(
            name: "kc-bench.elements",
            sets: [NamedSet(name: "peers", key: [.ipv4Address], elements: elements)],
            chains: [
                Chain(
                    name: "input", base: BaseChain(hook: .input, policy: .accept),
                    rules: [Rule([.saddrInSet("peers")], verdict: .accept, comment: "kc/peers")])
            ])
    }

    /// `count` policies, each an interval set of peers and one rule: what the compiler emits for a node.
    static func policies(_ count: Int, extraPeer: UInt32? = nil) -> Table {
        var sets: [NamedSet] = []
        var rules: [Rule] = [Rule([.ctState([.established, .related])], verdict: .accept, comment: "kc/established")]
        for index in 0..<count {
            let base = ip(10, 244, 0, 0) + UInt32(index) << 8
            var elements: [SetElement] = [.prefix(base, length: 28), .range(from: base + 32, to: base + 40), .value([.ipv4(base + 99)])]
            if index == 0, let extraPeer { elements.append(.value([.ipv4(extraPeer)])) }
            let name = "p\(index)-peers"
            sets.append(NamedSet(name: name, key: [.ipv4Address], interval: true, elements: elements))
            rules.append(
                Rule(
                    [.saddrInSet(name), .l4proto(6), .dport(UInt16(8000 + index % 1000))], counter: true, verdict: .accept,
                    comment: "ns\(index % 20)/policy-\(index)#ingress[0]"))
        }
        rules.append(Rule(log: LogStatement(group: 7, prefix: "kc-drop "), verdict: .drop, comment: "kc/default-deny"))
        return Table(
            name: "kc-bench.policies", sets: sets,
            chains: [Chain(name: "input", base: BaseChain(hook: .input, policy: .drop), rules: rules)])
    }
}
