import Foundation
import KeycardKernel
import KeycardRuleset
import Testing

@Suite(.serialized, .enabled(if: NftTestSupport.isRoot, "needs root and a kernel with nftables"))
struct NftablesProgrammerTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        let table: Table
        var testDescription: String { label }
    }

    static let cases = [
        Case(label: "pod-like inet", table: NftFixtures.podLike()),
        Case(label: "ip family node", table: NftFixtures.ipFamily()),
        Case(label: "200 rules", table: NftFixtures.manyRules(200)),
        Case(label: "mesh redirect", table: NftFixtures.meshRedirect()),
    ]

    /// The kernel holds what was intended, and exactly what `nft -f` makes of the same text.
    @Test(arguments: cases)
    func kernelMatchesIntentAndNftOfTheSameText(_ testCase: Case) throws {
        try NftTestSupport.withNamespaces(2) { names in
            let programmer = try NftablesProgrammer(namespace: names[0])
            try programmer.apply(old: nil, new: testCase.table)

            let kernel = try NftTestSupport.listRuleset(names[0])
            let witnessed = try #require(NormalizedTable(witness: kernel, name: testCase.table.name))
            #expect(witnessed == NormalizedTable(testCase.table))

            let loaded = try NftTestSupport.nftLoad(names[1], testCase.table.nftText())
            try #require(loaded.status == 0, "nft -f refused the text: \(loaded.error)")
            let reference = try NftTestSupport.listRuleset(names[1])
            #expect(stripHandles(kernel) == stripHandles(reference))
        }
    }

    @Test func removeLeavesNoTable() throws {
        try NftTestSupport.withNamespaces { names in
            let programmer = try NftablesProgrammer(namespace: names[0])
            let table = NftFixtures.podLike()
            try programmer.apply(old: nil, new: table)
            #expect(NormalizedTable(witness: try NftTestSupport.listRuleset(names[0]), name: table.name) != nil)
            try programmer.remove(table)
            #expect(NormalizedTable(witness: try NftTestSupport.listRuleset(names[0]), name: table.name) == nil)
            // Removing what is absent is not an error.
            try programmer.remove(table)
            try programmer.apply(old: table, new: nil)
        }
    }

    @Test func elementOnlyChangeSendsOnlyElementsAndKeepsRuleHandles() throws {
        try NftTestSupport.withNamespaces { names in
            let programmer = try NftablesProgrammer(namespace: names[0])
            let before = NftFixtures.podLike()
            var after = before
            after.sets[0].elements.removeLast()
            after.sets[0].elements.append(.prefix(NftFixtures.ip(10, 250, 0, 0), length: 16))
            after.sets[1].elements.append(.value([.ipv4(NftFixtures.ip(10, 244, 9, 9)), .proto(6), .port(443)]))

            try programmer.apply(old: nil, new: before)
            let handlesBefore = ruleHandles(try NftTestSupport.listRuleset(names[0]), table: before.name)
            let report = try #require(try programmer.apply(old: before, new: after))

            #expect(report.kinds == [.newSetElements, .deleteSetElements])
            #expect(report.count(.newRule) == 0)
            let kernel = try NftTestSupport.listRuleset(names[0])
            #expect(ruleHandles(kernel, table: after.name) == handlesBefore)
            #expect(NormalizedTable(witness: kernel, name: after.name) == NormalizedTable(after))
            // Nothing changed: nothing is sent.
            #expect(try programmer.apply(old: after, new: after) == nil)
        }
    }

    @Test func fullReplaceIsOneTransactionAndReplacesRules() throws {
        try NftTestSupport.withNamespaces { names in
            let programmer = try NftablesProgrammer(namespace: names[0])
            let before = NftFixtures.podLike()
            var after = before
            after.chains[0].rules.insert(Rule([.l4proto(6), .dport(22)], verdict: .drop, comment: "kc/ssh"), at: 2)
            try programmer.apply(old: nil, new: before)
            let report = try #require(try programmer.apply(old: before, new: after))
            #expect(report.count(.deleteTable) == 1)
            #expect(report.count(.newTable) == 2)
            #expect(report.count(.newRule) == after.chains.map(\.rules.count).reduce(0, +))
            #expect(NormalizedTable(witness: try NftTestSupport.listRuleset(names[0]), name: after.name) == NormalizedTable(after))
        }
    }

    /// A bad rule aborts the whole transaction: the error names it, and the old table survives.
    @Test func kernelErrorAbortsEverythingAndNamesTheObject() throws {
        try NftTestSupport.withNamespaces { names in
            let programmer = try NftablesProgrammer(namespace: names[0])
            let before = NftFixtures.podLike()
            var broken = before
            broken.chains[1].rules.append(Rule(verdict: .jump("no-such-chain"), comment: "kc/broken-jump"))
            try programmer.apply(old: nil, new: before)
            let error = #expect(throws: KernelError.self) { try programmer.apply(old: before, new: broken) }
            #expect(error?.errno == ENOENT)
            #expect(error?.subject.contains("kc/broken-jump") == true, "\(String(describing: error))")
            #expect(NormalizedTable(witness: try NftTestSupport.listRuleset(names[0]), name: before.name) == NormalizedTable(before))
        }
    }

    @Test func refusesTablesKeycardDoesNotOwn() throws {
        try NftTestSupport.withNamespaces { names in
            let programmer = try NftablesProgrammer(namespace: names[0])
            let error = #expect(throws: KernelError.self) { try programmer.apply(old: nil, new: Table(name: "filter")) }
            #expect(error?.errno == EPERM)
            #expect(try NftTestSupport.listRuleset(names[0]).allSatisfy { $0["table"] == nil })
        }
    }

    /// 10,000 addresses and 10,000 ranges (20,000 kernel elements): all of them arrive.
    @Test func tenThousandElementsAllReachTheKernel() throws {
        try NftTestSupport.withNamespaces { names in
            let programmer = try NftablesProgrammer(namespace: names[0])
            let table = NftFixtures.manyElements(10_000)
            let report = try #require(try programmer.apply(old: nil, new: table))
            #expect(report.count(.newSetElements) >= 30)
            let witnessed = try #require(NormalizedTable(witness: try NftTestSupport.listRuleset(names[0]), name: table.name))
            #expect(witnessed.sets["plain"]?.count == 10_000)
            #expect(witnessed.sets["ranges"]?.count == 10_000)
            #expect(witnessed == NormalizedTable(table))
        }
    }
}

