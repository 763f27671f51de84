import Foundation
import KeycardScenario
import Testing

@testable import KeycardCommands

/// `keycard generate`'s input checks say what is wrong in the flow's own field names, and an
/// output it cannot write is found before the scenario runs.
@Suite struct GenerateInputTests {
    @Test func aBadFlowLineNamesTheMissingField() {
        func message(_ line: String) -> String {
            do {
                _ = try JSONDecoder().decode(HubbleFlowLine.self, from: Data(line.utf8))
                return "decoded"
            } catch {
                return GenerateCommand.describe(error)
            }
        }
        #expect(message("{\"flow\":{}}") == "flow.time is missing")
        #expect(message("not json") == "not JSON")
    }

    @Test func anUnwritableOutputIsRefused() {
        #expect(throws: (any Error).self) { try GenerateCommand.requireWritable("/nonexistent-keycard-folder/x.yaml") }
        #expect(throws: Never.self) { try GenerateCommand.requireWritable(NSTemporaryDirectory() + "keycard-generate-ok.yaml") }
    }
}
