import Glibc
import KeycardKernel
import KeycardModel
import KeycardScenario
import KeycardValues

/// The mesh proxy's word on one client connection (spec mesh.md 2.5): what refused it and how.
public struct MeshFlowVerdict: Sendable, Equatable {
    /// `deny` (the network dropped the proxy's upstream connection), `deny-mtls`, `deny-rbac`,
    /// `closed` (nothing serves the port) or `allow`.
    public var observation: Observation
    /// `plaintext-refused`, `bad-certificate`, `http-403`, `reset`.
    public var detail: String?
    /// The cause in words, with the deciding policy.
    public var reason: String
    /// The proxy gave up before deciding (a slow client, an error): no verdict (`MeshFlowRecord.gaveUp`).
    public var gaveUp: Bool

    public init(_ observation: Observation, detail: String? = nil, reason: String, gaveUp: Bool = false) {
        self.observation = observation
        self.detail = detail
        self.reason = reason
        self.gaveUp = gaveUp
    }
}

/// What the proxies recorded about one client connection, as the prober asks for it.
public enum MeshFlowLookup: Sendable, Equatable {
    /// The proxy that decided recorded this (the destination's, or the source's when the hop
    /// itself failed or nothing behind it judges).
    case decided(MeshFlowVerdict)
    /// The source's proxy opened the hop to a meshed destination (`hop`: its record in words) and
    /// the destination's proxy has recorded no decision (yet): not a verdict, the prober waits.
    case awaitingDestination(hop: String)
    /// No proxy recorded anything about it.
    case none
}

/// What the prober needs of the lab's mesh data plane: telling the proxy what a probe presents
/// (a probe is the source pod's own process; its identity option picks the certificate), and
/// reading the proxy's record of why it refused a connection.
public protocol MeshProbeChannel: Sendable {
    /// The connection `source` opens from `sourcePort` presents and sends what `request` says.
    func declare(source: ObjectKey, sourcePort: UInt16, request: MeshRequest)
    /// What the proxies recorded about the client flow (its source, the destination and port it
    /// dialled): the deciding proxy's record, or that the destination's is still awaited.
    func verdict(source: IPv4, sourcePort: UInt16, destination: IPv4, port: UInt16) -> MeshFlowLookup
    /// A wave of probes with deadline `deadline` starts: the proxy's upstream connect timeout
    /// becomes half of it (`MeshProbing.proxyConnectTimeout`), so its word comes before the
    /// prober gives up and a busy machine's slow answer is not taken for a drop.
    func waveStarts(deadline: Duration)
}

extension MeshProbeChannel {
    /// A channel without a proxy (a test double) has no timeout to set.
    public func waveStarts(deadline: Duration) {}
}

/// How a lab with the mesh probes (spec mesh.md 2.4, 2.5, R41): every TCP probe is client-first
/// (a line, or an HTTP request on a port R37 makes HTTP), needs an answer (a proxy accepts the
/// handshake of a connection it will refuse), leaves from a source port chosen here so that the
/// proxy can be told what it presents and its record found again, and escapes the capture
/// (socket mark) when its identity is `none` or its pod is outside the mesh.
public struct MeshProbing: Sendable {
    public let cluster: Cluster
    public let channel: any MeshProbeChannel

    /// The deadline of a probe wave in a lab with the mesh: at least a second, since a connection
    /// the network drops behind the proxy shows only when the proxy's upstream connect gives up
    /// (`proxyConnectTimeout`, half of it), plus 20 ms per connection of the wave, since every
    /// connection through the proxy costs TLS handshakes on the lab's cores (a busy machine must
    /// not turn a slow answer into a deny). Answered probes end at their answer, not here.
    public static func waveTimeout(_ settings: ProbeSettings, connections: Int = 0) -> Duration {
        .milliseconds(max(settings.timeoutMilliseconds, 1000) + 20 * min(connections, 1500))
    }

