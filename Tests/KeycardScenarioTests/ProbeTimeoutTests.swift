import Testing

@testable import KeycardScenario

/// `spec.probe.timeout`: whole milliseconds, or seconds with at most three decimals
/// (docs/scenario-format.md), read exactly: no sign, exponent or rounding.
@Suite struct ProbeTimeoutTests {
    @Test(arguments: [("250ms", 250), ("1s", 1000), ("1.5s", 1500), ("0.001s", 1), ("60s", 60_000), ("2.25s", 2250)])
    func readsDurations(_ text: String, _ milliseconds: Int) {
        #expect(ScenarioParser.milliseconds(text) == milliseconds)
    }

    @Test(arguments: ["1.0005s", "1E0s", "1e3ms", "60000.4ms", "+1s", "-1s", "1.s", ".5s", "1 s", "s", "ms", "1m", "１s"])
    func refusesOtherForms(_ text: String) {
        #expect(ScenarioParser.milliseconds(text) == nil, "\(text)")
    }
}

extension ProbeTimeoutTests {
    /// A bare number (`timeout: 1`) is told it has no unit; the hint "quote it" only led to a
    /// second error (review of the docs as a newcomer).
    @Test(arguments: ["1", "250", "1.5"])
    func aBareNumberIsToldItNeedsAUnit(_ number: String) throws {
        let text = ScenarioText.head.replacingOccurrences(
            of: "spec:\n  resources:", with: "spec:\n  probe: {timeout: \(number)}\n  resources:")
        let error = try #require(parseError(text))
        #expect(error.message == "spec.probe.timeout \(number) has no unit: write a duration from 1ms to 60s, like 250ms or 1s")
    }
}
