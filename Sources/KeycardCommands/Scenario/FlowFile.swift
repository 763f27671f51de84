import Foundation
import KeycardScenario

/// The file of `--flows`: created (or truncated) up front, so a bad path fails before any lab is
/// built, and appended to as each step ends.
final class FlowFile {
    private let handle: FileHandle
    let path: String

    /// - Throws: `Exit.invalid` when `path` cannot be written, or is `-`: elsewhere `-` means
    /// standard input or output, but a run's standard output carries its report, so `-` would
    /// only make a file of that name.
    init(path: String) throws {
        self.path = path
        if path == "-" {
            Console.error(
                "--flows -: standard output carries the run's report; name a file (keycard observe LAB follows a live lab's flows on standard output)"
            )
            throw Exit.invalid
        }
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            Console.error("\(path): cannot write the flow log")
            throw Exit.invalid
        }
        self.handle = handle
    }

    deinit { try? handle.close() }

    /// Appends `lines`; a failing write is reported once per step and does not stop the run.
    func write(_ lines: [HubbleFlowLine]) {
        guard !lines.isEmpty else { return }
        do {
            try handle.write(contentsOf: Data(try FlowLog.encode(lines).utf8))
        } catch {
            Console.error("\(path): \(error)")
        }
    }
}