    /// The proxy's upstream connect timeout for probes with `settings`: half the wave's deadline,
    /// so that the proxy's word arrives before the prober gives up.
    public static func proxyConnectTimeout(_ settings: ProbeSettings) -> Duration { waveTimeout(settings) / 2 }

    /// The proxy's upstream connect timeout for a wave with deadline `deadline`: half of it.
    public static func proxyConnectTimeout(wave deadline: Duration) -> Duration { deadline / 2 }

    /// The line a TCP probe sends.
    static let probeLine = Array("keycard-probe\n".utf8)
    /// Source ports are chosen below Linux's ephemeral range (32768–60999).
    static let sourcePorts: ClosedRange<UInt16> = 20000...32767

    /// The pods whose connections the mesh captures now; nil when not known (taken as some).
    /// With none, no connection of the step meets a proxy: probes and scans are plain ones, with
    /// the plain deadline (`engaged`).
    public var captured: Set<ObjectKey>?

    public init(cluster: Cluster, channel: any MeshProbeChannel, captured: Set<ObjectKey>? = nil) {
        self.cluster = cluster
        self.channel = channel
        self.captured = captured
    }

    /// Whether some connection of this step can meet a proxy (some pod is captured).
    public var engaged: Bool { captured.map { !$0.isEmpty } ?? true }

    /// What a connection from `source` to `destination` presenting `identity` costs the lab's
    /// proxy, in shares of `waveTimeout`'s per-connection 20 ms: 4 when it costs TLS handshakes
    /// (the source is in the mesh now and uses its own data path, or it forges a certificate);
    /// otherwise 1 for each proxy that handles its plaintext: the source's when the pod is
    /// captured (an attacker's outbound capture), the destination's when it is in the mesh (an
    /// accept, an authorization and a connect to the application); 0 when no proxy is in its
    /// path. A /24 scan from a captured attacker, and 1,500 connections from outside the mesh to
    /// sidecars, did not fit a one-second wave on two busy cores.
    func cost(from source: ObjectKey, to destination: Endpoint, identity: ProbeIdentity) -> Int {
        switch identity {
        case .spoofed, .stolen: return 4
        case .mesh where cluster.dataPlane(of: source) != .none: return 4
        case .mesh, .none:
            let outbound = captured.map { $0.contains(source) } ?? true ? 1 : 0
            let inbound = destination.reachedPod.map { cluster.dataPlane(of: $0) != .none } == true ? 1 : 0
            return outbound + inbound
        }
    }

    /// The connections of a wave, counted as `waveTimeout` counts them: each weighted by `cost`
    /// (in quarters: a handshake counts 1, a plaintext pass a quarter).
    func weightedConnections(_ costs: [Int]) -> Int { (costs.reduce(0, +) + 3) / 4 }

    /// Makes `request` (from `source` to `destination` on `port`, already aimed) a mesh probe
    /// presenting and sending what `mesh` says; `used` holds the source ports taken in the
    /// source's namespace.
    func prepare(
        _ request: inout ProbeRequest, from source: ObjectKey, to destination: Endpoint, port: ProtocolPort, mesh: MeshRequest,
        used: inout Set<UInt16>
    ) {
        guard port.proto == .tcp else { return }
        // A real program's port (`command:`) is answered by the program: behind a proxy its
        // handshake proves nothing either, so it gets the line too and any answer counts (redis
        // answers an unknown command with an error line).
        request.handshakeOnly = false
        request.answerRequired = true
        if let http = httpRequest(to: destination, port: port, mesh) {
            request.payload = Array(http.utf8)
            request.readsToEnd = true
        } else {
            request.payload = Self.probeLine
        }
        // A pod outside the mesh now has no proxy: its connection leaves as it is, even where the lab
        // captures the pod for another step's forged identity (`LabMeshRedirect.attackers`), so a
        // drop is the kernel's to log and attribute, not a proxy's upstream timeout.
        if mesh.identity == .none || (mesh.identity == .mesh && cluster.dataPlane(of: source) == .none) {
            request.mark = MeshDataPath.bypassMark
        }
        if request.sourcePort == nil {
            let start = UInt16.random(in: Self.sourcePorts)
            let port =
                (start...Self.sourcePorts.upperBound).first { !used.contains($0) }
                ?? Self.sourcePorts.first { !used.contains($0) }
            guard let port else { return }
            used.insert(port)
            request.sourcePort = port
        }
        if let sourcePort = request.sourcePort { channel.declare(source: source, sourcePort: sourcePort, request: mesh) }
    }

