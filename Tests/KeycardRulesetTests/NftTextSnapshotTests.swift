import Foundation
import KeycardRuleset
import Testing

/// Golden nft text. A missing snapshot is written and the test FAILS, so nothing is recorded
/// silently; to re-record on purpose, delete the file (or set KC_RECORD_SNAPSHOTS=1) and review the diff.
struct NftTextSnapshotTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let snapshot: String
        let ruleset: Ruleset
        var testDescription: String { snapshot }
    }

    static let cases = [
        Case(snapshot: "pod-inet.nft", ruleset: Ruleset(tables: [Fixtures.pod])),
        Case(snapshot: "node-nat-ip.nft", ruleset: Ruleset(tables: [Fixtures.natNode])),
        Case(snapshot: "two-tables.nft", ruleset: Ruleset(tables: [Fixtures.natNode, Table(name: "kc-lab.empty")])),
    ]

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")

    @Test(arguments: cases)
    func textMatchesSnapshot(_ testCase: Case) throws {
        let text = testCase.ruleset.nftText()
        let url = Self.directory.appendingPathComponent(testCase.snapshot)
        let record = ProcessInfo.processInfo.environment["KC_RECORD_SNAPSHOTS"] == "1"
        guard !record, let golden = try? String(contentsOf: url, encoding: .utf8) else {
            try text.write(to: url, atomically: true, encoding: .utf8)
            Issue.record("recorded snapshot \(testCase.snapshot): review it, then run again")
            return
        }
        #expect(text == golden)
    }

    @Test func textIsDeterministic() {
        #expect(Ruleset(tables: [Fixtures.pod]).nftText() == Ruleset(tables: [Fixtures.pod]).nftText())
    }
}

/// `nft -c -f` accepts the text (root: inside a throwaway namespace made with `ip netns`).
@Suite(.enabled(if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft"), "needs root and nft"))
struct NftTextAcceptedByNftTests {
    @Test(arguments: NftTextSnapshotTests.cases)
    func nftChecksTheText(_ testCase: NftTextSnapshotTests.Case) throws {
        let namespace = "kc-rs\(String(UInt32.random(in: 0...UInt32.max), radix: 16)).node0"
        #expect(try run(["ip", "netns", "add", namespace]).status == 0)
        defer { _ = try? run(["ip", "netns", "del", namespace]) }
        let result = try run(["ip", "netns", "exec", namespace, "nft", "-c", "-f", "-"], input: testCase.ruleset.nftText())
        #expect(result.status == 0, "\(result.error)")
    }

    @Test func nftRejectsBrokenText() throws {
        let namespace = "kc-rs\(String(UInt32.random(in: 0...UInt32.max), radix: 16)).node0"
        #expect(try run(["ip", "netns", "add", namespace]).status == 0)
        defer { _ = try? run(["ip", "netns", "del", namespace]) }
        var table = Fixtures.natNode
        table.chains[0].rules.append(Rule(verdict: .jump("missing")))
        let result = try run(["ip", "netns", "exec", namespace, "nft", "-c", "-f", "-"], input: table.nftText())
        #expect(result.status != 0)
    }

    private func run(_ arguments: [String], input: String? = nil) throws -> (status: Int32, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let err = Pipe()
        let inPipe = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        if input != nil { process.standardInput = inPipe }
        try process.run()
        if let input {
            inPipe.fileHandleForWriting.write(Data(input.utf8))
            try inPipe.fileHandleForWriting.close()
        }
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: error, as: UTF8.self))
    }
}

/// Comments longer than nft's 128 bytes are refused by `nft -f`: the text clips them as the
/// kernel lowering does, on a character boundary.
@Suite struct NftCommentTests {
    @Test func aLongCommentIsClippedBelowTheLimit() {
        let long = "ns-" + String(repeating: "é", count: 100) + "/policy#ingress[0]"
        let clipped = nftComment(long)
        #expect(clipped.utf8.count < nftCommentLimit)
        #expect(clipped.hasSuffix("..."))
        #expect(long.hasPrefix(String(clipped.dropLast(3))))
        #expect(nftComment("a \"quoted\"\nline") == "a 'quoted' line")
        let rule = Rule(verdict: .accept, comment: long)
        #expect(rule.nftText.contains("comment \"\(clipped)\""))
    }
}
