import KeycardRuleset
import Testing

struct RulesetDiffTests {
    static func edited(_ edit: (inout Table) -> Void) -> Table {
        var table = Fixtures.pod
        edit(&table)
        return table
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let label: String
        let new: Table
        let expected: RulesetDiff
        var testDescription: String { label }
    }

    static let ip = Fixtures.ip

    static let cases: [Case] = [
        Case(label: "same", new: Fixtures.pod, expected: .unchanged),
        Case(
            label: "same elements in another order", new: edited { $0.sets[0].elements.reverse() }, expected: .unchanged),
        Case(
            label: "element added to interval set",
            new: edited { $0.sets[0].elements.append(.value([.ipv4(ip(10, 9, 9, 9))])) },
            expected: .elementsOnly([
                SetElementChange(set: "allow-a", delete: [], add: [.range(from: ip(10, 9, 9, 9), to: ip(10, 9, 9, 9))])
            ])),
        Case(
            label: "adjacent element merges with a range",
            new: edited { $0.sets[0].elements.append(.value([.ipv4(ip(10, 1, 0, 6))])) },
            expected: .elementsOnly([
                SetElementChange(
                    set: "allow-a", delete: [.range(from: ip(10, 1, 0, 1), to: ip(10, 1, 0, 5))],
                    add: [.range(from: ip(10, 1, 0, 1), to: ip(10, 1, 0, 6))])
            ])),
        Case(
            label: "concat element removed",
            new: edited { $0.sets[1].elements.removeFirst() },
            expected: .elementsOnly([
                SetElementChange(set: "np", delete: [.value([.ipv4(ip(10, 0, 0, 1)), .proto(6), .port(80)])], add: [])
            ])),
        Case(label: "rule comment changed", new: edited { $0.chains[0].rules[0].comment = "other" }, expected: .fullReplace),
        Case(label: "policy changed", new: edited { $0.chains[0].base?.policy = .accept }, expected: .fullReplace),
        Case(label: "set became non-interval", new: edited { $0.sets[0].interval = false }, expected: .fullReplace),
        Case(label: "set added", new: edited { $0.sets.append(NamedSet(name: "more", key: [.inetService])) }, expected: .fullReplace),
        Case(label: "table renamed", new: edited { $0.name = "kc-lab.pod.x.b" }, expected: .fullReplace),
    ]

    @Test(arguments: cases)
    func diff(_ testCase: Case) {
        #expect(RulesetDiff(old: Fixtures.pod, new: testCase.new) == testCase.expected)
    }
}

struct SetElementTests {
    static let ip = Fixtures.ip

    @Test(
        arguments: [
            // (input ranges, merged ranges)
            ([(1, 5), (3, 9)], [(1, 9)]),
            ([(1, 5), (6, 9)], [(1, 9)]),
            ([(10, 20), (1, 5)], [(1, 5), (10, 20)]),
            ([(1, 5), (7, 9)], [(1, 5), (7, 9)]),
            ([(0, UInt32.max), (7, 9)], [(0, UInt32.max)]),
            ([(UInt32.max - 1, UInt32.max), (UInt32.max, UInt32.max)], [(UInt32.max - 1, UInt32.max)]),
        ] as [([(UInt32, UInt32)], [(UInt32, UInt32)])])
    func intervalsMergeOverlapsAndNeighbours(_ input: [(UInt32, UInt32)], _ merged: [(UInt32, UInt32)]) {
        let set = NamedSet(name: "s", key: [.ipv4Address], interval: true, elements: input.map { .range(from: $0.0, to: $0.1) })
        #expect(set.normalizedElements == merged.map { .range(from: $0.0, to: $0.1) })
    }

    @Test(arguments: [
        (SetElement.prefix(ip(10, 0, 0, 0), length: 8), "10.0.0.0/8"),
        (.prefix(ip(10, 0, 0, 77), length: 24), "10.0.0.0/24"),
        (.range(from: ip(10, 0, 0, 1), to: ip(10, 0, 0, 1)), "10.0.0.1"),
        (.range(from: ip(10, 0, 0, 1), to: ip(10, 0, 0, 2)), "10.0.0.1-10.0.0.2"),
        (.range(from: 0, to: .max), "0.0.0.0/0"),
        (.value([.ipv4(ip(192, 168, 1, 2)), .proto(17), .port(53)]), "192.168.1.2 . udp . 53"),
        (.value([.proto(47)]), "47"),
    ])
    func elementText(_ element: SetElement, _ text: String) {
        #expect(element.nftText == text)
    }
}
