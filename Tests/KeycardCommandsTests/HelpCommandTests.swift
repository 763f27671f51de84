import KeycardTestSupport
import Testing

/// `keycard help NAME`: ArgumentParser showed the root help and exited 0 for a name that is no
/// command; a typo now says so, exit 2, like any invalid input.
@Suite struct HelpCommandTests {
    @Test func helpForNoCommandIsAnError() throws {
        let typo = try KeycardBinary.run(["help", "rnu"])
        #expect(typo.status == 2)
        #expect(typo.stderr.contains("keycard help: no command \"rnu\"; the commands are check, model"), "\(typo.stderr)")
        let known = try KeycardBinary.run(["help", "run"])
        #expect(known.status == 0 && known.stdout.contains("USAGE: keycard run"), "\(known.stdout.prefix(200))")
    }
}
