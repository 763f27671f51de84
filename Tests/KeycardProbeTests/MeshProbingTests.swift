import Glibc
import KeycardKernel
import KeycardModel
import KeycardProbe
import KeycardScenario
import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardMesh
@testable import KeycardProbe

/// A channel double: records what the prober declares and answers from a fixed table. A flow in
/// `hops` was opened by the source's proxy (the record in words) and its destination's record,
/// in `records`, shows only after that many lookups of it (never, when `records` has none).
final class RecordingMeshChannel: MeshProbeChannel, @unchecked Sendable {
    struct Declared: Equatable {
        var source: ObjectKey
        var sourcePort: UInt16
        var request: MeshRequest
    }
    private(set) var declared: [Declared] = []
    var records: [String: MeshFlowVerdict] = [:]
    var hops: [String: (said: String, lookupsBeforeRecord: Int)] = [:]
    private(set) var lookups = 0

    func declare(source: ObjectKey, sourcePort: UInt16, request: MeshRequest) {
        declared.append(Declared(source: source, sourcePort: sourcePort, request: request))
    }

    func verdict(source: IPv4, sourcePort: UInt16, destination: IPv4, port: UInt16) -> MeshFlowLookup {
        let key = "\(source):\(sourcePort)>\(destination):\(port)"
        lookups += 1
        if var hop = hops[key] {
            if hop.lookupsBeforeRecord > 0 || records[key] == nil {
                hop.lookupsBeforeRecord -= 1
                hops[key] = hop
                return .awaitingDestination(hop: hop.said)
            }
        }
        return records[key].map { .decided($0) } ?? .none
    }
}

