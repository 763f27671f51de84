/// The transport protocols a pod can declare on a port.
public enum SocketProtocol: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case tcp
    case udp
    case sctp

    public var description: String { rawValue }
}
