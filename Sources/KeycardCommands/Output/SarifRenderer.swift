import ArgumentParser
import Foundation
import KeycardScenario

/// SARIF 2.1.0 (OASIS, https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html), the
/// form GitHub code scanning uploads: one run of the `keycard` driver, every rule of
/// `LintRule.all` in `tool.driver.rules`, one result per finding with a file:line:col region.
enum SarifRenderer {
    static let schema = "https://json.schemastore.org/sarif-2.1.0.json"

    static func render(_ report: LintReport) throws -> String {
        let rules = LintRule.all
        let log = Log(
            schema: schema, version: "2.1.0",
            runs: [
                Run(
                    tool: tool,
                    results: report.findings.map { finding in
                        Result(
                            ruleId: finding.rule, ruleIndex: rules.firstIndex { $0.id == finding.rule } ?? 0,
                            level: finding.severity.rawValue,
                            message: Text(text: finding.message),
                            locations: [
                                Location(
                                    physicalLocation: PhysicalLocation(
                                        artifactLocation: ArtifactLocation(uri: uri(finding.file)),
                                        region: Region(startLine: max(finding.line, 1), startColumn: max(finding.column, 1))))
                            ],
                            properties: ResultProperties(object: finding.object, state: finding.state))
                    })
            ])
        return try encode(log)
    }

    /// The log of a lint that could not judge its input (invalid input, exit 2): no results, and an
    /// invocation that did not succeed with the error as a tool execution notification (SARIF
    /// §3.20.14 `executionSuccessful`, §3.20.21 `toolExecutionNotifications`), so that a CI step
    /// uploading the file gets a valid log that says why it holds nothing.
    static func render(failure error: any Error) throws -> String {
        let location = (error as? ScenarioError).map { error in
            Location(
                physicalLocation: PhysicalLocation(
                    artifactLocation: ArtifactLocation(uri: uri(error.location.file)),
                    region: Region(startLine: max(error.location.line, 1), startColumn: max(error.location.column, 1))))
        }
        // An error printed before (an exit code) says only that the input is invalid.
        let message =
            (error as? ScenarioError)?.message
            ?? (error is ExitCode ? "the input is invalid (the messages on standard error say why)" : "\(error)")
        let notification = Notification(level: "error", message: Text(text: message), locations: location.map { [$0] })
        let run = Run(
            tool: tool, results: [], invocations: [Invocation(executionSuccessful: false, toolExecutionNotifications: [notification])])
        return try encode(Log(schema: schema, version: "2.1.0", runs: [run]))
    }

    /// The `keycard` driver with every rule of `LintRule.all`.
    static var tool: Tool {
        Tool(
            driver: Driver(
                name: "keycard", version: KeycardCommand.version,
                informationUri: "https://kubernetes.io/docs/concepts/services-networking/network-policies/",
                rules: LintRule.all.map { rule in
                    Rule(
                        id: rule.id, name: rule.id, shortDescription: Text(text: rule.summary),
                        fullDescription: Text(text: rule.summary), help: Text(text: rule.help),
                        defaultConfiguration: Configuration(level: rule.severity.rawValue),
                        properties: RuleProperties(aliases: rule.aliases, tags: ["kubernetes", "networkpolicy"]))
                }))
    }

    static func encode(_ log: Log) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(log), as: UTF8.self)
    }

    /// A relative or absolute path as a URI reference (SARIF §3.4.3): percent-encoded, and an
    /// absolute path with the `file://` scheme.
    static func uri(_ path: String) -> String {
        let encoded = path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path
        return path.hasPrefix("/") ? "file://" + encoded : encoded
    }

    struct Log: Encodable {
        var schema: String
        var version: String
        var runs: [Run]
        enum CodingKeys: String, CodingKey {
            case schema = "$schema"
            case version, runs
        }
    }
    /// `columnKind` (§3.14.27): keycard's columns count Unicode code points (libyaml's marks, which
    /// Yams reports 1-based), not UTF-16 code units; SARIF has no default, so it is stated.
    struct Run: Encodable {
        var tool: Tool
        var results: [Result]
        var columnKind = "unicodeCodePoints"
        /// Only for a lint that failed: a successful log stays as it always was.
        var invocations: [Invocation]? = nil
    }
    struct Invocation: Encodable {
        var executionSuccessful: Bool
        var toolExecutionNotifications: [Notification]
    }
    struct Notification: Encodable {
        var level: String
        var message: Text
        var locations: [Location]?
    }
    struct Tool: Encodable { var driver: Driver }
    struct Driver: Encodable {
        var name: String
        /// The tool's release, so code scanning tells keycard's versions apart.
        var version: String
        var informationUri: String
        var rules: [Rule]
    }
    struct Rule: Encodable {
        var id: String
        var name: String
        var shortDescription: Text
        var fullDescription: Text
        var help: Text
        var defaultConfiguration: Configuration
        var properties: RuleProperties
    }
    struct Text: Encodable { var text: String }
    struct Configuration: Encodable { var level: String }
    struct RuleProperties: Encodable {
        var aliases: [String]
        var tags: [String]
    }
    struct Result: Encodable {
        var ruleId: String
        var ruleIndex: Int
        var level: String
        var message: Text
        var locations: [Location]
        var properties: ResultProperties
    }
    struct Location: Encodable { var physicalLocation: PhysicalLocation }
    struct PhysicalLocation: Encodable {
        var artifactLocation: ArtifactLocation
        var region: Region
    }
    struct ArtifactLocation: Encodable { var uri: String }
    struct Region: Encodable {
        var startLine: Int
        var startColumn: Int
    }
    struct ResultProperties: Encodable {
        var object: String?
        var state: String
    }
}
