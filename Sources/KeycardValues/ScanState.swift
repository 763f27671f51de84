/// What a TCP connect scan finds at one address and port, from the kernel's answer up to reports.
public enum ScanState: String, Codable, Sendable, Hashable {
    /// The handshake completed.
    case open
    /// RST or ICMP port-unreachable: the network let it through, nothing listens.
    case closed
    /// Nothing within the timeout, or another ICMP error: a drop.
    case filtered
}
