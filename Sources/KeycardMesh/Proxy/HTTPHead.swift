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

    /// Parses what was read so far: a whole head, not yet, or bytes that are no HTTP/1.1 (a TLS
    /// ClientHello, say), which the decoder rejects at once as Envoy's codec does.
    static func parse(_ buffer: ByteBuffer) -> Parse {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(HTTPRequestDecoder()))
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        do {
            try channel.writeInbound(buffer)
            while let part = try channel.readInbound(as: HTTPServerRequestPart.self) {
                guard case .head(let head) = part else { continue }
                // Values as Envoy's codec keeps them (OWS stripped, HTTPRequest.fieldValue), one
                // name's values joined with "," in the order received (getAllOfHeaderAsString).
                var headers: [String: String] = [:]
                for (name, raw) in head.headers where name.lowercased() != "host" {
                    let value = HTTPRequest.fieldValue(raw)
                    headers[name.lowercased()] = headers[name.lowercased()].map { "\($0),\(value)" } ?? value
                }
                let host = head.headers.first(name: "host").map { HTTPRequest.fieldValue($0) }
                return .request(HTTPRequest(method: head.method.rawValue, path: head.uri, host: host, headers: headers))
            }
        } catch {
            return .malformed
        }
        return buffer.readableBytes > maximumSize ? .malformed : .incomplete
    }

    /// Envoy's RBAC denial on an HTTP port (R41): 403 with body `RBAC: access denied`.
    static let forbidden: String =
        "HTTP/1.1 403 Forbidden\r\ncontent-length: 19\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nRBAC: access denied"

    /// Envoy's answer to a head it cannot parse.
    static let badRequest: String = "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
}
