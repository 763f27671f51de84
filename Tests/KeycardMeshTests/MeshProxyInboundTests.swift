import Foundation
import KeycardKernel
import KeycardMesh
import KeycardModel
import KeycardTestSupport
import KeycardValues
import NIOCore
import Testing

/// The destination side, reached straight on 15006 with a fixed original port (the redirection
/// is someone else's; `MeshProxyEndToEndTests` adds it with nft). Root, real namespaces.
@Suite("Mesh proxy: inbound", .serialized)
struct MeshProxyInboundTests {
    private func only(_ flows: MeshFlowLog) throws -> MeshFlowRecord {
        let records = flows.records
        try #require(records.count == 1, "records: \(records)")
        return try #require(records.values.first)
    }

    @Test("mTLS with the client's own SVID reaches the application; the record names the verified principal")
    func ownSVID() throws {
        let world = try ProxyWorld(cluster: MeshFixtures.cluster(), originalPort: 8080)
        defer { world.tearDown() }
        let result = try world.clientTLSToServedApp()
        #expect(result.handshake)
        #expect(result.text == "prod/api\n")
        #expect(world.app(8080).accepted.current == 1)
        let record = try only(world.flows)
        #expect(record.outcome == .allow)
        #expect(record.principal == "cluster.local/ns/prod/sa/client")
        #expect(record.mode?.mode == .strict)
        #expect(record.mode?.setBy == ObjectKey("prod", "default"))
        #expect(record.authorization?.policy == ObjectKey("prod", "api-allow"))
        #expect(record.authorization?.ruleIndex == 0)
    }

    @Test("plaintext on a STRICT port is reset and not one byte reaches the application")
    func plaintextRefused() throws {
        let world = try ProxyWorld(cluster: MeshFixtures.cluster(), originalPort: 8080)
        defer { world.tearDown() }
        try world.serve(8080, .line)
        let exchange = try PlainClient.exchange(
            in: world.clientNamespace, to: MeshFixtures.apiAddress, port: MeshDataPath.inboundPort, payload: "hello\n", sourcePort: 24001)
        #expect(exchange.bytes.isEmpty)
        #expect(exchange.reset)
        #expect(world.app(8080).accepted.current == 0)
        let record = try #require(world.inboundRecord(ofClientPort: 24001, originalPort: 8080))
        #expect(record.outcome == .denyMTLS)
        #expect(record.detail == "plaintext-refused")
        #expect(record.principal == nil)
        #expect(record.mode?.setBy == ObjectKey("prod", "default"))
    }

    @Test("plaintext on a PERMISSIVE port reaches authorization: no principal, so the ALLOW policy resets it")
    func plaintextPermissive() throws {
        let world = try ProxyWorld(cluster: MeshFixtures.cluster(mode: .permissive), originalPort: 8080)
        defer { world.tearDown() }
        try world.serve(8080, .line)
        let exchange = try PlainClient.exchange(
            in: world.clientNamespace, to: MeshFixtures.apiAddress, port: MeshDataPath.inboundPort, payload: "hello\n", sourcePort: 24002)
        #expect(exchange.bytes.isEmpty)
        #expect(world.app(8080).accepted.current == 0)
        let record = try #require(world.inboundRecord(ofClientPort: 24002, originalPort: 8080))
        #expect(record.outcome == .denyRBAC)
        #expect(record.detail == "reset")
        #expect(record.authorization?.allowed == false)
        #expect(record.authorization?.allowPolicies == [ObjectKey("prod", "api-allow")])
    }

    @Test("rogue, expired and wrong-trust-domain certificates are refused in the handshake", arguments: ["rogue", "expired", "foreign"])
    func badCertificates(kind: String) throws {
        let world = try ProxyWorld(cluster: MeshFixtures.cluster(), originalPort: 8080)
        defer { world.tearDown() }
        try world.serve(8080, .line)
        let svid: SVID =
            switch kind {
            case "rogue": try RogueCA().issue(uri: "spiffe://cluster.local/ns/prod/sa/client")
            case "expired": try world.ca.issueExpired(namespace: "prod", serviceAccount: "client")
            default: try world.ca.issueForeign(trustDomain: "evil.example", namespace: "prod", serviceAccount: "client")
            }
        let result = try TLSClient.exchange(
            group: world.group, in: world.clientNamespace, to: MeshFixtures.apiAddress, port: MeshDataPath.inboundPort, presenting: svid,
            trust: nil, payload: "hello\n"
        ).wait()
        // TLS 1.3: the client's side of the handshake completes before the server has judged
        // its certificate; the server's alert and close follow. So: no byte back, nothing at the app.
        #expect(result.bytes.isEmpty)
        #expect(world.app(8080).accepted.current == 0)
        #expect(world.app(8080).received.current == 0)
        let record = try only(world.flows)
        #expect(record.outcome == .denyMTLS)
        #expect(record.detail == "bad-certificate")
        #expect(record.principal == nil)
    }

