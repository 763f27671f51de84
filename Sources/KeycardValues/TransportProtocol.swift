/// The three protocols a NetworkPolicy or container port can name (`Protocol` in the Kubernetes API:
/// TCP, UDP, SCTP, case-sensitive), matched distinctly, and ICMP, which only a probe names (an echo
/// request, `ICMP` in a probe's ports; no Kubernetes object can: `isKubernetes`). The one protocol
/// type of keycard.
public enum TransportProtocol: String, Hashable, Sendable, Codable, CaseIterable, Comparable {
    case tcp = "TCP"
    case udp = "UDP"
    case sctp = "SCTP"
    /// ICMP echo, probes only: the NetworkPolicy API defines no ICMP, and what a policy does to it is
    /// left to the network plugin (docs/kubernetes-fidelity.md).
    case icmp = "ICMP"

    /// The IP protocol number (6, 17, 132; ICMP 1).
    public var number: UInt8 {
        switch self {
        case .tcp: 6
        case .udp: 17
        case .sctp: 132
        case .icmp: 1
        }
    }

    /// Whether a Kubernetes object may name it (`Protocol`: TCP, UDP, SCTP).
    public var isKubernetes: Bool { self != .icmp }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.number < rhs.number }

    /// Lower case, as nft and socket code write it (`tcp`).
    public var lowercased: String { rawValue.lowercased() }

    /// Decodes `TCP` and also `tcp`, the form lab state files used before protocols had one type.
    /// Manifests are not read through here: there the API's case-sensitive names are the rule.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let proto = TransportProtocol(rawValue: text.uppercased()) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not TCP, UDP, SCTP or ICMP: \(text)")
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

    /// The port numbers a TCP, UDP or SCTP port may have: 1 to 65535 (apimachinery validation
    /// `IsValidPortNum`, which `ValidateNetworkPolicyPort` applies to a NetworkPolicy's ports).
    public static let numbers = 1...65535

    /// An ICMP echo probe (`ICMP`): ICMP has no ports; the number is 0.
    public static let icmpEcho = ProtocolPort(.icmp, 0)

    /// Parses `TCP/80`, `UDP/53`, `SCTP/9` and `ICMP` (an echo probe); protocol names are upper
    /// case as in Kubernetes.
    public static func parse(_ text: String) -> ProtocolPort? {
        if text == TransportProtocol.icmp.rawValue { return icmpEcho }
        let pieces = text.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count == 2, let proto = TransportProtocol(rawValue: String(pieces[0])), proto.isKubernetes,
            pieces[1].allSatisfy({ $0.isASCII && $0.isNumber }), pieces[1].count <= 5,
            let port = Int(pieces[1]), numbers.contains(port)
        else { return nil }
        return ProtocolPort(proto, port)
    }

    public var description: String { proto == .icmp ? proto.rawValue : "\(proto.rawValue)/\(port)" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.proto, lhs.port) < (rhs.proto, rhs.port)
    }
}
