import KeycardModel
import KeycardValues

/// A `dns` step: one real DNS query from a pod to the cluster DNS address, through the pod's
/// network (policies apply), with Kubernetes' search path.
public struct DNSStep: Sendable {
    public var from: ObjectKey
    /// The name as a program would ask for it: `web.x.svc.cluster.local`, or a short name that the
    /// search list completes (`<ns>.svc.cluster.local svc.cluster.local cluster.local`, ndots:5).
    public var name: String
    /// nil: what the model predicts.
    public var expect: DNSAnswer?

}

/// The outcome of a DNS query. Encoded as a list of addresses or the strings `nxdomain`, `blocked`
/// and (observed only) `failed: <reason>`.
public enum DNSAnswer: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The server answered with these A records (sorted).
    case addresses([IPv4])
    /// The server answered: no such name, or no A record (a CNAME whose target has no address, as
    /// an ExternalName Service pointing outside the cluster answers in the lab).
    case notFound
    /// No answer within the timeout: the query or its reply was dropped.
    case blocked
    /// Any other failure (a refusal, a server failure); never expected.
    case failed(String)

    /// The answer the model gives: `blocked` when policy denies the query, else the records.
    public static func model(allowed: Bool, addresses: [IPv4]) -> DNSAnswer {
        guard allowed else { return .blocked }
        return addresses.isEmpty ? .notFound : .addresses(addresses.sorted())
    }

    public var description: String {
        switch self {
        case .addresses(let list): "[" + list.map(\.description).joined(separator: ", ") + "]"
        case .notFound: "nxdomain"
        case .blocked: "blocked"
        case .failed(let reason): "failed: \(reason)"
        }
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let list = try? container.decode([IPv4].self) {
            self = .addresses(list)
            return
        }
        let text = try container.decode(String.self)
        switch text {
        case "nxdomain": self = .notFound
        case "blocked": self = .blocked
        default:
            guard text.hasPrefix("failed: ") else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a DNS answer: \(text)")
            }
            self = .failed(String(text.dropFirst(8)))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .addresses(let list): try container.encode(list)
        default: try container.encode(description)
        }
    }
}