/// The prober's side of the mesh (spec mesh.md 2.4, 2.5, R41), without a kernel.
@Suite("Mesh probing: requests and the proxy's records")
struct MeshProbingTests {
    static let scenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: mesh-probing}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: prod, labels: {istio-injection: enabled}}}
            - apiVersion: v1
              kind: Pod
              metadata: {name: api, namespace: prod, labels: {app: api}}
              spec: {containers: [{name: api, image: api, ports: [{containerPort: 8080}, {containerPort: 9090, name: http-api}]}]}
            - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: prod}, spec: {containers: [{name: web, image: web}]}}
          steps:
            - probe: {from: [prod/web], to: [prod/api], ports: [TCP/9090], http: {method: POST, path: /admin, headers: {x-env: ci}}}
            - probe: {from: [prod/web], to: [prod/api], ports: [TCP/8080], identity: none}
        """

    func cells(_ step: Int) throws -> (Timeline, [ProbeCell]) {
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario, file: "mesh-probing.yaml")
        return (timeline, timeline.cells(ofProbeStep: step))
    }

    /// A mesh wave sends again only a cell the model allows that timed out with no kernel or proxy
    /// word (review of the docs as a newcomer, finding 2: on busy cores slow TLS handshakes made
    /// allowed cells denials); a logged drop, a proxy's answer or an allow is final.
    @Test func onlyTimeoutsOfAllowedCellsAreSentAgain() throws {
        let (_, cells) = try cells(2)
        let cell = try #require(cells.first { $0.to != .pod($0.from) })
        #expect(cell.outcome == .allow)
        func slow(_ seen: CellObservation) -> [Int] { SocketProbeRunner.slowCells([seen], [cell]) }
        #expect(slow(CellObservation(observation: .deny, attempts: 2, reason: "timeout")) == [0])
        #expect(slow(CellObservation(observation: .deny, attempts: 1, reason: "dropped: kc deny egress prod/web")).isEmpty)
        #expect(slow(CellObservation(observation: .denyRBAC, attempts: 1, reason: "HTTP 403 RBAC: access denied")).isEmpty)
        #expect(slow(CellObservation(observation: .allow, attempts: 1)).isEmpty)
    }

    /// A cell the lab could not decide (a proxy gave up, or nothing recorded why) is sent again
    /// whatever the model says; so is a timeout where the model expects the mesh's own refusal,
    /// which answers rather than times out (review of the mesh data plane under load).
    @Test func labErrorsAndTimeoutsOfMeshRefusalsAreSentAgain() throws {
        let (_, cells) = try cells(2)
        let cell = try #require(cells.first { $0.to != .pod($0.from) })
        var refused = cell
        refused.mesh?.outcome = .denyRBAC
        #expect(refused.outcome == .denyRBAC)
        let labError = CellObservation(observation: .deny, attempts: 1, reason: "lab error: the proxy gave up", labError: true)
        #expect(SocketProbeRunner.slowCells([labError], [cell]) == [0])
        #expect(SocketProbeRunner.slowCells([labError], [refused]) == [0])
        #expect(SocketProbeRunner.slowCells([CellObservation(observation: .deny, attempts: 2, reason: "timeout")], [refused]) == [0])
    }

    /// A wave's deadline grows with the proxy work its connections cost (`MeshProbing.cost`): TLS
    /// handshakes count 4 quarters, each proxy that handles plaintext 1 (the source's capture, the
    /// destination's sidecar), a connection no proxy meets nothing.
    @Test func aWavesDeadlineCountsTheProxiesAConnectionMeets() throws {
        let (timeline, _) = try cells(1)
        let cluster = timeline.cluster(afterStep: 1)
        let (web, api) = (ObjectKey("prod", "web"), ObjectKey("prod", "api"))
        let (attacker, outside) = (ObjectKey("legacy", "attacker"), ObjectKey("legacy", "client"))
        let probing = MeshProbing(cluster: cluster, channel: RecordingMeshChannel(), captured: [web, api, attacker])
        #expect(probing.cost(from: web, to: .pod(api), identity: .mesh) == 4)
        #expect(probing.cost(from: attacker, to: .pod(outside), identity: .stolen("spiffe://cluster.local/ns/prod/sa/default")) == 4)
        #expect(probing.cost(from: attacker, to: .pod(api), identity: .mesh) == 2, "its capture and the sidecar")
        #expect(probing.cost(from: attacker, to: .pod(outside), identity: .none) == 1)
        #expect(probing.cost(from: outside, to: .pod(api), identity: .mesh) == 1, "the destination's sidecar")
        #expect(probing.cost(from: outside, to: .service(api, backend: api), identity: .none) == 1)
        #expect(probing.cost(from: outside, to: .pod(attacker), identity: .mesh) == 0)
        #expect(probing.weightedConnections([4, 1, 1, 1, 1]) == 2)
        #expect(probing.engaged && !MeshProbing(cluster: cluster, channel: RecordingMeshChannel(), captured: []).engaged)
    }

    @Test func anHTTPPortGetsTheProbesRequestWithTheDefaultHost() throws {
        let (timeline, cells) = try cells(1)
        let channel = RecordingMeshChannel()
        let probing = MeshProbing(cluster: timeline.cluster(afterStep: 1), channel: channel)
        var request = ProbeRequest(sourceNamespace: "ns-web", destination: "10.244.0.1", proto: .tcp, port: 9090)
        var used: Set<UInt16> = []
        let cell = try #require(cells.first)
        probing.prepare(&request, from: cell.from, to: cell.to, port: cell.port, mesh: try #require(cell.meshRequest), used: &used)
        let text = String(decoding: request.payload, as: UTF8.self)
        #expect(text.hasPrefix("POST /admin HTTP/1.1\r\nHost: api.prod:9090\r\n"))
        #expect(text.contains("x-env: ci\r\n"))
        #expect(text.hasSuffix("\r\n\r\n"))
        #expect(request.readsToEnd && request.answerRequired && request.mark == nil)
        let port = try #require(request.sourcePort)
        #expect(used == [port] && MeshProbing.sourcePorts.contains(port))
        #expect(channel.declared.map(\.sourcePort) == [port])
        #expect(channel.declared.first?.request.http?.method == "POST")
    }

    @Test func identityNoneEscapesTheCaptureAndSendsALine() throws {
        let (timeline, cells) = try cells(2)
        let probing = MeshProbing(cluster: timeline.cluster(afterStep: 2), channel: RecordingMeshChannel())
        var request = ProbeRequest(sourceNamespace: "ns-web", destination: "10.244.0.1", proto: .tcp, port: 8080)
        var used: Set<UInt16> = []
        let cell = try #require(cells.first)
        probing.prepare(&request, from: cell.from, to: cell.to, port: cell.port, mesh: try #require(cell.meshRequest), used: &used)
        #expect(request.payload == Array("keycard-probe\n".utf8))
        #expect(request.mark == MeshDataPath.bypassMark)
        #expect(!request.readsToEnd && request.answerRequired)
    }

    /// A pod outside the mesh has no proxy: a lab that captures it for another step's stolen
    /// identity must not carry its plain probes (review of the output formats: lateral-scan's
    /// exporter, meshed only later, had its kernel-logged drops reported as unconfirmed proxy
    /// timeouts); a meshed pod's probe stays with its proxy.
    @Test func aPodOutsideTheMeshEscapesACaptureMeantForItsForgedIdentities() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: outside}
            spec:
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: prod, labels: {istio-injection: enabled}}}
                - {apiVersion: v1, kind: Namespace, metadata: {name: ops}}
                - {apiVersion: v1, kind: Pod, metadata: {name: api, namespace: prod}, spec: {containers: [{name: api, image: api, ports: [{containerPort: 8080}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: prod}, spec: {containers: [{name: web, image: web}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: attacker, namespace: ops}, spec: {containers: [{name: a, image: a}]}}
              steps:
                - probe: {from: [ops/attacker], to: [prod/api], ports: [TCP/8080], identity: {stolen: spiffe://cluster.local/ns/prod/sa/default}}
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "mesh-probing.yaml")
        let probing = MeshProbing(cluster: timeline.initial, channel: RecordingMeshChannel())
        func mark(from source: ObjectKey) -> UInt32? {
            var request = ProbeRequest(sourceNamespace: "ns", destination: "10.244.0.1", proto: .tcp, port: 8080)
            var used: Set<UInt16> = []
            probing.prepare(
                &request, from: source, to: .pod(ObjectKey("prod", "api")), port: ProtocolPort(.tcp, 8080), mesh: MeshRequest(),
                used: &used)
            return request.mark
        }
        #expect(mark(from: ObjectKey("ops", "attacker")) == MeshDataPath.bypassMark)
        #expect(mark(from: ObjectKey("prod", "web")) == nil)
    }

    /// Step 2's first cell from prod/web, its proxy records kept in a recording channel: what a
    /// connection from `sourcePort` that ended without an answer is observed as, given the record.
    struct Unanswered {
        let probing: MeshProbing
        let channel: RecordingMeshChannel
        let cell: ProbeCell
        let web: IPv4

        init(_ cells: (Timeline, [ProbeCell])) throws {
            let cluster = cells.0.cluster(afterStep: 2)
            let channel = RecordingMeshChannel()
            self.channel = channel
            probing = MeshProbing(cluster: cluster, channel: channel)
            cell = try #require(cells.1.first)
            web = try #require(cluster.addresses[cell.from])
        }

        func observed(from sourcePort: UInt16, record: MeshFlowVerdict?) -> CellObservation? {
            var request = ProbeRequest(sourceNamespace: "ns-web", destination: "10.244.0.1", proto: .tcp, port: 8080)
            request.sourcePort = sourcePort
            if let record { channel.records["\(web):\(sourcePort)>10.244.0.1:8080"] = record }
            return probing.observation(
                .unanswered(reset: record != nil), from: cell.from, request, attempts: 1, expectedLine: "prod/api", recordsDue: .now)
        }
    }

    @Test func anUnansweredConnectionTakesTheProxysRecord() throws {
        let world = try Unanswered(try cells(2))
        let seen = world.observed(
            from: 23456, record: MeshFlowVerdict(.denyMTLS, detail: "plaintext-refused", reason: "STRICT (prod/default)"))
        #expect(seen == CellObservation(observation: .denyMTLS, attempts: 1, reason: "STRICT (prod/default)", detail: "plaintext-refused"))

        // Without a record, the lab erred: never a verdict of the mesh.
        let orphan = world.observed(from: 23457, record: nil)
        #expect(orphan?.observation == .deny)
        #expect(orphan?.reason?.hasPrefix("lab error") == true)
        #expect(orphan?.labError == true)
    }

    /// A proxy that gave up before deciding (a client too slow for its checks on a busy machine)
    /// records `closed` with `gaveUp`: that is a lab error, never the verdict `closed` (nothing
    /// serves the port), which counts as allowed (review of the mesh data plane under load: 285
    /// allowed cells passed on such records).
    @Test func aProxyThatGaveUpIsALabErrorNotClosed() throws {
        let world = try Unanswered(try cells(2))
        let gaveUp = MeshFlowVerdict(
            .closed, detail: "timeout: the client sent too little for the checks", reason: "at prod/api (sidecar)", gaveUp: true)
        let seen = try #require(world.observed(from: 23462, record: gaveUp))
        #expect(seen.observation == .deny && seen.labError)
        #expect(seen.reason?.hasPrefix("lab error: the proxy gave up before deciding (timeout") == true)

        let closed = world.observed(from: 23463, record: MeshFlowVerdict(.closed, reason: "at prod/api (sidecar); nothing serves the port"))
        #expect(closed == CellObservation(observation: .closed, attempts: 1, reason: "at prod/api (sidecar); nothing serves the port"))
    }

    /// A lab error is no observation of the policy: its cell fails even where the model denies
    /// (final read of the change: a `deny` lab error passed a deny cell).
    @Test func aLabErrorFailsItsCellEvenWhereTheModelDenies() throws {
        let world = try Unanswered(try cells(2))
        let seen = try #require(world.observed(from: 23464, record: nil))
        let result = world.cell.result(seen)
        #expect(result.labError == true && !result.passed)
        var denied = ProbeResult(
            from: world.cell.from, to: world.cell.to, port: world.cell.port, expected: ExpectedOutcome(.deny), model: .deny, observed: .deny
        )
        #expect(denied.passed)
        denied.labError = true
        #expect(!denied.passed)
    }

    /// The source proxy's record of a hop it opened (its TLS handshake done) says nothing of what
    /// the destination decided: a refused connection must never show as allowed by it.
    @Test func aHopOpenedIsNoVerdictTheDestinationsLateRecordIs() throws {
        let (timeline, cells) = try cells(2)
        let cluster = timeline.cluster(afterStep: 2)
        let channel = RecordingMeshChannel()
        let probing = MeshProbing(cluster: cluster, channel: channel)
        let cell = try #require(cells.first)
        let web = try #require(cluster.addresses[cell.from])
        var request = ProbeRequest(sourceNamespace: "ns-web", destination: "10.244.0.1", proto: .tcp, port: 8080)
        request.sourcePort = 23458
        let key = "\(web):23458>10.244.0.1:8080"
        channel.hops[key] = ("at prod/api (sidecar); plaintext peer", 3)
        channel.records[key] = MeshFlowVerdict(.denyRBAC, detail: "reset", reason: "at prod/api (sidecar); reset")
        let late = probing.observation(
            .unanswered(reset: false), from: cell.from, request, attempts: 1, expectedLine: "prod/api",
            recordsDue: .now + .seconds(5))
        #expect(late == CellObservation(observation: .denyRBAC, attempts: 1, reason: "at prod/api (sidecar); reset", detail: "reset"))
        #expect(channel.lookups == 4)
    }

    @Test func aHopOpenedWithoutTheDestinationsRecordIsALabErrorAtTheDeadline() throws {
        let (timeline, cells) = try cells(2)
        let cluster = timeline.cluster(afterStep: 2)
        let channel = RecordingMeshChannel()
        let probing = MeshProbing(cluster: cluster, channel: channel)
        let cell = try #require(cells.first)
        let web = try #require(cluster.addresses[cell.from])
        var request = ProbeRequest(sourceNamespace: "ns-web", destination: "10.244.0.1", proto: .tcp, port: 8080)
        request.sourcePort = 23459
        channel.hops["\(web):23459>10.244.0.1:8080"] = ("at prod/api (sidecar); plaintext peer", 0)
        let clock = ContinuousClock()
        let start = clock.now
        let seen = try #require(
            probing.observation(
                .unanswered(reset: true), from: cell.from, request, attempts: 1, expectedLine: "prod/api",
                recordsDue: start + .milliseconds(60)))
        #expect(clock.now - start >= .milliseconds(60))
        #expect(seen.observation == .deny)
        #expect(seen.reason?.hasPrefix("lab error") == true)
        #expect(seen.reason?.contains("the destination's proxy recorded no decision") == true)
        #expect(channel.lookups > 1)
    }

    /// An HTTP answer is never a NetworkPolicy drop (keycard review D4): the proxy's own 400 is a
    /// lab error (skipped), a refusal it recorded keeps its cause, anything else is the
    /// application's answer.
    @Test func anHTTPAnswerOtherThan200Or403IsNeverANetworkDeny() throws {
        let (timeline, cells) = try cells(1)
        let cluster = timeline.cluster(afterStep: 1)
        let channel = RecordingMeshChannel()
        let probing = MeshProbing(cluster: cluster, channel: channel)
        let cell = try #require(cells.first)
        let web = try #require(cluster.addresses[cell.from])
        var request = ProbeRequest(sourceNamespace: "ns-web", destination: "10.244.0.1", proto: .tcp, port: 9090)
        request.readsToEnd = true
        let badRequest = ProbeVerdict.allow(line: "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")

        request.sourcePort = 23460
        channel.records["\(web):23460>10.244.0.1:9090"] = MeshFlowVerdict(
            .closed, detail: "bad-http-request", reason: "at prod/api (sidecar); nothing serves the port")
        let proxyAnswered = try #require(
            probing.observation(badRequest, from: cell.from, request, attempts: 1, expectedLine: "prod/api", recordsDue: .now))
        #expect(proxyAnswered.observation == .skipped)
        #expect(proxyAnswered.reason?.hasPrefix("lab error: the destination's proxy answered HTTP 400 itself (bad-http-request;") == true)

        request.sourcePort = 23461
        channel.records["\(web):23461>10.244.0.1:9090"] = MeshFlowVerdict(.denyRBAC, detail: "http-403", reason: "at prod/api")
        let refused = probing.observation(badRequest, from: cell.from, request, attempts: 1, expectedLine: "prod/api", recordsDue: .now)
        #expect(refused == CellObservation(observation: .denyRBAC, attempts: 1, reason: "at prod/api", detail: "http-403"))

        request.sourcePort = 23462
        let application = probing.observation(
            .allow(line: "HTTP/1.1 404 Not Found\r\n\r\nno such page\n"), from: cell.from, request, attempts: 1, expectedLine: "prod/api",
            recordsDue: .now)
        #expect(application == CellObservation(observation: .allow, attempts: 1, reason: "the application answered HTTP 404 no such page"))
    }

    @Test func httpAnswersAreReadByStatus() {
        #expect(MeshProbing.parseHTTP("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nprod/api\n") == (200, "prod/api"))
        #expect(MeshProbing.parseHTTP("HTTP/1.1 403 Forbidden\r\n\r\nRBAC: access denied") == (403, "RBAC: access denied"))
        #expect(MeshProbing.parseHTTP("garbage").status == nil)
    }
}

@Suite("Mesh probing: the proxy's record in words")
struct MeshRecordReasonTests {
    /// A drop of the proxy's upstream connection (fxm32: a ClusterNetworkPolicy on the source's
    /// egress denies TCP/15008) was judged by no proxy: no destination as its place, no kind of
    /// policy, no peer; a drop in the source's own output says so, in the words the kernel
    /// confirmation reads.
    @Test func aDroppedHopNamesNeitherTheDestinationNorAPolicyKindNorAPeer() {
        let db = ObjectKey("amb", "db")
        let local = LabMeshChannel.reason(
            MeshFlowRecord(outcome: .deny, pod: db, plane: .ambient, drop: .socketError(errno: EPERM)))
        #expect(
            local == "the source's egress dropped the proxy's upstream connection to amb/db (ambient) (Operation not permitted (errno 1))")
        let lost = LabMeshChannel.reason(MeshFlowRecord(outcome: .deny, pod: db, plane: .ambient, drop: .timeout))
        #expect(lost == "the proxy's upstream connection to amb/db (ambient) was dropped on its way (timeout)")
        for reason in [local, lost] {
            #expect(!reason.contains("NetworkPolicy") && !reason.contains("plaintext peer") && !reason.hasPrefix("at "))
        }
    }

    @Test func onlyTheDestinationsProxyReportsAPlaintextPeer() {
        let api = ObjectKey("prod", "api")
        let refused = LabMeshChannel.reason(MeshFlowRecord(outcome: .denyMTLS, detail: "plaintext-refused", pod: api, plane: .sidecar))
        #expect(refused == "at prod/api (sidecar); plaintext-refused; plaintext peer")
        let nothing = LabMeshChannel.reason(MeshFlowRecord(outcome: .closed, detail: "Connection refused", pod: api, plane: DataPlane.none))
        #expect(nothing == "at prod/api (none); nothing serves the port")
    }
}
