import Foundation
import Glibc
import KeycardKernel
import Testing

/// A program's log is opened without following a link planted at its path (O_NOFOLLOW): the
/// program is not started rather than writing through the link to a file outside the lab.
struct ProcessLogLinkTests {
    @Test func aLinkAtTheLogPathIsNotFollowed() throws {
        let folder = NSTemporaryDirectory() + "kc-loglink-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let outside = folder + "/outside"
        let log = folder + "/program.log"
        try FileManager.default.createSymbolicLink(atPath: log, withDestinationPath: outside)
        #expect(throws: KernelError.self) {
            let pid = try ProcessSpawner.spawn(["/bin/echo", "written"], logPath: log, detachment: .processGroup, label: "echo")
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        #expect(!FileManager.default.fileExists(atPath: outside), "the log was written through the link")
    }
}
