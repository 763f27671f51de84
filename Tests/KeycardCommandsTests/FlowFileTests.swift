import ArgumentParser
import Foundation
import Testing

@testable import KeycardCommands

/// `keycard run --flows PATH` (review of the output formats: `--flows -` made a file named `-`
/// in the working directory, where every other `-` of keycard means standard input or output).
@Suite struct FlowFileTests {
    @Test func dashIsRefusedNotMadeAFile() throws {
        let existed = FileManager.default.fileExists(atPath: "-")
        #expect(throws: ExitCode.self) { _ = try FlowFile(path: "-") }
        #expect(FileManager.default.fileExists(atPath: "-") == existed)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-flows-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try FlowFile(path: path)
        #expect(FileManager.default.fileExists(atPath: path))
    }
}
