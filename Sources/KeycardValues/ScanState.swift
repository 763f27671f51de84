/// What a TCP connect scan finds at one address and port, from the kernel's answer up to reports.
public enum ScanState: String, Codable, Sendable, Hashable {
    /// The handshake completed.
    case open
    /// RST or ICMP port-unreachable: the network let it through, nothing listens.
    case closed
    /// Nothing within the timeout, or another ICMP error: a drop.
    case filtered
    /// A meshed destination's proxy accepted the handshake, then refused (mutual TLS or an
    /// AuthorizationPolicy, spec mesh.md 2.7): the application's first line never came back.
    case refused
}
