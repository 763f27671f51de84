import Testing

@testable import KeycardCommands

/// `KEYCARD_LAB_REUSE`: the usual false spellings turn lab sharing off (only `0` did; `false`
/// left it on without a word), and a value that is no spelling is warned about, as `KEYCARD_LOG`'s is.
@Suite("KEYCARD_LAB_REUSE")
struct LabReuseSettingTests {
    private static func read(_ value: String?) -> (enabled: Bool, warnings: [String]) {
        var warnings: [String] = []
        let environment = value.map { ["KEYCARD_LAB_REUSE": $0] } ?? [:]
        let enabled = LabReuseSetting.enabled(environment) { warnings.append($0) }
        return (enabled, warnings)
    }

    @Test(arguments: ["0", "false", "FALSE", "no", "No", "off", "OFF"])
    func falseSpellingsTurnSharingOff(_ value: String) {
        let read = Self.read(value)
        #expect(!read.enabled && read.warnings.isEmpty, "\(value)")
    }

    @Test(arguments: [nil, "", "1", "true", "yes", "on", "TRUE"] as [String?])
    func trueSpellingsAndUnsetLeaveItOn(_ value: String?) {
        let read = Self.read(value)
        #expect(read.enabled && read.warnings.isEmpty, "\(value ?? "unset")")
    }

    @Test(arguments: ["2", "nope", "disable", " 0"])
    func anyOtherValueIsWarnedAboutAndLeavesItOn(_ value: String) throws {
        let read = Self.read(value)
        #expect(read.enabled)
        let warning = try #require(read.warnings.first)
        #expect(read.warnings.count == 1 && warning.contains("KEYCARD_LAB_REUSE=\(value)"), "\(warning)")
    }
}
