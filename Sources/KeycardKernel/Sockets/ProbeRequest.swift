import Glibc
import KeycardValues

/// One connection attempt: from a source namespace to destination:port/proto.
public struct ProbeRequest: Sendable, Hashable, CustomStringConvertible {
    /// Namespace name under /run/netns the probe socket is created in.
    public var sourceNamespace: String
    public var destination: IPv4
    public var proto: TransportProtocol
    public var port: UInt16
    /// TCP only: the handshake is the answer, no line is awaited (a real program such as
    /// redis-server serves the port, and it says nothing first).
    public var handshakeOnly: Bool
    /// The local port to bind before connecting (a Service probe aims at one backend by the source
    /// port the proxy hashes); nil: an ephemeral port. Such a socket closes with RST (SO_LINGER 0),
    /// so that the same 4-tuple can be probed again at once.
    public var sourcePort: UInt16?
    /// TCP: bytes sent once connected (a line, or an HTTP request): a lab with the mesh is
    /// client-first (spec mesh.md R41). Empty: the client sends nothing. UDP: the datagram sent
    /// (a DNS query to the lab's DNS server, `DNSQuery.message`); empty: keycard's echoed line.
    public var payload: [UInt8] = []
    /// TCP: a connection that ends (EOF or reset) before a byte of answer is `unanswered`, not
    /// allowed: behind a mesh proxy the handshake proves nothing (the proxy accepts it).
    public var answerRequired = false
    /// TCP: read until the server closes (an HTTP response), not only the first line.
    public var readsToEnd = false
    /// SO_MARK of the socket: `MeshDataPath.bypassMark` escapes the mesh's capture (identity `none`).
    public var mark: UInt32?
    /// Where the kernel will send the probe after Service translation (backend address and target
    /// port): a drop logged after DNAT names this destination, so it settles the probe too.
    public var translated: (address: IPv4, port: UInt16)? {
        get { translatedAddress.map { ($0, translatedPort ?? port) } }
        set {
            translatedAddress = newValue?.address
            translatedPort = newValue?.port
        }
    }
    private var translatedAddress: IPv4?
    private var translatedPort: UInt16?
    /// The source address the packet carries after the translation when the entry node also
    /// source-NATs it (a node port or load balancer with externalTrafficPolicy Cluster to another
    /// node's endpoint: the node's address, `ExposedPath.sourceNAT`): the backend's drop is logged
    /// from that address (with the source port kept, as the NAT keeps a unique one), so that flow
    /// settles the probe too. Nil: the packet keeps the socket's own address.
    public var sourceNAT: IPv4?

    public init(
        sourceNamespace: String, destination: IPv4, proto: TransportProtocol, port: UInt16, handshakeOnly: Bool = false,
        sourcePort: UInt16? = nil
    ) {
        self.sourceNamespace = sourceNamespace
        self.destination = destination
        self.proto = proto
        self.port = port
        self.handshakeOnly = handshakeOnly
        self.sourcePort = sourcePort
    }

    public var description: String { "\(sourceNamespace) -> \(destination):\(port)/\(proto)" }
}

/// Why a probe counts as denied.
public enum DenyReason: Sendable, Hashable, CustomStringConvertible {
    /// Nothing came back before the wave's deadline (a drop).
    case timeout
    /// An error other than a refusal: ICMP admin-prohibited or host-unreachable (EHOSTUNREACH),
    /// net-unreachable or no route (ENETUNREACH), a local output drop (EPERM).
    case socketError(errno: Int32)
    /// The kernel logged dropping the probe's packet (NFLOG evidence), with the log statement's prefix.
    case dropLogged(String)

    public var description: String {
        switch self {
        case .timeout: "timeout"
        case .socketError(let code): "\(String(cString: strerror(code))) (errno \(code))"
        case .dropLogged(let prefix): "dropped: \(prefix)"
        }
    }
}

/// What a probe saw.
public enum ProbeVerdict: Sendable, Hashable, CustomStringConvertible {
    /// TCP: handshake done and the server's line read (empty if it sent none); UDP: an answer came back.
    case allow(line: String)
    /// Refused: TCP RST, or ICMP port-unreachable (ECONNREFUSED), TCP and UDP alike.
    case closed
    /// TCP with `answerRequired`: connected, then closed (EOF, or reset when `reset`) before any
    /// byte came back — what a client of a refusing mesh proxy sees; the proxy's record says why.
    case unanswered(reset: Bool)
    case deny(DenyReason)
    /// Not attempted, with why (SCTP: the kernel has none).
    case skipped(String)

    public var description: String {
        switch self {
        case .allow(let line): "allow(\(line))"
        case .closed: "closed"
        case .unanswered(let reset): reset ? "unanswered(reset)" : "unanswered(eof)"
        case .deny(let reason): "deny(\(reason))"
        case .skipped(let reason): "skipped(\(reason))"
        }
    }

    public var isDeny: Bool {
        if case .deny = self { return true }
        return false
    }
}

/// A probe's final verdict and how many waves it took part in (1 + retries used).
public struct ProbeOutcome: Sendable, Hashable, CustomStringConvertible {
    public var verdict: ProbeVerdict
    public var attempts: Int

    public var description: String { "\(verdict) after \(attempts)" }
}
