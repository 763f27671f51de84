import Foundation

/// The `keycard` executable built beside the test bundle, for tests that check what a user sees.
public enum KeycardBinary {
    /// The path of the built `keycard` (found by walking up from the running executable).
    public static var path: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        while directory.path != "/" && !FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("keycard").path) {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("keycard").path
    }

    /// Runs `keycard ARGS` to completion; returns its exit status and standard error (stdout is discarded).
    public static func run(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
