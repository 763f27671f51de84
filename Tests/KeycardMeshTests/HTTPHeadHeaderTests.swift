import KeycardModel
import NIOCore
import Testing

@testable import KeycardMesh

/// The lab proxy and the model read a header value alike: without the optional whitespace around it
/// (RFC 9112 5; Envoy's codec_impl.cc), one name's values joined with "," (getAllOfHeaderAsString).
@Suite("Mesh proxy: request header values")
struct HTTPHeadHeaderTests {
    /// The head the prober writes for `lines` (MeshProbing.httpRequest writes `name: value`).
    static func head(_ lines: [(String, String)]) -> ByteBuffer {
        let fields = lines.map { "\($0.0): \($0.1)\r\n" }.joined()
        return ByteBuffer(string: "GET / HTTP/1.1\r\nHost: api.prod:9090\r\n\(fields)Connection: close\r\n\r\n")
    }

    @Test("OWS is not part of a field value", arguments: [" 1", "1 ", "\t1\t", "  1 \t ", "1"])
    func valuesAreTrimmed(_ raw: String) {
        #expect(HTTPRequest.fieldValue(raw) == "1")
        guard case .request(let request) = HTTPHead.parse(Self.head([("x-evil", raw)])) else {
            Issue.record("not parsed")
            return
        }
        #expect(request.headers["x-evil"] == "1")
        // The model reads the probe's own value the same way.
        let model = AuthorizationAttributes(
            principal: nil, sourceIP: nil, destinationIP: nil, port: 9090, http: HTTPRequest(headers: ["x-evil": raw]))
        #expect(model.requestHeader("x-evil") == .known("1"))
    }

    @Test("inner whitespace stays; all-whitespace is the empty value")
    func innerAndEmpty() {
        #expect(HTTPRequest.fieldValue(" a \t b ") == "a \t b")
        #expect(HTTPRequest.fieldValue(" \t ") == "")
        #expect(HTTPRequest.fieldValue("") == "")
    }

    /// Names differing in case are one header: the lab proxy joins its values in the order sent,
    /// and the model, given such a request, joins them in the order the prober sends them
    /// (`headerLines`), never in a Dictionary's order.
    @Test("one name twice is joined, in the order sent")
    func sameNameJoined() {
        let http = HTTPRequest(headers: ["x-evil": "2", "X-Evil": "1"])
        #expect(http.headerLines.map(\.name) == ["X-Evil", "x-evil"])
        guard case .request(let parsed) = HTTPHead.parse(Self.head(http.headerLines.map { ($0.name, $0.value) })) else {
            Issue.record("not parsed")
            return
        }
        #expect(parsed.headers["x-evil"] == "1,2")
        let model = AuthorizationAttributes(principal: nil, sourceIP: nil, destinationIP: nil, port: 9090, http: http)
        #expect(model.requestHeader("X-EVIL") == .known("1,2"))
    }

    /// The prober names itself in User-Agent unless the probe sets one: the request holds one
    /// User-Agent line either way, and the model reads the value the proxy receives.
    @Test("one User-Agent: the prober's unless the probe sets its own")
    func userAgentIsTheProbersOrTheProbes() {
        for (headers, expected) in [([:], HTTPRequest.userAgent), (["user-agent": "curl/8"], "curl/8")] {
            let http = HTTPRequest(headers: headers).asSentByProber
            #expect(http.headerLines.filter { $0.name.lowercased() == "user-agent" }.count == 1)
            guard case .request(let parsed) = HTTPHead.parse(Self.head(http.headerLines.map { ($0.name, $0.value) })) else {
                Issue.record("not parsed")
                return
            }
            #expect(parsed.headers["user-agent"] == expected)
            let model = AuthorizationAttributes(principal: nil, sourceIP: nil, destinationIP: nil, port: 9090, http: http)
            #expect(model.requestHeader("User-Agent") == .known(expected))
        }
        // A request the lab proxy receives without one is judged without one.
        let received = AuthorizationAttributes(principal: nil, sourceIP: nil, destinationIP: nil, port: 9090, http: HTTPRequest())
        #expect(received.requestHeader("User-Agent") == .absent)
    }
}
