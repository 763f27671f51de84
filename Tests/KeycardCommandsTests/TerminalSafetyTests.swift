import Foundation
import KeycardTestSupport
import Testing

/// Messages quote what the user's files hold; a manifest must not drive the terminal that reads
/// them: escape sequences, C1 controls and bidirectional overrides come out escaped.
@Suite struct TerminalSafetyTests {
    @Test func controlCharactersInAQuotedValueAreEscaped() throws {
        let manifest = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \"a\\e[31mRED\\u202Eb\\x85c\"\n"
        let result = try KeycardBinary.run(["check", "-"], input: Data(manifest.utf8))
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("STDIN:4:9: "), "\(result.stderr)")
        #expect(result.stderr.contains(#"a\u{1B}[31mRED\u{202E}b\u{85}c"#), "\(result.stderr)")
        #expect(!result.stderr.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{202E}" || $0 == "\u{85}" })
        #expect(result.stderr.hasSuffix("\n"))
    }
}
