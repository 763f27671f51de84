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
}
