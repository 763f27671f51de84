/// The three protocols a NetworkPolicy or container port can name (`Protocol` in the Kubernetes API:
/// TCP, UDP, SCTP, case-sensitive); they are matched distinctly. The one protocol type of keycard.
public enum TransportProtocol: String, Hashable, Sendable, Codable, CaseIterable, Comparable {
    case tcp = "TCP"
    case udp = "UDP"
    case sctp = "SCTP"

    /// The IP protocol number (6, 17, 132).
    public var number: UInt8 {
        switch self {
        case .tcp: 6
        case .udp: 17
        case .sctp: 132
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.number < rhs.number }

    /// Lower case, as nft and socket code write it (`tcp`).
    public var lowercased: String { rawValue.lowercased() }

    /// Decodes `TCP` and also `tcp`, the form lab state files used before protocols had one type.
    /// Manifests are not read through here: there the API's case-sensitive names are the rule.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let proto = TransportProtocol(rawValue: text.uppercased()) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not TCP, UDP or SCTP: \(text)")
        }
        self = proto
    }
}

/// A protocol and a port number, written `TCP/80` in scenarios.
public struct ProtocolPort: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var proto: TransportProtocol
    public var port: Int

    public init(_ proto: TransportProtocol, _ port: Int) {
        self.proto = proto
        self.port = port
    }

    /// Parses `TCP/80`, `UDP/53`, `SCTP/9`; protocol names are upper case as in Kubernetes.
    public static func parse(_ text: String) -> ProtocolPort? {
        let pieces = text.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count == 2, let proto = TransportProtocol(rawValue: String(pieces[0])),
            pieces[1].allSatisfy({ $0.isASCII && $0.isNumber }), pieces[1].count <= 5,
            let port = Int(pieces[1]), (1...65535).contains(port)
        else { return nil }
        return ProtocolPort(proto, port)
    }

    public var description: String { "\(proto.rawValue)/\(port)" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.proto, lhs.port) < (rhs.proto, rhs.port)
    }
}
