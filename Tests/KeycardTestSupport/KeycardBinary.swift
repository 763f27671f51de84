import Foundation

/// The `keycard` executable built beside the test bundle, for tests that check what a user sees.
public enum KeycardBinary {
    /// What a run printed and how it ended.
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// The path of the built `keycard` (found by walking up from the running executable, which may
    /// sit inside a .xctest bundle folder).
    public static var path: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        while directory.path != "/" && !FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("keycard").path) {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("keycard").path
    }

    /// Runs `keycard ARGS` to completion. Both streams are read at once, so neither can fill its
    /// pipe and stall the child. `input`, when given, is its standard input (then closed);
    /// otherwise `inputHandle`, when given (a folder or a write-only file, which no read takes).
    public static func run(_ arguments: [String], input: Data? = nil, inputHandle: FileHandle? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let stdin = Pipe()
        if input != nil { process.standardInput = stdin } else if let inputHandle { process.standardInput = inputHandle }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        if let input {
            let writer = Thread {
                stdin.fileHandleForWriting.write(input)
                try? stdin.fileHandleForWriting.close()
            }
            writer.start()
        }
        let stderrBox = Box()
        let reader = Thread { stderrBox.data = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !stderrBox.done { usleep(1_000) }
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderrBox.data ?? Data(), as: UTF8.self))
    }

    private final class Box: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Data?
        var data: Data? {
            get { lock.withLock { value } }
            set { lock.withLock { value = newValue } }
        }
        var done: Bool { data != nil }
    }
}
