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
    /// True when the pod's resolver asks over TCP/53 (`use-vc`); nil for UDP/53.
    public var overTCP: Bool?
    /// True when cluster DNS's answer does not fit the resolver's UDP limit (512 bytes, 1200 with
    /// `edns0`): the UDP answer comes back truncated (TC) and glibc asks again over TCP/53, so the
    /// query needs both ports (`Timeline.dnsTruncated`); nil otherwise.
    public var truncated: Bool?
    /// How long the query took, in milliseconds.
    public var milliseconds: Int?
    /// Audit mode: the policies that would block the query (see `RuleAttribution`).
    public var rule: String?
    /// Audit mode: `would-deny` when enforcement would have blocked it.
    public var audit: String?
    /// Why the query is judged neither by the model nor in the lab (nil: judged): its name is
    /// answered from endpoints keycard does not read (`Timeline.dnsUnjudgedReason`). `run` sends
    /// nothing, and any expectation passes.
    public var reason: String?

    /// Passes when the expectation agrees with the model and, once observed, the real answer
    /// equals it; an unjudged query (`reason`) always passes.
    public var passed: Bool {
        guard reason == nil else { return true }
        guard expected == model else { return false }
        guard let observed else { return true }
        return observed == expected
    }
}
