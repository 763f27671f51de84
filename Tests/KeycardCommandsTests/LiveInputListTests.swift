import Testing

@testable import KeycardCommands

/// The comma lists of the live verbs' options (`--from a,b --from c`): an empty item (an unset
/// shell variable) is refused rather than read as "every one" (review of hostile input, finding 6).
@Suite("Live option lists")
struct LiveInputListTests {
    @Test func itemsOfCommasAndRepeatsAreTrimmed() throws {
        #expect(try LiveInput.list(["a, b", " c "], option: "--from") == ["a", "b", "c"])
        #expect(try LiveInput.list([], option: "--from") == [])
    }

    @Test(arguments: [[""], [","], ["TCP/80,"], ["a", " "], [",a"]])
    func anEmptyItemIsRefused(_ values: [String]) {
        let error = #expect(throws: LiveError.self) { try LiveInput.list(values, option: "--ports") }
        #expect(error?.description.contains("--ports") == true && error?.description.contains("empty item") == true)
    }

    /// `keycard scan --ports 80,80` was accepted (and scanned every target twice); `keycard probe`
    /// refused `TCP/80,TCP/80` with its own check. Both go through `LiveInput.distinct`, which
    /// compares what the items read as (`80,080`, `TCP/80,tcp/80`).
    @Test(arguments: [["80,80"], ["80", "80"], ["80,080"]])
    func scanRefusesAPortListedTwice(_ values: [String]) {
        let error = #expect(throws: LiveError.self) { try ScanCommand.portList(values) }
        #expect(error?.description == "--ports 80 is listed twice", "\(error?.description ?? "-")")
    }

    @Test func distinctKeepsTheOrderAndReadsEachItem() throws {
        #expect(try ScanCommand.portList(["443,22", "80"]) == [443, 22, 80])
        let error = #expect(throws: LiveError.self) {
            try LiveInput.distinct(["TCP/80,tcp/80"], option: "--ports") { text throws(LiveError) -> String in text.uppercased() }
        }
        #expect(error?.description == "--ports TCP/80 is listed twice")
        #expect(throws: LiveError.self) { try ScanCommand.portList(["0"]) }
    }
}
