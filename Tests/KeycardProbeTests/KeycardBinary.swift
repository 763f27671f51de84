import Foundation

/// The built `keycard` executable, next to the test bundle in .build/<configuration>/.
enum KeycardBinary {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var path: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        // The test binary may sit inside a .xctest bundle folder.
        while directory.path != "/" && !FileManager.default.fileExists(atPath: directory.appendingPathComponent("keycard").path) {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("keycard").path
    }

    static func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }
}

/// `ls /run/netns`, for leak checks.
enum NetworkNamespaceList {
    static func names() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? [] }
}
