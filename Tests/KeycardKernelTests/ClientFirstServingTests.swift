import Foundation
import Glibc
import KeycardKernel
import KeycardValues
import Testing

/// A lab with the mesh serves client-first (spec mesh.md R41, 2.2): the server reads the request,
/// then answers the line, or an HTTP/1.1 200 whose body is the line; a probe that needs an answer
/// tells a connection ended without one from an answered one.
@Suite("Sockets: client-first serving and answers required", .enabled(if: getuid() == 0))
struct ClientFirstServingTests {
    @Test func aLineIsAnsweredWithTheLine() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        let server = try PortServer(endpoints: [pair.endpoint(.tcp, 8080)], clientFirst: true)
        defer { server.stop() }
        var request = pair.request(.tcp, 8080)
        request.payload = Array("keycard-probe\n".utf8)
        request.answerRequired = true
        let outcomes = try Prober().probe([request], timeout: .seconds(3))
        #expect(outcomes.map(\.verdict) == [.allow(line: "default/server")])
    }

    @Test func anHTTPRequestGetsA200WithTheLineAsBody() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        let server = try PortServer(endpoints: [pair.endpoint(.tcp, 9080)], clientFirst: true)
        defer { server.stop() }
        var request = pair.request(.tcp, 9080)
        request.payload = Array("GET /admin?x=1 HTTP/1.1\r\nHost: server.default:9080\r\nConnection: close\r\n\r\n".utf8)
        request.answerRequired = true
        request.readsToEnd = true
        let outcomes = try Prober().probe([request], timeout: .seconds(3))
        guard case .allow(let text)? = outcomes.first?.verdict else {
            Issue.record("no answer: \(outcomes)")
            return
        }
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(text.hasSuffix("\r\n\r\ndefault/server\n"))
        #expect(text.contains("Content-Length: 15\r\n"))
    }

    /// A server-first server never reads: without a payload the client still gets the line, as
    /// before the mesh.
    @Test func serverFirstServingIsUnchanged() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        let server = try PortServer(endpoints: [pair.endpoint(.tcp, 8080)])
        defer { server.stop() }
        let outcomes = try Prober().probe([pair.request(.tcp, 8080)], timeout: .seconds(3))
        #expect(outcomes.map(\.verdict) == [.allow(line: "default/server")])
    }

    /// A client-first server waits for the request: a probe that sends nothing and needs an answer
    /// gets none before its deadline (a deny by timeout), not an empty "allow".
    @Test func aSilentClientGetsNoAnswerFromAClientFirstServer() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        let server = try PortServer(endpoints: [pair.endpoint(.tcp, 8080)], clientFirst: true)
        defer { server.stop() }
        var request = pair.request(.tcp, 8080)
        request.answerRequired = true
        let outcomes = try Prober().probe([request], timeout: .milliseconds(300))
        #expect(outcomes.map(\.verdict) == [.deny(.timeout)])
    }

    /// A connection accepted and then closed without a byte — what a refusing proxy does — is
    /// `unanswered`: here a bare listener that accepts and resets at once stands for the proxy.
    @Test func aConnectionResetWithoutAnswerIsUnanswered() throws {
        let pair = try PairWorld()
        defer { pair.world.tearDown() }
        let listener = try NetworkNamespace.perform(in: pair.server) { () throws -> Int32 in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = UInt16(7070).bigEndian
            _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, 16) } }
            listen(fd, 8)
            return fd
        }
        defer { close(listener) }
        let resetter = Thread {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            var buffer = [UInt8](repeating: 0, count: 64)
            _ = read(fd, &buffer, 64)  // the client's line, then a reset as a refusing proxy closes
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            close(fd)
        }
        resetter.start()
        var request = pair.request(.tcp, 7070)
        request.payload = Array("keycard-probe\n".utf8)
        request.answerRequired = true
        let outcomes = try Prober().probe([request], timeout: .seconds(3))
        #expect(outcomes.map(\.verdict) == [.unanswered(reset: true)])
    }
}
