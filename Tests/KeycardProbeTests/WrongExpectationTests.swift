import Foundation
import KeycardProbe
import KeycardScenario
import KeycardTestSupport
import Testing

/// A wrong cell in an explicit expectation must fail the run (exit 1) and be named.
@Suite("Wrong expectations are caught")
struct WrongExpectationTests {
    static let header = "-    " + NinePodModel.pods.joined(separator: " ")

    /// A TCP/80 table of the nine pods, all connected except `blocked`.
    static func table(blocked: Set<String>) -> String {
        var lines = [header]
        for from in NinePodModel.pods {
            let cells = NinePodModel.pods.map { to in from == to ? "#" : (blocked.contains("\(from)>\(to)") ? "X" : ".") }
            lines.append("\(from)  " + cells.joined(separator: "   "))
        }
        return lines.map { "          " + $0 }.joined(separator: "\n")
    }

    static func scenario(_ name: String, blocked: Set<String>) -> String {
        NinePodModel.scenario(
            name: name,
            steps: """
                    - name: flat network
                      probe: {ports: [TCP/80]}
                      expect:
                        TCP/80: |
                \(table(blocked: blocked))

                """)
    }

    @Test func wrongCellFailsTheStepAndIsNamed() throws {
        let timeline = try NinePodModel.timeline(Self.scenario("wrongcell", blocked: ["x/a>y/b"]))
        let report = try ScenarioRun(timeline: timeline, options: .init(enforcement: .pod, labName: NinePodModel.labName("wrong")))
            .execute()
        #expect(!report.passed)
        let failed = (report.steps[0].results ?? []).compactMap { record -> ProbeResult? in
            if case .probe(let result) = record, !result.passed { return result }
            return nil
        }
        #expect(failed.map { "\($0.from)>\($0.to)" } == ["x/a>y/b"])
        #expect(failed.first?.expected == .deny)
        #expect(failed.first?.observed == .allow)
        #expect(failed.first?.model == .allow)
        #expect(report.steps[0].summary?.contains("x/a -> y/b TCP/80") == true)
    }

    @Test func rightTablePasses() throws {
        let timeline = try NinePodModel.timeline(Self.scenario("rightcell", blocked: []))
        let report = try ScenarioRun(timeline: timeline, options: .init(enforcement: .node, labName: NinePodModel.labName("right")))
            .execute()
        #expect(report.passed)
    }

    @Test func cliExitsOneAndNamesTheCell() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(NinePodModel.labName("kc-cli"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("wrong.yaml")
        let lab = NinePodModel.labName("cli")
        try Self.scenario(lab, blocked: ["y/c>z/a"]).write(to: file, atomically: true, encoding: .utf8)
        let result = try KeycardBinary.run(["run", file.path])
        #expect(result.status == 1)
        #expect(result.stdout.contains("! y/c -> z/a TCP/80: expected deny, observed allow"))
        let json = try KeycardBinary.run(["run", file.path, "-o", "json"])
        #expect(json.status == 1)
        #expect(json.stdout.contains("\"passed\" : false"))
        let junit = try KeycardBinary.run(["run", file.path, "-o", "junit"])
        #expect(junit.stdout.contains("<failure message="))
        #expect(!NetworkNamespaceList.names().contains { $0.hasPrefix("kc-\(lab).") })
    }
}
