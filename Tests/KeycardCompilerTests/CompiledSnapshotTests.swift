import Foundation
import KeycardCompiler
import KeycardModel
import KeycardRuleset
import Testing

/// Golden nft text of every compiled table, per case and placement.
///
/// A missing snapshot FAILS the test (nothing is recorded silently). To record or re-record on
/// purpose, run with KC_RECORD_SNAPSHOTS=1 and review the diff before committing it.
struct CompiledSnapshotTests {
    struct Row: Sendable, CustomTestStringConvertible {
        let policyCase: PolicyCase
        let placement: Placement
        var snapshot: String { "\(policyCase.name).\(placement.rawValue).nft" }
        var testDescription: String { snapshot }
    }

    static let rows = PolicyCase.all.flatMap { policyCase in Placement.allCases.map { Row(policyCase: policyCase, placement: $0) } }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")

    /// Every target's table, in target order, each under a `# target` header line.
    static func text(_ tables: [RulesetTarget: Table]) -> String {
        tables.sorted { $0.key < $1.key }.map { "# \($0.key)\n" + $0.value.nftText() }.joined(separator: "\n")
    }

    @Test(arguments: rows)
    func compiledTextMatchesSnapshot(_ row: Row) throws {
        let text = Self.text(CaseWorld().compile(row.policyCase.policies, lab: "snap", row.placement))
        let url = Self.directory.appendingPathComponent(row.snapshot)
        if ProcessInfo.processInfo.environment["KC_RECORD_SNAPSHOTS"] == "1" {
            try text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        guard let golden = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("missing snapshot \(row.snapshot): record it with KC_RECORD_SNAPSHOTS=1 and review it")
            return
        }
        #expect(text == golden, "compiled text differs from \(row.snapshot)")
    }

    /// Every snapshot on disk belongs to a row: a renamed case cannot leave a stale golden file behind.
    @Test func noStaleSnapshots() throws {
        let onDisk = Set(try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".nft") })
        #expect(onDisk.subtracting(Self.rows.map(\.snapshot)).isEmpty)
    }

    @Test func compilingIsDeterministic() {
        for row in Self.rows {
            let world = CaseWorld()
            #expect(
                Self.text(world.compile(row.policyCase.policies, lab: "snap", row.placement))
                    == Self.text(world.compile(row.policyCase.policies, lab: "snap", row.placement)))
        }
    }
}
