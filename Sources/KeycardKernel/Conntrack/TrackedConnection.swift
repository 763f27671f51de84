import KeycardValues

/// A connection conntrack confirmed: its original tuple (as the first packet left its source) and
/// the reply tuple, whose source is where the connection really goes after a destination NAT (a
/// Service's ClusterIP translated to a backend).
public struct TrackedConnection: Sendable, Hashable, CustomStringConvertible {
    public var original: PacketFlow
    /// Nil when the event carried none.
    public var reply: PacketFlow?

    /// The original flow with the destination it was translated to (the reply's source), if any.
    public var delivered: PacketFlow {
        guard let reply else { return original }
        var flow = original
        flow.destination = reply.source
        flow.destinationPort = reply.sourcePort ?? original.destinationPort
        return flow
    }

    public var description: String {
        delivered == original ? original.description : "\(original) (to \(delivered.destination):\(delivered.destinationPort ?? 0))"
    }
}
