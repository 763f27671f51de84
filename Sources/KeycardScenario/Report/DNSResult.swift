import KeycardModel
import KeycardValues

/// One `dns` step's query: who asked, what, of which server, and the answers (`expected` is the
/// file's expectation or the model's, `model` the model's, `observed` what the real server said).
public struct DNSResult: Codable, Sendable, Equatable {
    public var from: ObjectKey
    public var name: String
    /// The address the query went to.
    public var server: IPv4
    public var expected: DNSAnswer
    public var model: DNSAnswer
    public var observed: DNSAnswer?
    /// How long the query took, in milliseconds.
    public var milliseconds: Int?

    public init(
        from: ObjectKey, name: String, server: IPv4, expected: DNSAnswer, model: DNSAnswer, observed: DNSAnswer? = nil,
        milliseconds: Int? = nil
    ) {
        self.from = from
        self.name = name
        self.server = server
        self.expected = expected
        self.model = model
        self.observed = observed
        self.milliseconds = milliseconds
    }

    /// Passes when the expectation agrees with the model and, once observed, the real answer
    /// equals it.
    public var passed: Bool {
        guard expected == model else { return false }
        guard let observed else { return true }
        return observed == expected
    }
}
