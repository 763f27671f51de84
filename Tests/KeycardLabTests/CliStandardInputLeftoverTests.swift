import Foundation
import Glibc
import KeycardLab
import Testing

/// `apply LAB -f -` keeps what it reads from standard input in the lab's folder, so that a verb
/// killed meanwhile leaves nothing `keycard down` does not remove (it was a folder under /tmp
/// without the lab's name, left forever).
@Suite(.serialized) struct CliStandardInputLeftoverTests {
    init() throws {
        try #require(geteuid() == 0, "the CLI lab tests need root")
        try #require(FileManager.default.isExecutableFile(atPath: KeycardCLI.binary), "keycard is not built at \(KeycardCLI.binary)")
    }

    @Test func aKilledApplyFromStandardInputLeavesNothingAfterDown() throws {
        let scenario = try CliScenario(stem: "cli-sin", pods: [("x", "a")])
        defer { scenario.cleanUp() }
        try #require(try KeycardCLI.run(["up", scenario.file]).code == 0)
        let apply = Process()
        apply.executableURL = URL(fileURLWithPath: KeycardCLI.binary)
        apply.arguments = ["apply", scenario.lab, "-f", "-"]
        let input = Pipe()
        apply.standardInput = input
        apply.standardOutput = FileHandle.nullDevice
        apply.standardError = FileHandle.nullDevice
        try apply.run()
        defer { if apply.isRunning { kill(apply.processIdentifier, SIGKILL) } }
        // Waiting for standard input (never closed): its folder is in the lab's.
        let folder = LabPaths.standardInputFolder(scenario.lab, pid: apply.processIdentifier)
        let made = CliLiveLifecycleTests.waitUntil(seconds: 20) { FileManager.default.fileExists(atPath: folder) }
        #expect(made, "no \(folder) while apply reads standard input")
        kill(apply.processIdentifier, SIGKILL)
        apply.waitUntilExit()
        #expect(try KeycardCLI.run(["down", scenario.lab]).code == 0)
        #expect(!FileManager.default.fileExists(atPath: folder))
        #expect(!FileManager.default.fileExists(atPath: LabPaths.directory(scenario.lab)))
    }

    /// Standard input that cannot be read (here a folder) is refused with exit code 2, and the
    /// folder apply made for it in the lab's is gone (the read had trapped, SIGILL, leaving it).
    @Test func unreadableStandardInputIsRefusedAndLeavesNoFolder() throws {
        let scenario = try CliScenario(stem: "cli-sid", pods: [("x", "a")])
        defer { scenario.cleanUp() }
        try #require(try KeycardCLI.run(["up", scenario.file]).code == 0)
        defer { _ = try? KeycardCLI.run(["down", scenario.lab]) }
        let apply = Process()
        apply.executableURL = URL(fileURLWithPath: KeycardCLI.binary)
        apply.arguments = ["apply", scenario.lab, "-f", "-"]
        apply.standardInput = try #require(FileHandle(forReadingAtPath: NSTemporaryDirectory()))
        let errors = Pipe()
        apply.standardOutput = FileHandle.nullDevice
        apply.standardError = errors
        try apply.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        apply.waitUntilExit()
        #expect(apply.terminationStatus == 2 && message == "STDIN: read: is a directory\n", "\(apply.terminationStatus) \(message)")
        #expect(!FileManager.default.fileExists(atPath: LabPaths.standardInputFolder(scenario.lab, pid: apply.processIdentifier)))
    }
}
