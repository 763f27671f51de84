import CNetfilter
import Glibc

/// A NETLINK_ROUTE socket bound to one network namespace (the one it was opened in), applying
/// batches of requests and checking the acknowledgement of every single one.
public final class RtnetlinkSocket: @unchecked Sendable {
    private let socket: OpaquePointer
    private let portID: UInt32
    private var sequence: UInt32 = 1
    /// Label for errors: the namespace the socket lives in.
    public let namespaceLabel: String

    /// Requests per sendmsg: each ACK occupies receive-buffer space until read, so a batch stays
    /// well under the socket's receive buffer.
    static let batchLimit = 64

    /// Opens a socket in the calling thread's current namespace.
    public init(label: String = "current namespace") throws(KernelError) {
        guard let socket = mnl_socket_open(NETLINK_ROUTE) else {
            throw KernelError("mnl_socket_open NETLINK_ROUTE", subject: label, errno: errno)
        }
        if mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID)) < 0 {
            let code = errno
            mnl_socket_close(socket)
            throw KernelError("mnl_socket_bind", subject: label, errno: code)
        }
        var one: Int32 = 1
        // Short ACKs (no echo of the request) and the kernel's explanation string on errors.
        _ = mnl_socket_setsockopt(socket, NETLINK_CAP_ACK, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = mnl_socket_setsockopt(socket, NETLINK_EXT_ACK, &one, socklen_t(MemoryLayout<Int32>.size))
        self.socket = socket
        self.portID = mnl_socket_get_portid(socket)
        self.namespaceLabel = label
    }

    /// Opens a socket inside /run/netns/`name`; it stays bound there after the thread returns.
    public static func open(inNamespace name: String) throws(KernelError) -> RtnetlinkSocket {
        do {
            return try NetworkNamespace.perform(in: name) { try RtnetlinkSocket(label: name) }
        } catch let error as KernelError {
            throw error
        } catch {
            throw KernelError("open rtnetlink socket", subject: name, errno: EIO)
        }
    }

    deinit { mnl_socket_close(socket) }

    /// Sends `requests` in order (batched) and waits for each ACK; the first NLMSG_ERROR becomes
    /// a `KernelError` naming the request. Requests after a failed one in the same batch may have
    /// been applied: rtnetlink has no transactions.
    public func apply(_ requests: [RtnetlinkRequest]) throws(KernelError) {
        var start = 0
        while start < requests.count {
            let end = min(start + Self.batchLimit, requests.count)
            try applyBatch(requests[start..<end])
            start = end
        }
    }

    private func applyBatch(_ requests: ArraySlice<RtnetlinkRequest>) throws(KernelError) {
        let capacity = requests.count * RtnetlinkMessage.maximumSize
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: capacity)
        var pending: [UInt32: RtnetlinkRequest] = [:]
        var offset = 0
        for request in requests {
            let seq = sequence
            sequence &+= 1
            offset += RtnetlinkMessage.build(request, sequence: seq, at: buffer + offset)
            pending[seq] = request
        }
        let sent = mnl_socket_sendto(socket, buffer, offset)
        if sent < 0 { throw KernelError("sendto rtnetlink", subject: namespaceLabel, errno: errno) }
        try collectAcks(&pending)
    }

    private func collectAcks(_ pending: inout [UInt32: RtnetlinkRequest]) throws(KernelError) {
        let size = 32768
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        defer { buffer.deallocate() }
        var firstError: KernelError?
        while !pending.isEmpty {
            let received = mnl_socket_recvfrom(socket, buffer, size)
            if received < 0 {
                if errno == EINTR { continue }
                throw KernelError("recvfrom rtnetlink", subject: namespaceLabel, errno: errno)
            }
            var remaining = Int32(received)
            var message: UnsafePointer<nlmsghdr>? = UnsafePointer(buffer.assumingMemoryBound(to: nlmsghdr.self))
            while let nlh = message, mnl_nlmsg_ok(nlh, remaining) {
                if nlh.pointee.nlmsg_type == UInt16(NLMSG_ERROR),
                    let request = pending.removeValue(forKey: nlh.pointee.nlmsg_seq)
                {
                    let error = Self.errorCode(nlh)
                    if error != 0, firstError == nil {
                        let detail = Self.extendedMessage(nlh).map { " (\($0))" } ?? ""
                        firstError = KernelError(
                            request.operation, subject: "\(request.subject) in \(namespaceLabel)\(detail)", errno: error)
                    }
                }
                message = UnsafePointer(mnl_nlmsg_next(nlh, &remaining))
            }
        }
        if let firstError { throw firstError }
    }

    /// The positive errno of an NLMSG_ERROR (0 for an ACK).
    private static func errorCode(_ nlh: UnsafePointer<nlmsghdr>) -> Int32 {
        guard let payload = mnl_nlmsg_get_payload(nlh) else { return EPROTO }
        return -payload.assumingMemoryBound(to: nlmsgerr.self).pointee.error
    }

    /// NLMSGERR_ATTR_MSG: the kernel's one-line reason, when NETLINK_EXT_ACK added one.
    private static func extendedMessage(_ nlh: UnsafePointer<nlmsghdr>) -> String? {
        guard nlh.pointee.nlmsg_flags & UInt16(NLM_F_ACK_TLVS) != 0 else { return nil }
        // With NETLINK_CAP_ACK the echoed request is only its header, so TLVs follow nlmsgerr.
        guard let payload = mnl_nlmsg_get_payload(nlh) else { return nil }
        let headerLength = MemoryLayout<nlmsghdr>.size
        let tlvStart = MemoryLayout<nlmsgerr>.size
        var remaining = Int32(Int(nlh.pointee.nlmsg_len) - headerLength - tlvStart)
        var attribute: UnsafePointer<nlattr>? = UnsafePointer((payload + tlvStart).assumingMemoryBound(to: nlattr.self))
        while let attr = attribute, remaining > 0, mnl_attr_ok(attr, remaining) {
            if mnl_attr_get_type(attr) == UInt16(NLMSGERR_ATTR_MSG.rawValue), let text = mnl_attr_get_str(attr) {
                return String(cString: text)
            }
            attribute = UnsafePointer(mnl_attr_next(attr))
            remaining -= Int32(mnl_attr_get_len(attr))
        }
        return nil
    }
}
