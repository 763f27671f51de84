/// What a client-first lab server answers (the mesh's lab, spec mesh.md 2.2 and R41): it reads the
/// client's request first, then answers the pod's line — as an HTTP/1.1 `200` when the request is
/// HTTP, as "<line>\n" otherwise.
enum ClientFirstReply {
    /// The bytes a request needs before it can be answered: a line (TCP probe) or a whole head
    /// (HTTP). nil: wait for more.
    /// - Parameter ended: the client closed its side (EOF): answer whatever came.
    static func reply(to received: [UInt8], line: String, ended: Bool) -> [UInt8]? {
        if isHTTP(received) {
            guard ended || containsHeadEnd(received) else { return nil }
            let body = Array("\(line)\n".utf8)
            let head =
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
            return Array(head.utf8) + body
        }
        guard ended || received.contains(UInt8(ascii: "\n")) else { return nil }
        return Array("\(line)\n".utf8)
    }

    /// An HTTP/1.x request line so far: a token of capitals (the method) and a space.
    static func isHTTP(_ bytes: [UInt8]) -> Bool {
        guard let space = bytes.prefix(16).firstIndex(of: UInt8(ascii: " ")), space > 0 else { return false }
        return bytes[..<space].allSatisfy { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
    }

    private static func containsHeadEnd(_ bytes: [UInt8]) -> Bool {
        let end: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4 else { return false }
        for start in 0...(bytes.count - 4) where bytes[start..<start + 4].elementsEqual(end) { return true }
        return false
    }
}
