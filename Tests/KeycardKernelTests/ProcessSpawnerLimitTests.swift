import Foundation
import Glibc
import KeycardKernel
import KeycardValues
import Testing

/// A program whose argument or environment string execve refuses (longer than MAX_ARG_STRLEN,
/// E2BIG) is not started, and the error names the string, which the kernel's does not.
struct ProcessSpawnerLimitTests {
    static func refusal(_ argv: [String], environment: [String]) -> KernelError? {
        let log = NSTemporaryDirectory() + "kc-argmax-\(UInt32.random(in: 0...UInt32.max)).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        do {
            let pid = try ProcessSpawner.spawn(argv, logPath: log, detachment: .processGroup, label: "true", environment: environment)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            return nil
        } catch {
            return error
        }
    }

    @Test func anOverlongStringIsRefusedByName() throws {
        let long = String(repeating: "x", count: ExecLimits.maximumStringBytes)
        let env = try #require(Self.refusal(["/bin/true"], environment: ["SHORT=1", "BIG=" + long]))
        #expect(env.errno == E2BIG)
        #expect(env.description.contains("environment variable BIG is longer than 131071 bytes"), "\(env)")
        let arg = try #require(Self.refusal(["/bin/true", "ok", long], environment: []))
        #expect(arg.errno == E2BIG && arg.description.contains("argument 2 is longer than 131071 bytes"), "\(arg)")
        // One byte less (with its NUL, exactly MAX_ARG_STRLEN) is started.
        #expect(Self.refusal(["/bin/true", String(long.dropFirst())], environment: ["BIG=" + long.dropFirst(5)]) == nil)
    }
}
