import KeycardModel
import NIOCore
import Testing

@testable import KeycardMesh

/// The lab proxy's request parser must read every method keycard lets a probe send, and refuse
/// the ones Envoy refuses, or the lab and the model part ways (keycard review D4).
@Suite("Mesh proxy: request methods")
struct HTTPHeadMethodTests {
    static func head(_ method: String) -> ByteBuffer {
        ByteBuffer(string: "\(method) / HTTP/1.1\r\nHost: api.prod:9090\r\nConnection: close\r\n\r\n")
    }

    @Test("every method a probe may send is parsed", arguments: HTTPRequest.envoyMethods.sorted())
    func probeMethodsParse(_ method: String) {
        guard HTTPRequest.unsupportedMethodReason(method) == nil else { return }
        guard case .request(let request) = HTTPHead.parse(Self.head(method)) else {
            Issue.record("\(method) is not parsed by the lab proxy")
            return
        }
        #expect(request.method == method)
    }

    @Test(
        "methods Envoy refuses are refused by the model's rule",
        arguments: ["FOO", "get", "Get", "M-SEARCH", "QUERY", "CONNECT", "MSEARCH"])
    func refusedMethods(_ method: String) {
        #expect(HTTPRequest.unsupportedMethodReason(method) != nil)
    }
}
