import KeycardModel
import NIOCore
import NIOEmbedded
import NIOHTTP1

/// The request head the inbound proxy reads on an HTTP port before authorizing (spec mesh.md
/// R37–R47), parsed with NIOHTTP1's decoder; the raw bytes are kept and forwarded unchanged.
enum HTTPHead {
    /// Envoy's default `max_request_headers_kb` is 60.
    static let maximumSize = 60 * 1024

    enum Parse {
        /// More bytes are needed.
        case incomplete
        case request(HTTPRequest)
        case malformed
    }

    /// Parses `buffer` once it holds a whole head (`\r\n\r\n`).
    static func parse(_ buffer: ByteBuffer) -> Parse {
        let view = buffer.readableBytesView
        guard view.firstRange(of: [13, 10, 13, 10]) != nil else {
            return buffer.readableBytes > maximumSize ? .malformed : .incomplete
        }
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(HTTPRequestDecoder()))
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        do {
            try channel.writeInbound(buffer)
            while let part = try channel.readInbound(as: HTTPServerRequestPart.self) {
                guard case .head(let head) = part else { continue }
                var headers: [String: String] = [:]
                for (name, value) in head.headers where name.lowercased() != "host" {
                    headers[name.lowercased()] = headers[name.lowercased()].map { "\($0),\(value)" } ?? value
                }
                return .request(
                    HTTPRequest(method: head.method.rawValue, path: head.uri, host: head.headers.first(name: "host"), headers: headers))
            }
        } catch {
            return .malformed
        }
        return .incomplete
    }

    /// Envoy's RBAC denial on an HTTP port (R41): 403 with body `RBAC: access denied`.
    static let forbidden: String =
        "HTTP/1.1 403 Forbidden\r\ncontent-length: 19\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nRBAC: access denied"

    /// Envoy's answer to a head it cannot parse.
    static let badRequest: String = "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
}
