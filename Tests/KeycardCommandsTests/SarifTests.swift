import Foundation
import KeycardScenario
import KeycardTestSupport
import Testing

@testable import KeycardCommands

/// `keycard lint -o sarif` on the blueprint: SARIF 2.1.0 as GitHub code scanning reads it.
@Suite struct SarifTests {
    static func blueprintSarif() throws -> String {
        let path = "scenarios/zero-trust-blueprint.yaml"
        let timeline = try ScenarioLoader.timeline(RepositoryFiles.absolute(path))
        return try SarifRenderer.render(LintReport(inputs: [path], findings: PolicyLinter.lint(timeline)))
    }

    /// The properties SARIF 2.1.0 requires (§3.13 sarifLog, §3.14 run, §3.18 tool, §3.19
    /// toolComponent, §3.27 result, §3.28 location, §3.29 physicalLocation, §3.30 region), each
    /// finding's region its file:line:col, and every ruleId among the driver's rules.
    @Test func requiredStructure() throws {
        let log = try #require(try JSONSerialization.jsonObject(with: Data(Self.blueprintSarif().utf8)) as? [String: Any])
        #expect(log["version"] as? String == "2.1.0")
        #expect(log["$schema"] as? String == SarifRenderer.schema)
        let runs = try #require(log["runs"] as? [[String: Any]])
        #expect(runs.count == 1)
        let driver = try #require((runs[0]["tool"] as? [String: Any])?["driver"] as? [String: Any])
        #expect(driver["name"] as? String == "keycard")
        let rules = try #require(driver["rules"] as? [[String: Any]])
        let ids = rules.compactMap { $0["id"] as? String }
        #expect(ids == LintRule.all.map(\.id))
        let results = try #require(runs[0]["results"] as? [[String: Any]])
        #expect(!results.isEmpty)
        for result in results {
            let ruleId = try #require(result["ruleId"] as? String)
            #expect(ids.firstIndex(of: ruleId) == result["ruleIndex"] as? Int)
            #expect(["none", "note", "warning", "error"].contains(result["level"] as? String))
            #expect(((result["message"] as? [String: Any])?["text"] as? String)?.isEmpty == false)
            let physical = try #require(
                ((result["locations"] as? [[String: Any]])?.first)?["physicalLocation"] as? [String: Any])
            let uri = SarifRenderer.uri(RepositoryFiles.absolute("scenarios/zero-trust-blueprint.yaml"))
            #expect(uri.hasPrefix("file:///"))
            #expect((physical["artifactLocation"] as? [String: Any])?["uri"] as? String == uri)
            let region = try #require(physical["region"] as? [String: Any])
            #expect((region["startLine"] as? Int ?? 0) >= 1)
            #expect((region["startColumn"] as? Int ?? 0) >= 1)
        }
        #expect(results.contains { $0["ruleId"] as? String == "one-sided-allow" && $0["level"] as? String == "error" })
        #expect(results.contains { $0["ruleId"] as? String == "egress-blocks-dns" && $0["level"] as? String == "error" })
    }

    /// The OASIS schema (sarif-schema-2.1.0.json, draft-04; not in Debian), kept beside this file
    /// as test data (SARIF/README.md names its source); KEYCARD_SARIF_SCHEMA may name another copy.
    /// Validated with python3-jsonschema (scripts/setup installs it).
    static let schemaPath =
        ProcessInfo.processInfo.environment["KEYCARD_SARIF_SCHEMA"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("SARIF/sarif-schema-2.1.0.json").path

    @Test func validatesAgainstTheOfficialSchema() throws {
        try Self.expectValid(Self.blueprintSarif())
    }

    /// A lint that could not judge its input (exit 2) still writes a valid log: no results, an
    /// invocation that did not succeed, the error with its file:line:col as a notification
    /// (review of the output formats: stdout was empty, so a CI upload failed on it).
    @Test func aFailedLintIsAValidLogSayingWhy() throws {
        var location = SourceLocation.start(of: "bad.yaml")
        location.line = 3
        location.column = 7
        let error = ScenarioError(location, "port must be an integer from 1 to 65535")
        let text = try SarifRenderer.render(failure: error)
        try Self.expectValid(text)
        let log = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let run = try #require((log["runs"] as? [[String: Any]])?.first)
        #expect((run["results"] as? [Any])?.isEmpty == true)
        let invocation = try #require((run["invocations"] as? [[String: Any]])?.first)
        #expect(invocation["executionSuccessful"] as? Bool == false)
        let notification = try #require((invocation["toolExecutionNotifications"] as? [[String: Any]])?.first)
        #expect(notification["level"] as? String == "error")
        #expect((notification["message"] as? [String: Any])?["text"] as? String == error.message)
        let physical = try #require(((notification["locations"] as? [[String: Any]])?.first)?["physicalLocation"] as? [String: Any])
        #expect((physical["artifactLocation"] as? [String: Any])?["uri"] as? String == "bad.yaml")
        #expect((physical["region"] as? [String: Any])?["startLine"] as? Int == 3)
        #expect(!(try Self.blueprintSarif()).contains("invocations"), "a successful log is unchanged")
    }

    static func expectValid(_ text: String) throws {
        let schema = Self.schemaPath
        #expect(FileManager.default.fileExists(atPath: schema), "no SARIF schema at \(schema)")
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-\(UUID().uuidString).sarif").path
        try text.write(toFile: log, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: log) }
        let script = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1])); log = json.load(open(sys.argv[2]))
            jsonschema.validators.validator_for(schema)(schema).validate(log)
            print("valid", len(log["runs"][0]["results"]))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, schema, log]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.hasPrefix("valid"))
    }
}