/// The witness objects without handles (which differ between namespaces) and metainfo.
func stripHandles(_ objects: [[String: Any]]) -> [String] {
    func strip(_ value: Any) -> Any {
        if var dictionary = value as? [String: Any] {
            dictionary["handle"] = nil
            return dictionary.mapValues(strip)
        }
        if let array = value as? [Any] { return array.map(strip) }
        return value
    }
    return objects.filter { $0["metainfo"] == nil }.map { object in
        let data = (try? JSONSerialization.data(withJSONObject: strip(object), options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

@Suite(.serialized, .enabled(if: NftTestSupport.isRoot, "needs root and a kernel with nftables"))
struct NftablesDriftTests {
    /// `old` does not describe the kernel (an element was removed behind keycard's back): the
    /// element-only transaction is refused and the programmer converges with a full replace.
    @Test func elementUpdateOnDriftedKernelFallsBackToFullReplace() throws {
        try NftTestSupport.withNamespaces { names in
            let programmer = try NftablesProgrammer(namespace: names[0])
            let before = NftFixtures.podLike()
            var after = before
            after.sets[2].elements = []
            try programmer.apply(old: nil, new: before)
            let drift = try NftTestSupport.run([
                "ip", "netns", "exec", names[0], "nft", "delete", "element", "inet", before.name, "dst-svc", "{ 10.96.0.10 }",
            ])
            try #require(drift.status == 0, "\(drift.error)")
            let report = try #require(try programmer.apply(old: before, new: after))
            #expect(report.count(.deleteTable) == 1)
            #expect(NormalizedTable(witness: try NftTestSupport.listRuleset(names[0]), name: after.name) == NormalizedTable(after))
        }
    }
}
