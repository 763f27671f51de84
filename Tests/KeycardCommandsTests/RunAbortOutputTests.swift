import Testing

@testable import KeycardCommands

/// `run -o FORMAT` with several scenarios prints its document even when the first aborts and none
/// completed (README: "several scenarios: an array of them"), as TAP and JUnit always did.
@Suite("run output after an abort")
struct RunAbortOutputTests {
    @Test func severalScenariosNoneCompletedStillPrintEveryDocumentFormat() {
        for format in [ReportFormat.json, .markdown, .html, .tap, .junit] {
            #expect(RunCommand.emitsOnAbort(format, completed: 0, several: true), "\(format)")
        }
        #expect(!RunCommand.emitsOnAbort(.table, completed: 0, several: true))
    }

    @Test func oneAbortedScenarioPrintsOnlyTheFormatsThatSayItStopped() {
        #expect(!RunCommand.emitsOnAbort(.json, completed: 0, several: false))
        #expect(RunCommand.emitsOnAbort(.tap, completed: 0, several: false))
        #expect(RunCommand.emitsOnAbort(.json, completed: 1, several: true))
    }
}

extension RunAbortOutputTests {
    @Test func anAbortedRunsPageIsNotPassedEvenWithNoScenario() {
        let page = HTMLRenderer.render([], aborted: true)
        #expect(page.contains("FAILED") && !page.contains("PASSED"))
    }
}
