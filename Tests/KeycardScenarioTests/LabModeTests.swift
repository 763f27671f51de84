import Testing

@testable import KeycardScenario

/// `spec.lab.mode`: enforce (default) or audit; anything else is refused where it is written.
@Suite struct LabModeTests {
    typealias T = ScenarioText

    static func head(_ lab: String) -> String {
        T.head.replacingOccurrences(of: "\nspec:\n  resources:", with: "\nspec:\n  lab: \(lab)\n  resources:")
    }

    @Test func defaultAndAudit() throws {
        #expect(try ScenarioLoader.parse(T.scenario(), file: "ok.yaml").lab.mode == .enforce)
        #expect(try ScenarioLoader.parse(T.scenario(head: Self.head("{mode: audit}")), file: "ok.yaml").lab.mode == .audit)
        #expect(try ScenarioLoader.parse(T.scenario(head: Self.head("{mode: enforce}")), file: "ok.yaml").lab.mode == .enforce)
    }

    @Test func unknownModeIsRefusedWithItsPlace() throws {
        let text = T.scenario(head: Self.head("{mode: permissive}"))
        let error = try #require(parseError(text))
        #expect(error.message == "spec.lab.mode must be enforce or audit, found permissive")
        #expect(error.description.hasPrefix("bad.yaml:6:"))
    }
}
