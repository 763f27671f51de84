import Foundation
import KeycardModel
import KeycardScenario
import KeycardValues
import Testing

@testable import KeycardCommands

/// `keycard probe`'s output is built from the scenario report's cell record (`ProbeResult`): its
/// JSON shows the same fields as `keycard run -o json`, and its table marks a cell wrong exactly
/// when the record did not pass (closed counts as allow, skipped always agrees).
@Suite struct LiveProbeOutputTests {
    static let tcp80 = ProtocolPort(.tcp, 80)

    static func cell(_ from: String, _ to: String, model: Decision, observed: Observation, reason: String? = nil) -> ProbeResult {
        ProbeResult(
            from: ObjectKey("x", from), to: .pod(ObjectKey("x", to)), port: tcp80, expected: ExpectedOutcome(model), model: model,
            observed: observed, attempts: 1, reason: reason)
    }

    @Test func tableListsOnlyTheCellsThatDisagree() {
        let results = [
            Self.cell("a", "b", model: .allow, observed: .deny, reason: "timeout"),
            Self.cell("a", "c", model: .deny, observed: .deny),
            Self.cell("b", "a", model: .allow, observed: .closed),
            Self.cell("b", "c", model: .deny, observed: .skipped),
        ]
        let text = LiveProbeTable(results: results).render()
        #expect(text.contains("TCP/80 observed"))
        #expect(text.contains("TCP/80 wrong"))
        let wrong = text.split(separator: "\n").filter { $0.hasPrefix("  ! ") }
        #expect(wrong == ["  ! x/a -> x/b TCP/80: model allow, observed deny (timeout)"])

        let agreeing = LiveProbeTable(results: Array(results.dropFirst())).render()
        #expect(agreeing.contains("TCP/80 observed"))
        #expect(!agreeing.contains("TCP/80 model"), "every cell agrees: no model table")
    }

    @Test func jsonResultsAreTheReportsCellRecord() throws {
        let result = Self.cell("a", "b", model: .allow, observed: .closed)
        let document = LiveProbeDocument(lab: "l", enforcement: "pod", agrees: result.passed, results: [result])
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(document)) as? [String: Any]
        let cell = try #require((object?["results"] as? [[String: Any]])?.first)
        #expect(Set(cell.keys) == ["from", "to", "port", "protocol", "expected", "model", "observed", "attempts"])
        #expect(cell["observed"] as? String == "closed")
        #expect(cell["expected"] as? String == "allow")
        #expect(object?["agrees"] as? Bool == true)
        let report = try JSONSerialization.jsonObject(with: JSONEncoder().encode(result)) as? [String: Any]
        #expect(NSDictionary(dictionary: cell).isEqual(to: report ?? [:]))
    }
}