    @Test("an RBAC denial on an HTTP port is 403 RBAC: access denied; an allowed path gets the application's 200")
    func http403() throws {
        let world = try ProxyWorld(cluster: MeshFixtures.cluster(), originalPort: 9080)
        defer { world.tearDown() }
        try world.serve(9080, .http)
        let svid = try world.ca.issue(namespace: "prod", serviceAccount: "client")
        let denied = try TLSClient.exchange(
            group: world.group, in: world.clientNamespace, to: MeshFixtures.apiAddress, port: MeshDataPath.inboundPort, presenting: svid,
            trust: MeshTrust(world.ca), payload: "GET /admin HTTP/1.1\r\nHost: api.prod:9080\r\n\r\n"
        ).wait()
        #expect(denied.text.hasPrefix("HTTP/1.1 403 Forbidden\r\n"))
        #expect(denied.text.hasSuffix("\r\n\r\nRBAC: access denied"))
        #expect(world.app(9080).accepted.current == 0)
        let record = try only(world.flows)
        #expect(record.outcome == .denyRBAC)
        #expect(record.detail == "http-403")
        #expect(record.principal == "cluster.local/ns/prod/sa/client")
        world.flows.clear()
        let allowed = try TLSClient.exchange(
            group: world.group, in: world.clientNamespace, to: MeshFixtures.apiAddress, port: MeshDataPath.inboundPort, presenting: svid,
            trust: MeshTrust(world.ca), payload: "GET /public?x=1 HTTP/1.1\r\nHost: api.prod:9080\r\n\r\n"
        ).wait()
        #expect(allowed.text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(allowed.text.hasSuffix("prod/api\n"))
        #expect(world.app(9080).accepted.current == 1)
        let allowedRecord = try only(world.flows)
        #expect(allowedRecord.outcome == .allow)
        #expect(allowedRecord.authorization?.ruleIndex == 1)
    }

    @Test("an RBAC denial on a TCP port is a reset with no data; the record names the ALLOW policy that did not match")
    func tcpReset() throws {
        let world = try ProxyWorld(cluster: MeshFixtures.cluster(), originalPort: 8080)
        defer { world.tearDown() }
        try world.serve(8080, .line)
        // A genuine lab identity that the policy does not allow on 8080 (R18: the handshake passes).
        let svid = try world.ca.issue(namespace: "prod", serviceAccount: "intruder")
        let result = try TLSClient.exchange(
            group: world.group, in: world.clientNamespace, to: MeshFixtures.apiAddress, port: MeshDataPath.inboundPort, presenting: svid,
            trust: MeshTrust(world.ca), payload: "hello\n"
        ).wait()
        #expect(result.handshake)
        #expect(result.bytes.isEmpty)
        #expect(world.app(8080).accepted.current == 0)
        let record = try only(world.flows)
        #expect(record.outcome == .denyRBAC)
        #expect(record.detail == "reset")
        #expect(record.principal == "cluster.local/ns/prod/sa/intruder")
        #expect(record.authorization?.description == "no ALLOW rule matches (prod/api-allow)")
    }

    @Test("after both checks, a port nothing serves is closed with a reset and recorded closed")
    func nothingServes() throws {
        let world = try ProxyWorld(cluster: MeshFixtures.cluster(), originalPort: 8080)
        defer { world.tearDown() }
        let svid = try world.ca.issue(namespace: "prod", serviceAccount: "client")
        let result = try TLSClient.exchange(
            group: world.group, in: world.clientNamespace, to: MeshFixtures.apiAddress, port: MeshDataPath.inboundPort, presenting: svid,
            trust: MeshTrust(world.ca), payload: "hello\n"
        ).wait()
        #expect(result.bytes.isEmpty)
        let record = try only(world.flows)
        #expect(record.outcome == .closed)
        #expect(record.detail == "nothing serves the port")
        #expect(!record.gaveUp, "a refused connect is the verdict closed")
        #expect(record.authorization?.allowed == true)
    }

    /// A client that sends nothing within the check timeout is reset, and the record says the
    /// proxy gave up: no verdict, so that the prober never takes it for `closed` (which counts as
    /// allowed).
    @Test("a client silent past the check timeout is reset, recorded as given up, not as closed")
    func silentClientIsGivenUp() throws {
        let world = try ProxyWorld(cluster: MeshFixtures.cluster(), originalPort: 8080)
        defer { world.tearDown() }
        world.proxy.inboundCheckTimeout = .milliseconds(300)
        let result = try PlainClient.exchange(
            in: world.clientNamespace, to: MeshFixtures.apiAddress, port: MeshDataPath.inboundPort, payload: "")
        #expect(result.bytes.isEmpty)
        let record = try only(world.flows)
        #expect(record.outcome == .closed && record.gaveUp)
        #expect(record.detail?.hasPrefix("timeout") == true)
        #expect(record.authorization == nil)
    }

