import Foundation
import Glibc
import KeycardLab
import Testing

/// `keycard up` killed with SIGKILL after its lab exists but before it has programmed it (the
/// live record is written, marked incomplete): `status` calls the lab incomplete, the live verbs
/// refuse it (they had probed an unprogrammed datapath and reported thousands of disagreements),
/// and `down` removes it. A finished `up` is complete.
@Suite(.serialized) struct CliIncompleteUpTests {
    init() throws {
        try #require(geteuid() == 0, "the CLI lab tests need root")
        try #require(FileManager.default.isExecutableFile(atPath: KeycardCLI.binary), "keycard is not built at \(KeycardCLI.binary)")
    }

    static func complete(_ lab: String) throws -> Bool? {
        let status = try KeycardCLI.run(["status", lab, "-o", "json"])
        let document = try JSONSerialization.jsonObject(with: Data(status.out.utf8)) as? [String: Any]
        let labs = document?["labs"] as? [[String: Any]]
        return labs?.first { $0["name"] as? String == lab }?["complete"] as? Bool
    }

    @Test func anUpKilledBeforeItProgrammedTheLabIsIncompleteAndRefused() throws {
        let pods = (0..<40).map { ("x\($0 % 4)", "p\($0)") }
        let scenario = try CliScenario(stem: "cli-k9", nodes: 2, pods: pods)
        defer { scenario.cleanUp() }
        let lab = scenario.lab
        defer { _ = try? KeycardCLI.run(["down", lab]) }

        let up = Process()
        up.executableURL = URL(fileURLWithPath: KeycardCLI.binary)
        up.arguments = ["up", scenario.file]
        up.standardOutput = FileHandle.nullDevice
        up.standardError = FileHandle.nullDevice
        try up.run()
        // The record is written before the policies are programmed: kill it at once then.
        var recorded = false
        for _ in 0..<60_000 where up.isRunning {
            if (try? LiveLabRecord.read(lab)) != nil {
                recorded = true
                break
            }
            usleep(500)
        }
        kill(up.processIdentifier, SIGKILL)
        up.waitUntilExit()
        try #require(recorded, "keycard up ended before writing its live record")
        // Killed within a millisecond of the record, long before 40 pods are programmed.
        #expect(try LiveLabRecord.read(lab)?.complete == false)
        #expect(try Self.complete(lab) == false)
        let probe = try KeycardCLI.run(["probe", lab, "--from", "x0/p0", "--to", "x1/p1"])
        #expect(probe.code == 2 && probe.err.contains("did not finish coming up"), "\(probe.code) \(probe.err)")
        let down = try KeycardCLI.run(["down", lab])
        #expect(down.code == 0, "\(down.err)")
        #expect(Lab.namespaces(of: lab).isEmpty)

        // Brought up to the end, it is complete and the live verbs take it.
        try #require(try KeycardCLI.run(["up", scenario.file]).code == 0)
        #expect(try LiveLabRecord.read(lab)?.complete == nil)
        #expect(try Self.complete(lab) == true)
        #expect(try KeycardCLI.run(["probe", lab, "--from", "x0/p0", "--to", "x1/p1"]).code == 0)
    }
}