    /// The HTTP/1.1 request a probe sends to an HTTP port (R37; spec 2.4: `GET /` by default).
    func httpRequest(to destination: Endpoint, port: ProtocolPort, _ mesh: MeshRequest) -> String? {
        guard let target = cluster.meshTarget(of: destination, port: port), cluster.isHTTPPort(pod: target.pod, port: target.port.port)
        else { return nil }
        let http = (mesh.http ?? HTTPRequest()).asSentByProber
        let dialled = destination.serviceKey ?? target.pod
        var text = "\(http.method) \(http.path) HTTP/1.1\r\nHost: \(http.hostHeader(for: dialled, port: port.port))\r\n"
        for (name, value) in http.headerLines { text += "\(name): \(value)\r\n" }
        return text + "Connection: close\r\n\r\n"
    }

    /// How often (microseconds) the prober looks again for a destination's record on its way.
    static let recordPollMicroseconds: UInt32 = 2000

    /// The cell's observation from what the client saw, and for a connection that ended without an
    /// answer, from the deciding proxy's record (a visible outcome without a record is the lab's
    /// error). The source proxy's word that it opened the hop to a meshed destination is never a
    /// verdict: the destination's record is waited for until `recordsDue` (the destination's
    /// proxy writes it before it ends the connection, so it is normally there already), and its
    /// absence then is a lab error, never `allow` (README: a mesh probe needs the application's
    /// answer to count as allowed).
    /// `destination` (the cell's) tells where the destination's proxy sees the connection come
    /// from: through a node port that source-NATs, the node's address.
    func observation(
        _ verdict: ProbeVerdict, from source: ObjectKey, to destination: Endpoint? = nil, _ request: ProbeRequest, attempts: Int,
        expectedLine: String, recordsDue: ContinuousClock.Instant
    ) -> CellObservation? {
        switch verdict {
        case .allow(let text) where request.readsToEnd:
            let (status, body) = Self.parseHTTP(text)
            switch status {
            case 200?:
                guard body != expectedLine else { return CellObservation(observation: .allow, attempts: attempts) }
                var seen = CellObservation(observation: .allow, attempts: attempts, reason: "answered by \"\(body)\"")
                seen.answeredBy = body
                return seen
            case 403?:
                return CellObservation(observation: .denyRBAC, attempts: attempts, reason: "HTTP 403 \(body)", detail: "http-403")
            default:
                return otherAnswer(status, body, from: source, to: destination, request, attempts: attempts)
            }
        case .unanswered(let reset):
            let flows = recordedFlows(from: source, to: destination, request)
            guard !flows.isEmpty, let port = request.sourcePort else { return nil }
            let clock = ContinuousClock()
            while true {
                var hop: String?
                for (sourceIP, address, dport) in flows {
                    switch channel.verdict(source: sourceIP, sourcePort: port, destination: address, port: dport) {
                    case .decided(let record) where record.gaveUp:
                        return CellObservation(
                            observation: .deny, attempts: attempts,
                            reason: "lab error: the proxy gave up before deciding (\(record.detail ?? "no detail")); \(record.reason)",
                            labError: true)
                    case .decided(let record):
                        // `detail` names how the mesh refused (spec 2.5); a network drop or a closed
                        // port behind the proxy has none, as the model reports them.
                        let refused = record.observation == .denyMTLS || record.observation == .denyRBAC
                        return CellObservation(
                            observation: record.observation, attempts: attempts, reason: record.reason,
                            detail: refused ? record.detail : nil)
                    case .awaitingDestination(let said): hop = hop ?? said
                    case .none: break
                    }
                }
                guard let hop else { break }
                guard clock.now < recordsDue else {
                    return CellObservation(
                        observation: .deny, attempts: attempts,
                        reason:
                            "lab error: the connection ended (\(reset ? "reset" : "EOF")) without an answer; the source's proxy opened the hop (\(hop)) and the destination's proxy recorded no decision",
                        labError: true)
                }
                usleep(Self.recordPollMicroseconds)
            }
            return CellObservation(
                observation: .deny, attempts: attempts,
                reason: "lab error: the connection ended (\(reset ? "reset" : "EOF")) without an answer and no proxy recorded why",
                labError: true)
        default:
            return nil
        }
    }