    @Test("TLS towards a sidecar DISABLE HTTP port is not terminated: the HTTP codec refuses the ClientHello (400)")
    func disablePassthrough() throws {
        let world = try ProxyWorld(cluster: MeshFixtures.cluster(mode: .disable), originalPort: 9080)
        defer { world.tearDown() }
        try world.serve(9080, .http)
        let svid = try world.ca.issue(namespace: "prod", serviceAccount: "client")
        // The HTTP port parses a head first; a ClientHello is none: Envoy answers 400 in plain text.
        let result = try TLSClient.exchange(
            group: world.group, in: world.clientNamespace, to: MeshFixtures.apiAddress, port: MeshDataPath.inboundPort, presenting: svid,
            trust: MeshTrust(world.ca), payload: "GET / HTTP/1.1\r\n\r\n"
        ).wait()
        #expect(!result.handshake)
        #expect(world.app(9080).accepted.current == 0)
        let record = try only(world.flows)
        #expect(record.outcome == .closed)
        #expect(record.detail == "bad-http-request")
        #expect(record.mode?.mode == .disable)
        #expect(record.principal == nil)
    }
}

@Suite("Mesh proxy: inbound passthrough", .serialized)
struct MeshProxyPassthroughTests {
    @Test("TLS towards a sidecar DISABLE TCP port passes through as plain TCP: the application gets the ClientHello, the client fails")
    func disableTCPPassthrough() throws {
        // No AuthorizationPolicy: a plaintext (principal-less) connection is allowed.
        var cluster = MeshFixtures.cluster(mode: .disable)
        cluster.authorizationPolicies = [:]
        let world = try ProxyWorld(cluster: cluster, originalPort: 8080)
        defer { world.tearDown() }
        let result = try world.clientTLSToServedApp()
        #expect(!result.handshake)
        #expect(world.app(8080).accepted.current == 1)
        #expect(world.app(8080).received.current > 0)
        let record = try #require(world.flows.records.values.first)
        #expect(record.detail == "tls-passthrough")
        #expect(record.mode?.mode == .disable)
        #expect(record.principal == nil)
    }
}

/// ztunnel terminates mutual TLS on 15008 only: TLS sent to an ambient pod's application port
/// reaches its plaintext inbound listener, which passes the bytes on and gives the connection no
/// identity (spec mesh.md R17; `istio/ztunnel` `src/proxy/inbound_passthrough.rs`).
@Suite("Mesh proxy: ambient application port", .serialized)
struct MeshProxyAmbientPortTests {
    /// The fixture's cluster with `prod/api` ambient (its own label) and the client outside the mesh.
    static func ambientCluster(mode: PeerAuthentication.Mode) -> Cluster {
        var cluster = MeshFixtures.cluster(mode: mode)
        cluster.sidecars = []
        cluster.pods[MeshFixtures.api]?.labels[Pod.MeshLabel.dataplaneMode] = "ambient"
        return cluster
    }

    @Test("a genuine certificate sent to an ambient application port is no identity: the principal rule resets it")
    func genuineCertificateHasNoIdentity() throws {
        let cluster = Self.ambientCluster(mode: .permissive)
        #expect(cluster.dataPlane(of: MeshFixtures.api) == .ambient)
        let world = try ProxyWorld(cluster: cluster, originalPort: 8080)
        defer { world.tearDown() }
        let result = try world.clientTLSToServedApp()
        #expect(!result.handshake)
        #expect(world.app(8080).accepted.current == 0)
        let record = try #require(world.flows.records.values.first)
        #expect(record.outcome == .denyRBAC)
        #expect(record.principal == nil)
        #expect(record.plane == .ambient)
        #expect(record.authorization?.allowPolicies == [ObjectKey("prod", "api-allow")])
    }

    @Test("without a policy the TLS bytes pass through to the application, as plain TCP")
    func tlsPassesThrough() throws {
        var cluster = Self.ambientCluster(mode: .permissive)
        cluster.authorizationPolicies = [:]
        let world = try ProxyWorld(cluster: cluster, originalPort: 8080)
        defer { world.tearDown() }
        let result = try world.clientTLSToServedApp()
        #expect(!result.handshake)
        #expect(world.app(8080).accepted.current == 1)
        #expect(world.app(8080).received.current > 0)
        let record = try #require(world.flows.records.values.first)
        #expect(record.detail == "tls-passthrough")
        #expect(record.principal == nil)
    }

    @Test("on a STRICT ambient port TLS is plaintext to ztunnel: refused before the application")
    func strictRefusesIt() throws {
        let world = try ProxyWorld(cluster: Self.ambientCluster(mode: .strict), originalPort: 8080)
        defer { world.tearDown() }
        let result = try world.clientTLSToServedApp()
        #expect(!result.handshake)
        #expect(world.app(8080).accepted.current == 0)
        let record = try #require(world.flows.records.values.first)
        #expect(record.outcome == .denyMTLS)
        #expect(record.detail == "plaintext-refused")
    }
}

extension ProxyWorld {
    /// prod/client's own SVID, in TLS to api's port 8080 (served with a line) through the
    /// inbound listener: what a client outside the proxy's termination sends.
    func clientTLSToServedApp() throws -> TLSClient.Result {
        try serve(8080, .line)
        let svid = try ca.issue(namespace: "prod", serviceAccount: "client")
        return try TLSClient.exchange(
            group: group, in: clientNamespace, to: MeshFixtures.apiAddress, port: MeshDataPath.inboundPort, presenting: svid,
            trust: MeshTrust(ca), payload: "hello\n"
        ).wait()
    }
}
