import Foundation
import KeycardKernel
import KeycardMesh
import KeycardModel
import KeycardTestSupport
import KeycardValues
import NIOCore
import Testing

/// Both proxies with the kernel's redirection, installed here with `nft` as the lab's nat rules
/// will be (spec mesh.md 2.8): the client's own outbound TCP → 15001, TCP arriving at the api →
/// 15006, marked packets exempt. `SO_ORIGINAL_DST` is the kernel's. Root, real namespaces.
@Suite("Mesh proxy: end to end", .serialized)
struct MeshProxyEndToEndTests {
    static let clientRules = """
        table ip kc_mesh_test {
            chain output {
                type nat hook output priority -100; policy accept;
                meta mark 0x6b63 return
                ip daddr 127.0.0.0/8 return
                meta l4proto tcp redirect to :15001
            }
        }
        """
    static let apiRules = """
        table ip kc_mesh_test {
            chain drop8081 {
                type filter hook prerouting priority -300; policy accept;
                tcp dport 8081 drop
            }
            chain prerouting {
                type nat hook prerouting priority -100; policy accept;
                tcp dport { 15001, 15006 } return
                meta l4proto tcp redirect to :15006
            }
        }
        """

    /// Drops TCP to 15008 as a NetworkPolicy would.
    static let dropHBONE = """
        table ip kc_mesh_test_hbone {
            chain c {
                type filter hook prerouting priority -300; policy accept;
                tcp dport 15008 drop
            }
        }
        """

    private func clientFlow(_ port: UInt16, to address: IPv4 = MeshFixtures.apiAddress, _ destinationPort: UInt16) -> MeshFlow {
        MeshFlow(MeshFixtures.clientAddress, port, address, destinationPort)
    }

    @Test("a client's plain connection goes through both proxies over mutual TLS; identities, Services and drops are recorded per flow")
    func endToEnd() throws {
        let world = try ProxyWorld(cluster: MeshFixtures.cluster(), originalPort: nil)
        defer { world.tearDown() }
        try world.attachClient()
        try world.world.nft(in: world.clientNamespace, Self.clientRules)
        try world.world.nft(in: world.apiNamespace, Self.apiRules)
        try world.serve(8080, .line)
        let app = world.app(8080)

        // mesh identity (default intent): own SVID, allowed by rule 0.
        let allowed = try PlainClient.exchange(
            in: world.clientNamespace, to: MeshFixtures.apiAddress, port: 8080, payload: "hello\n", sourcePort: 25001)
        #expect(allowed.text == "prod/api\n", "records: \(world.flows.records)")
        let allowedRecord = try #require(world.flows.outcome(ofClientFlow: clientFlow(25001, 8080)))
        #expect(allowedRecord.outcome == .allow)
        #expect(allowedRecord.principal == "cluster.local/ns/prod/sa/client")
        #expect(allowedRecord.authorization?.ruleIndex == 0)
        #expect(app.accepted.current == 1)

        // identity none: plaintext, refused by STRICT at the api's proxy.
        world.intents.set(MeshRequest(identity: .none), pod: MeshFixtures.client, sourcePort: 25002)
        let plaintext = try PlainClient.exchange(
            in: world.clientNamespace, to: MeshFixtures.apiAddress, port: 8080, payload: "hello\n", sourcePort: 25002)
        #expect(plaintext.bytes.isEmpty)
        let plaintextRecord = try #require(world.flows.outcome(ofClientFlow: clientFlow(25002, 8080)))
        #expect(plaintextRecord.outcome == .denyMTLS)
        #expect(plaintextRecord.detail == "plaintext-refused")

        // spoofed: a rogue certificate, refused in the handshake.
        world.intents.set(
            MeshRequest(identity: .spoofed("spiffe://cluster.local/ns/prod/sa/client")), pod: MeshFixtures.client, sourcePort: 25003)
        let spoofed = try PlainClient.exchange(
            in: world.clientNamespace, to: MeshFixtures.apiAddress, port: 8080, payload: "hello\n", sourcePort: 25003)
        #expect(spoofed.bytes.isEmpty)
        let spoofedRecord = try #require(world.flows.outcome(ofClientFlow: clientFlow(25003, 8080)))
        #expect(spoofedRecord.outcome == .denyMTLS)
        #expect(spoofedRecord.detail == "bad-certificate")

        // stolen: a genuine certificate of another identity passes the handshake, not the policy.
        world.intents.set(
            MeshRequest(identity: .stolen("spiffe://cluster.local/ns/prod/sa/intruder")), pod: MeshFixtures.client, sourcePort: 25004)
        let stolen = try PlainClient.exchange(
            in: world.clientNamespace, to: MeshFixtures.apiAddress, port: 8080, payload: "hello\n", sourcePort: 25004)
        #expect(stolen.bytes.isEmpty)
        let stolenRecord = try #require(world.flows.outcome(ofClientFlow: clientFlow(25004, 8080)))
        #expect(stolenRecord.outcome == .denyRBAC)
        #expect(stolenRecord.detail == "reset")
        #expect(stolenRecord.principal == "cluster.local/ns/prod/sa/intruder")
        #expect(app.accepted.current == 1)

        // The Service's ClusterIP: the proxy resolves the backend and target port itself.
        let viaService = try PlainClient.exchange(
            in: world.clientNamespace, to: MeshFixtures.serviceIP, port: 80, payload: "hello\n", sourcePort: 25005)
        #expect(viaService.text == "prod/api\n")
        let serviceRecord = try #require(world.flows.outcome(ofClientFlow: clientFlow(25005, to: MeshFixtures.serviceIP, 80)))
        #expect(serviceRecord.outcome == .allow)
        #expect(serviceRecord.pod == MeshFixtures.api)

        // A drop on the way (as a NetworkPolicy drop): the upstream connect times out → deny.
        let dropped = try PlainClient.exchange(
            in: world.clientNamespace, to: MeshFixtures.apiAddress, port: 8081, payload: "hello\n", sourcePort: 25006)
        #expect(dropped.bytes.isEmpty)
        let droppedRecord = try #require(world.flows.outcome(ofClientFlow: clientFlow(25006, 8081)))
        #expect(droppedRecord.outcome == .deny)
        #expect(app.accepted.current == 2)
    }

