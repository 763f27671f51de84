import Foundation
import Glibc
import KeycardKernel
import Testing

@testable import KeycardLab

/// A real crash: KeycardBenchLab (built beside the test binary) is SIGKILLed in the middle of
/// bringing up 100 pods; what it leaves must be findable and removable.
@Suite(.serialized) struct LabCrashTests {
    @Test(arguments: [1, 60])
    func sigkillMidBringUpLeavesAStateFileAndDownRemovesEverything(namespacesBeforeKill: Int) throws {
        let directory = try #require(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent() as URL?)
        let executable = directory.appendingPathComponent("KeycardBenchLab")
        #expect(FileManager.default.isExecutableFile(atPath: executable.path), "KeycardBenchLab is not built at \(executable.path)")
        let hostBefore = try hostSnapshot()
        let child = Process()
        child.executableURL = executable
        child.arguments = ["100", "2", "1", "1"]
        child.standardOutput = FileHandle.nullDevice
        try child.run()
        let name = "bench-\(child.processIdentifier)-1"
        defer { _ = try? Lab.down(name: name) }

        // Wait until bring-up is visibly under way, then kill it without warning.
        var seen = 0
        for _ in 0..<20_000 where seen < namespacesBeforeKill {
            seen = Lab.namespaces(of: name).count
            if seen < namespacesBeforeKill { usleep(200) }
        }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal)

        let left = Lab.status(name)
        #expect(left.namespaces.count >= namespacesBeforeKill)
        // The state file exists whenever any namespace does: it is written first.
        #expect(left.state?.phase == .creating)
        #expect(!left.isComplete)
        #expect(Lab.labNames().contains(name))

        try Lab.down(name: name)
        #expect(Lab.namespaces(of: name).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: LabPaths.directory(name)))
        #expect(try hostSnapshot() == hostBefore)
    }
}
