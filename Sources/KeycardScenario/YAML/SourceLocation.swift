import KeycardValues

/// Where something was written: file, line and column (1-based).
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    /// The start of `file` (line 1, column 1): where a message about the whole file points.
    public static func start(of file: String) -> SourceLocation { SourceLocation(file: file, line: 1, column: 1) }

    public var description: String { "\(file):\(line):\(column)" }
}

/// Invalid input: where, and what is wrong (and what was expected).
public struct ScenarioError: Error, Hashable, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    /// A message longer than `maximumLength` characters (it quotes a huge bad value, say) keeps
    /// its start and says how long it was: a 1 MB label value must not make a 1 MB error line.
    public init(_ location: SourceLocation, _ message: String) {
        self.location = location
        self.message =
            message.count <= Self.maximumLength
            ? message : "\(message.prefix(Self.maximumLength / 2))… (\(message.count) characters, cut)"
    }

    /// Characters a message keeps whole.
    public static let maximumLength = 2_000

    /// `file:line:col: message`, the form editors and CI annotate: one line, a tab or line feed
    /// the message quotes (a name holding one) escaped as other controls are.
    public var description: String { "\(location): \(TerminalText.escapingControls(message, keepingLineBreaks: false))" }
}

/// Something worth saying that does not make the input invalid (an unknown kind, say).
public struct ScenarioWarning: Hashable, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    /// A message longer than `ScenarioError.maximumLength` is cut as an error's is.
    public init(location: SourceLocation, message: String) {
        self.location = location
        self.message = ScenarioError(location, message).message
    }

    public var description: String { "\(location): warning: \(TerminalText.escapingControls(message, keepingLineBreaks: false))" }
}