    @Test("a client port reused for another destination keeps its flow when the redirect moves its source port")
    func reusedClientPortKeepsItsFlow() throws {
        let world = try ProxyWorld(cluster: MeshFixtures.cluster(), originalPort: nil)
        defer { world.tearDown() }
        try world.attachClient()
        try world.world.nft(in: world.clientNamespace, Self.clientRules)
        try world.world.nft(in: world.apiNamespace, Self.apiRules)
        try world.serve(8080, .line)

        let first = try PlainClient.exchange(
            in: world.clientNamespace, to: MeshFixtures.apiAddress, port: 8080, payload: "hello\n", sourcePort: 25101)
        #expect(first.text == "prod/api\n")
        // The same source port to another destination, while the first connection's entry still
        // lingers: both redirects want the reply tuple 127.0.0.1:15001 → client:25101, so the
        // kernel moves the second to another source port. The proxy must still see 25101: its
        // intent (a stolen identity, refused by the policy) and its record are keyed by it.
        world.intents.set(
            MeshRequest(identity: .stolen("spiffe://cluster.local/ns/prod/sa/intruder")), pod: MeshFixtures.client, sourcePort: 25101)
        let second = try PlainClient.exchange(
            in: world.clientNamespace, to: MeshFixtures.serviceIP, port: 80, payload: "hello\n", sourcePort: 25101)
        #expect(second.bytes.isEmpty, "records: \(world.flows.records)")
        let record = try #require(
            world.flows.outcome(ofClientFlow: clientFlow(25101, to: MeshFixtures.serviceIP, 80)), "records: \(world.flows.records)")
        #expect(record.outcome == .denyRBAC)
        #expect(record.principal == "cluster.local/ns/prod/sa/intruder")
    }

    /// The api's rules for ambient hops: HBONE (15008) reaches the proxy's listener unredirected,
    /// and TCP to the application port 8080 arriving from outside is dropped before the capture.
    static let ambientAPIRules = """
        table ip kc_mesh_test {
            chain drop8080 {
                type filter hook prerouting priority -300; policy accept;
                iifname != "lo" tcp dport 8080 drop
            }
            chain prerouting {
                type nat hook prerouting priority -100; policy accept;
                tcp dport { 15001, 15006, 15008 } return
                meta l4proto tcp redirect to :15006
            }
        }
        """

    @Test("ambient to ambient goes over HBONE: TCP to the api's 15008, the original port named in the tunnel; dropping 15008 drops it")
    func hbone() throws {
        var cluster = MeshFixtures.cluster()
        cluster.sidecars = []
        cluster.namespaces["prod"] = Namespace(name: "prod", labels: [Pod.MeshLabel.dataplaneMode: "ambient"])
        let world = try ProxyWorld(cluster: cluster, originalPort: nil)
        defer { world.tearDown() }
        try world.attachClient()
        try world.world.nft(in: world.clientNamespace, Self.clientRules)
        try world.world.nft(in: world.apiNamespace, Self.ambientAPIRules)
        try world.serve(8080, .line)
        let app = world.app(8080)

        // 8080 is dropped on the wire, yet the call gets through: the hop is 15008.
        let allowed = try PlainClient.exchange(
            in: world.clientNamespace, to: MeshFixtures.apiAddress, port: 8080, payload: "hello\n", sourcePort: 25101)
        #expect(allowed.text == "prod/api\n", "records: \(world.flows.records)")
        let record = try #require(world.flows.outcome(ofClientFlow: clientFlow(25101, 8080)))
        #expect(record.outcome == .allow)
        #expect(record.plane == .ambient)
        #expect(record.principal == "cluster.local/ns/prod/sa/client")
        #expect(record.authorization?.ruleIndex == 0)
        #expect(app.accepted.current == 1)

        // A rogue certificate over the tunnel: refused in the handshake (recorded by the outbound side).
        world.intents.set(
            MeshRequest(identity: .spoofed("spiffe://cluster.local/ns/prod/sa/client")), pod: MeshFixtures.client, sourcePort: 25102)
        let spoofed = try PlainClient.exchange(
            in: world.clientNamespace, to: MeshFixtures.apiAddress, port: 8080, payload: "hello\n", sourcePort: 25102)
        #expect(spoofed.bytes.isEmpty)
        let spoofedRecord = try #require(world.flows.outcome(ofClientFlow: clientFlow(25102, 8080)))
        #expect(spoofedRecord.outcome == .denyMTLS)
        #expect(spoofedRecord.detail == "bad-certificate")

        // Now drop 15008 as a NetworkPolicy would: the tunnel's connect times out → deny.
        try world.world.nft(in: world.apiNamespace, Self.dropHBONE)
        let dropped = try PlainClient.exchange(
            in: world.clientNamespace, to: MeshFixtures.apiAddress, port: 8080, payload: "hello\n", sourcePort: 25103)
        #expect(dropped.bytes.isEmpty)
        let droppedRecord = try #require(world.flows.outcome(ofClientFlow: clientFlow(25103, 8080)))
        #expect(droppedRecord.outcome == .deny)
        #expect(app.accepted.current == 1)
    }

    @Test(
        "a connection to another address's port 15006 or 15008 leaves the pod: a Service's 15006 reaches its backend, a drop of the api's 15008 is a deny"
    )
    func proxyPortsOfAnotherAddressAreDialled() throws {
        var cluster = MeshFixtures.cluster()
        cluster.services[ObjectKey("prod", "api-15006")] = Service(
            namespace: "prod", name: "api-15006", selector: ["app": "api"], address: .ip("10.96.0.11"),
            ports: [ServicePort(name: "tcp", port: 15006, target: .number(8080))])
        let world = try ProxyWorld(cluster: cluster, originalPort: nil)
        defer { world.tearDown() }
        try world.attachClient()
        try world.world.nft(in: world.clientNamespace, Self.clientRules)
        try world.world.nft(in: world.apiNamespace, Self.apiRules)
        try world.world.nft(in: world.apiNamespace, Self.dropHBONE)
        try world.serve(8080, .line)

        // The Service's port 15006 is the proxy's own port number, yet the Service resolves to the api's 8080.
        let viaService = try PlainClient.exchange(
            in: world.clientNamespace, to: "10.96.0.11", port: 15006, payload: "hello\n", sourcePort: 25201)
        #expect(viaService.text == "prod/api\n", "records: \(world.flows.records)")
        let serviceRecord = try #require(world.flows.outcome(ofClientFlow: clientFlow(25201, to: "10.96.0.11", 15006)))
        #expect(serviceRecord.outcome == .allow)

        // The api's 15008, dropped on the wire as a NetworkPolicy would: the proxy dialled it.
        let dropped = try PlainClient.exchange(
            in: world.clientNamespace, to: MeshFixtures.apiAddress, port: 15008, payload: "hello\n", sourcePort: 25202)
        #expect(dropped.bytes.isEmpty)
        let droppedRecord = try #require(world.flows.outcome(ofClientFlow: clientFlow(25202, 15008)))
        #expect(droppedRecord.outcome == .deny)
    }
}
