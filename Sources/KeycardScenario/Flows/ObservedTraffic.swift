import KeycardValues

/// One connection the kernel saw in a lab, as the flow log takes it (pure: `TrafficWatch` in
/// KeycardProbe reads the kernel). Forwarded: conntrack confirmed it in the namespace that judged
/// its last side (every hook there let its first packet through). Dropped: a default-deny rule
/// logged its packet (NFLOG, prefix `kc deny DIRECTION ns/pod`); retransmissions of the same
/// packet (same addresses and ports) are one connection, counted in `packets`.
public struct ObservedTraffic: Sendable, Hashable {
    public var source: IPv4
    /// The source port the kernel chose; nil for a protocol without ports.
    public var sourcePort: Int?
    /// Where the connection went: for a Service, the backend it was translated to (policies judge
    /// after translation).
    public var destination: IPv4
    public var port: ProtocolPort
    /// The deny rule's log prefix when the kernel dropped it; nil when it was forwarded.
    public var dropPrefix: String?
    /// True when keycard's prober made it, false for any other socket (a `command:` program, the
    /// lab's DNS server), nil when not known (`keycard observe` cannot see other processes' sockets).
    public var prober: Bool?
    /// Packets the kernel logged for it (a dropped TCP connect retransmits its SYN); 1 when forwarded.
    public var packets: Int
    /// The lab namespace whose kernel reported it.
    public var namespace: String

    public init(
        source: IPv4, sourcePort: Int?, destination: IPv4, port: ProtocolPort, dropPrefix: String?, prober: Bool?, packets: Int = 1,
        namespace: String
    ) {
        self.source = source
        self.sourcePort = sourcePort
        self.destination = destination
        self.port = port
        self.dropPrefix = dropPrefix
        self.prober = prober
        self.packets = packets
        self.namespace = namespace
    }
}
