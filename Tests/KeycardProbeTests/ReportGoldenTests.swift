import Foundation
import KeycardProbe
import KeycardScenario
import Testing

/// The JSON reports are an interface: `keycard model -o json` and `keycard run -o json` must keep
/// their field names, values and cell order. Every library scenario's model report, and its run
/// report as played by the model runner (observations included), are compared byte for byte with
/// the files in Golden/. `KEYCARD_RECORD_GOLDEN=1` rewrites them (review the diff before committing).
@Suite struct ReportGoldenTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static var record: Bool { ProcessInfo.processInfo.environment["KEYCARD_RECORD_GOLDEN"] == "1" }

    /// The library's own scenarios: `scenarios/`, `scenarios/conformance/` and the ClusterNetworkPolicy
    /// ones in `scenarios/conformance/cnp/` (their file names differ from the others', so each
    /// golden keeps its scenario's base name).
    static let files: [String] =
        ScenarioLibrary.yamlFiles(in: "scenarios") + ScenarioLibrary.yamlFiles(in: "scenarios/conformance")
        + ScenarioLibrary.yamlFiles(in: "scenarios/conformance/cnp")

    /// Encoded as `Console.json` prints it.
    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }

    /// A run whose packets behave exactly as the model says.
    static func modelRun(_ timeline: Timeline) throws -> Report {
        var steps: [StepReport] = []
        for step in timeline.scenario.steps {
            let runner = ModelProbeRunner(cluster: timeline.cluster(afterStep: step.index))
            switch step.action {
            case .probe: steps.append(try StepEvaluation.probe(step, timeline: timeline, runner: runner))
            case .scan(let scan): steps.append(try StepEvaluation.scan(step, scan, timeline: timeline, runner: runner))
            case .dns(let dns):
                // The server answers exactly as the model says, in no time.
                steps.append(
                    try StepEvaluation.dns(step, dns, timeline: timeline) { query, _ in (timeline.dnsModel(query, atStep: step.index), 0) })
            default: steps.append(StepReport(step, passed: true))
            }
        }
        return Report(timeline, enforcement: timeline.scenario.lab.enforcement, steps: steps)
    }

    @Test func libraryIsThere() {
        #expect(Self.files.count >= 40, "scenarios/ and scenarios/conformance/ not found")
        let bases = Self.files.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent }
        #expect(Set(bases).count == bases.count, "two library scenarios share a file name, and so would their goldens")
    }

    @Test(arguments: files)
    func reportsAreByteIdentical(_ file: String) throws {
        let timeline = try ScenarioLoader.timeline(ScenarioLibrary.absolute(file))
        let base = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        for (suffix, text) in [("model", try Self.json(ModelReport.build(timeline))), ("run", try Self.json(Self.modelRun(timeline)))] {
            let golden = Self.folder.appendingPathComponent("\(base).\(suffix).json")
            if Self.record {
                try FileManager.default.createDirectory(at: Self.folder, withIntermediateDirectories: true)
                try text.write(to: golden, atomically: true, encoding: .utf8)
                continue
            }
            let expected = try String(contentsOf: golden, encoding: .utf8)
            #expect(text == expected, "\(file): the \(suffix) report differs from \(golden.path)")
        }
    }
}
