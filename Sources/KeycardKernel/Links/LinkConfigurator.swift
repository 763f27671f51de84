import CNetfilter
import Glibc

/// Applies `LinkRequest`s to one network namespace over a NETLINK_ROUTE transport (a socket opened
/// inside that namespace, or a recording double), checking the acknowledgement of every request.
/// Not thread-safe: use one configurator from one thread at a time (bring-up gives each namespace
/// its own).
public final class LinkConfigurator: @unchecked Sendable {
    let transport: any NetlinkTransport
    private var sequence: UInt32

    /// Requests per datagram: each ack occupies receive-buffer space until read, so a datagram
    /// stays well under the socket's default receive buffer.
    static let batchLimit = 64

    /// The namespace (or transport) label used in errors.
    public var namespaceLabel: String { transport.label }

    /// Configures through `transport`; messages are numbered from `sequence`.
    public init(transport: any NetlinkTransport, sequence: UInt32 = 1) {
        self.transport = transport
        self.sequence = sequence
    }

    /// Opens a NETLINK_ROUTE socket inside /run/netns/`name` (checked to live there, never in the
    /// host's namespace); it stays bound there after the thread returns.
    public static func open(inNamespace name: String) throws(KernelError) -> LinkConfigurator {
        LinkConfigurator(transport: try NetlinkSocket.open(protocol: NETLINK_ROUTE, inNamespace: name))
    }

    /// Sends `requests` in order (up to `batchLimit` per datagram) and checks each ack; the first
    /// failure becomes a `KernelError` naming the request, the namespace and the kernel's reason.
    /// Requests after a failed one in the same datagram may have been applied: there are no
    /// transactions for links, addresses and routes.
    public func apply(_ requests: [LinkRequest]) throws(KernelError) {
        var start = 0
        while start < requests.count {
            let end = min(start + Self.batchLimit, requests.count)
            try applyBatch(requests[start..<end])
            start = end
        }
    }

    private func applyBatch(_ requests: ArraySlice<LinkRequest>) throws(KernelError) {
        var datagram: [UInt8] = []
        datagram.reserveCapacity(requests.count * 128)
        var sequences: [UInt32] = []
        for request in requests {
            try LibnlRouteMessages.append(request, sequence: sequence, to: &datagram)
            sequences.append(sequence)
            sequence &+= 1
        }
        let reply = try transport.exchange(datagram, expecting: sequences)
        if let (index, ack) = reply.firstFailure {
            let request = requests[requests.startIndex + index]
            let detail = ack.reason.map { " (\($0))" } ?? ""
            throw KernelError(request.operation, subject: "\(request.subject) in \(namespaceLabel)\(detail)", errno: ack.errno)
        }
        if reply.missing > 0 {
            throw KernelError("link configuration: missing acks", subject: "\(reply.missing) in \(namespaceLabel)", errno: EPROTO)
        }
    }
}