    /// An answer to an HTTP probe that is neither the application's `200` nor the proxy's `403`.
    /// The network let the connection through, so it is never `deny` (NetworkPolicy). When the
    /// destination's proxy recorded that it answered the request itself (Envoy's `400` to a head
    /// its codec refuses, which keycard refuses to probe at load), the cell is `skipped` as a lab
    /// error: neither keycard's model nor its outcomes have that answer. When the proxy refused
    /// by policy, its record decides. Otherwise the application answered (a `command:` program
    /// answering 404 has passed every check): `allow`, the answer named in `reason`.
    func otherAnswer(
        _ status: Int?, _ body: String, from source: ObjectKey, to destination: Endpoint?, _ request: ProbeRequest, attempts: Int
    ) -> CellObservation {
        let answer = status.map { "HTTP \($0)" } ?? "no HTTP response"
        if let port = request.sourcePort {
            for (sourceIP, address, dport) in recordedFlows(from: source, to: destination, request) {
                guard case .decided(let record) = channel.verdict(source: sourceIP, sourcePort: port, destination: address, port: dport)
                else { continue }
                switch record.observation {
                case .denyMTLS, .denyRBAC:
                    return CellObservation(
                        observation: record.observation, attempts: attempts, reason: record.reason, detail: record.detail)
                case .closed, .deny, .skipped:
                    return CellObservation(
                        observation: .skipped, attempts: attempts,
                        reason:
                            "lab error: the destination's proxy answered \(answer) itself (\(record.detail.map { "\($0); " } ?? "")\(record.reason)), an answer keycard does not model"
                    )
                case .allow: break
                }
            }
        }
        return CellObservation(
            observation: .allow, attempts: attempts, reason: "the application answered \(answer)\(body.isEmpty ? "" : " \(body)")")
    }

    /// The flows (source address, destination address and port) under which a proxy may have
    /// recorded the probe: from the source's address (a pod's, an external's, a node's) or, through
    /// a node port that source-NATs, the node's; to what it dialled or, translated, the backend.
    func recordedFlows(from source: ObjectKey, to destination: Endpoint?, _ request: ProbeRequest) -> [(IPv4, IPv4, UInt16)] {
        var sources = cluster.address(of: cluster.source(source)).map { [$0] } ?? []
        if case .exposed(let key, let entry, let backend)? = destination,
            let nat = cluster.exposedPath(key, entry, backend: backend, port: ProtocolPort(request.proto, Int(request.port)))?.sourceNAT
        {
            sources.append(nat)
        }
        let destinations = [(request.destination, request.port)] + (request.translated.map { [($0.address, $0.port)] } ?? [])
        return sources.flatMap { address in destinations.map { (address, $0.0, $0.1) } }
    }

    /// The status code and the first body line of an HTTP/1.1 response.
    static func parseHTTP(_ text: String) -> (status: Int?, body: String) {
        let parts = text.split(separator: "\r\n\r\n", maxSplits: 1, omittingEmptySubsequences: false)
        let statusLine = parts.first?.split(separator: "\r\n").first ?? ""
        let fields = statusLine.split(separator: " ")
        let status = fields.count >= 2 && fields[0].hasPrefix("HTTP/") ? Int(fields[1]) : nil
        let body = parts.count > 1 ? String(parts[1].split(separator: "\n", omittingEmptySubsequences: false).first ?? "") : ""
        return (status, body)
    }
}
