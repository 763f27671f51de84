/// One thing `keycard lint` found: which rule, where (file, 1-based line and column of the YAML
/// node at fault), what, and from which point of the scenario on it holds.
public struct LintFinding: Hashable, Sendable, Codable {
    public var rule: String
    public var severity: LintSeverity
    public var message: String
    public var file: String
    public var line: Int
    public var column: Int
    /// The object at fault, as `Kind namespace/name`.
    public var object: String?
    /// When it first holds: `resources`, or `after step N (name)` in a scenario with steps.
    public var state: String

    public init(rule: LintRule, message: String, at location: SourceLocation, object: String?, state: String) {
        self.rule = rule.id
        self.severity = rule.severity
        self.message = message
        self.file = location.file
        self.line = location.line
        self.column = location.column
        self.object = object
        self.state = state
    }

    public var location: SourceLocation { SourceLocation(file: file, line: line, column: column) }
}

/// What `keycard lint` reports for its inputs: the findings in file order, and the rules.
public struct LintReport: Sendable, Codable {
    /// The files or folders linted, as given.
    public var inputs: [String]
    public var findings: [LintFinding]

    public init(inputs: [String], findings: [LintFinding]) {
        self.inputs = inputs
        self.findings = findings
    }

    /// Whether some finding is at or above `threshold` (`--fail-on`).
    public func fails(at threshold: LintSeverity) -> Bool { findings.contains { $0.severity >= threshold } }
}
