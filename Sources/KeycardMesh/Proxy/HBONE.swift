import KeycardValues
import NIOCore

/// The lab's HBONE tunnel request: after the mutual TLS handshake on the destination pod's port
/// 15008, the client names the original destination in one `CONNECT <address>:<port> HTTP/1.1`
/// request head, then the application's bytes follow. Istio's HBONE is an HTTP/2 CONNECT stream
/// (https://istio.io/latest/docs/ambient/architecture/hbone/); the lab writes the same request as
/// HTTP/1.1 and sends no response, because what the network and the checks see does not depend on
/// the framing: a TCP connection to 15008, mutual TLS, then the original port.
enum HBONE {
    /// The longest request head accepted.
    static let maximumSize = 256

    /// `CONNECT 10.0.0.5:8080 HTTP/1.1\r\n\r\n`.
    static func connectRequest(_ address: IPv4, _ port: UInt16) -> String {
        "CONNECT \(address):\(port) HTTP/1.1\r\n\r\n"
    }

    /// What a buffer starting with a tunnel request holds.
    enum Parsed: Equatable {
        case incomplete
        case malformed
        /// The destination and the length of the head (to drop from the buffer).
        case request(address: IPv4, port: UInt16, length: Int)
    }

    /// Parses the request head at the start of `buffer` (not consumed).
    static func parse(_ buffer: ByteBuffer) -> Parsed {
        let bytes = Array(buffer.readableBytesView.prefix(maximumSize))
        guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else {
            return buffer.readableBytes >= maximumSize ? .malformed : .incomplete
        }
        let line = String(decoding: bytes[..<end.lowerBound], as: UTF8.self)
        let words = line.split(separator: " ")
        guard words.count == 3, words[0] == "CONNECT", words[2] == "HTTP/1.1" else { return .malformed }
        let target = words[1].split(separator: ":")
        guard target.count == 2, let address = IPv4(String(target[0])), let port = UInt16(target[1]), port > 0 else {
            return .malformed
        }
        return .request(address: address, port: port, length: end.upperBound)
    }
}
