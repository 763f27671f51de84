import Foundation
import Glibc
import KeycardLab
import Testing

/// The live journal's copy of a manifest replaces a link planted at its path instead of writing
/// through it to a file outside the lab's folder (`LiveLabRecord.snapshot`). As root.
@Suite(.serialized) struct CliLabFileLinkTests {
    init() throws {
        try #require(geteuid() == 0, "the CLI lab tests need root")
        try #require(FileManager.default.isExecutableFile(atPath: KeycardCLI.binary), "keycard is not built at \(KeycardCLI.binary)")
    }

    @Test func aLinkInTheJournalIsReplacedNotFollowed() throws {
        let scenario = try CliScenario(stem: "cli-lnk", pods: [("x", "a"), ("x", "b")])
        defer { scenario.cleanUp() }
        try #require(try KeycardCLI.run(["up", scenario.file]).code == 0)
        let outside = scenario.folder + "/outside.yaml"
        let journal = LabPaths.directory(scenario.lab) + "/journal"
        try FileManager.default.createDirectory(atPath: journal, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: journal + "/1.yaml", withDestinationPath: outside)
        let policy = try scenario.write("deny.yaml", CliScenario.denyIngress("x", podLabel: "a"))
        let apply = try KeycardCLI.run(["apply", scenario.lab, "-f", policy])
        #expect(apply.code == 0, "\(apply.err)")
        #expect(!FileManager.default.fileExists(atPath: outside), "the journal wrote through a link to \(outside)")
    }
}
