import KeycardMesh
import KeycardModel
import KeycardRuleset
import KeycardTestSupport
import KeycardValues
import Testing

/// The outbound side's pure decisions: which backend, which port, what is presented (no root).
@Suite("Mesh route")
struct MeshRouteTests {
    /// The fixture plus a second api backend `prod/api-1` (10.211.0.3) and an unmeshed `prod/legacy`.
    static func cluster(mode: PeerAuthentication.Mode = .strict) -> Cluster {
        var cluster = MeshFixtures.cluster(mode: mode)
        let second = ObjectKey("prod", "api-1")
        cluster.pods[second] = Pod(
            namespace: "prod", name: "api-1", labels: ["app": "api"], ports: [ContainerPort(name: "tcp", port: 8080)],
            serviceAccountName: "api")
        cluster.addresses[second] = "10.211.0.3"
        cluster.sidecars.insert(second)
        let legacy = ObjectKey("prod", "legacy")
        cluster.pods[legacy] = Pod(namespace: "prod", name: "legacy", labels: ["app": "legacy"])
        cluster.addresses[legacy] = "10.211.0.9"
        return cluster
    }

    @Test("a ClusterIP resolves to the backend the Service DNAT's source-port hash picks, and its target port")
    func serviceBackend() throws {
        let cluster = Self.cluster()
        let service = try #require(cluster.services[ObjectKey("prod", "api")])
        let backends = cluster.backends(of: service, port: service.ports[0])
        #expect(backends.count == 2)
        for index in 0..<2 {
            let port = try #require(ServiceHash.sourcePort(landingOn: index, of: 2, in: 20000...32767))
            let route = MeshRoute.resolve(
                cluster, source: MeshFixtures.client, clientPort: port, destination: MeshFixtures.serviceIP, port: 80,
                request: MeshRequest())
            #expect(route.service == ObjectKey("prod", "api"))
            #expect(route.pod == backends[index].pod)
            #expect(route.address == backends[index].address)
            #expect(route.port == 8080)
            #expect(route.presented == .mutualTLS(principal: "cluster.local/ns/prod/sa/client"))
        }
    }

    @Test("what a connection presents follows the model's client logic (R14, R15, R17, R18)")
    func presented() {
        let cluster = Self.cluster()
        func presented(_ request: MeshRequest, to address: IPv4 = MeshFixtures.apiAddress, in cluster: Cluster = cluster)
            -> PresentedIdentity
        {
            MeshRoute.resolve(cluster, source: MeshFixtures.client, clientPort: 40000, destination: address, port: 8080, request: request)
                .presented
        }
        #expect(presented(MeshRequest()) == .mutualTLS(principal: "cluster.local/ns/prod/sa/client"))
        #expect(presented(MeshRequest(identity: .none)) == .plaintext)
        #expect(
            presented(MeshRequest(identity: .spoofed("spiffe://cluster.local/ns/x/sa/y")))
                == .rogue(uri: "spiffe://cluster.local/ns/x/sa/y"))
        #expect(
            presented(MeshRequest(identity: .stolen("spiffe://cluster.local/ns/prod/sa/intruder")))
                == .mutualTLS(principal: "cluster.local/ns/prod/sa/intruder"))
        // A sidecar sends a pod-IP call through its passthrough cluster in plaintext (R15).
        #expect(presented(MeshRequest(route: .podIP)) == .plaintext)
        // Outside the mesh and to a DISABLE port: no certificate is asked for (R4, R14).
        #expect(presented(MeshRequest(), to: "10.211.0.9") == .plaintext)
        #expect(presented(MeshRequest(), in: Self.cluster(mode: .disable)) == .plaintext)
        #expect(
            presented(MeshRequest(identity: .spoofed("spiffe://cluster.local/ns/x/sa/y")), in: Self.cluster(mode: .disable)) == .plaintext)
    }

    @Test("from outside the mesh to an ambient pod nothing terminates mutual TLS: a stolen or spoofed certificate is plaintext (R17)")
    func outsideToAmbientIsPlaintext() {
        var cluster = Self.cluster(mode: .permissive)
        cluster.sidecars.remove(MeshFixtures.api)
        cluster.pods[MeshFixtures.api]?.labels[Pod.MeshLabel.dataplaneMode] = "ambient"
        let outside = ObjectKey("prod", "legacy")
        for identity in [ProbeIdentity.stolen("spiffe://cluster.local/ns/prod/sa/client"), .spoofed("spiffe://cluster.local/ns/x/sa/y")] {
            let route = MeshRoute.resolve(
                cluster, source: outside, clientPort: 40000, destination: MeshFixtures.apiAddress, port: 8080,
                request: MeshRequest(identity: identity))
            #expect(route.presented == .plaintext, "\(identity)")
            #expect(!route.tunnel)
            #expect(route.hopPort == 8080)
        }
        // A meshed (sidecar) client still tunnels with its certificate.
        let meshed = MeshRoute.resolve(
            cluster, source: MeshFixtures.client, clientPort: 40000, destination: MeshFixtures.apiAddress, port: 8080,
            request: MeshRequest(identity: .stolen("spiffe://cluster.local/ns/prod/sa/intruder")))
        #expect(meshed.presented == .mutualTLS(principal: "cluster.local/ns/prod/sa/intruder"))
        #expect(meshed.tunnel)
    }

    @Test("an ambient client reaches a sidecar DISABLE port over HBONE with its identity; a sidecar client sends plaintext")
    func ambientToSidecarDisableTunnels() {
        var cluster = Self.cluster(mode: .disable)
        cluster.sidecars.remove(MeshFixtures.client)
        cluster.pods[MeshFixtures.client]?.labels[Pod.MeshLabel.dataplaneMode] = "ambient"
        let route = MeshRoute.resolve(
            cluster, source: MeshFixtures.client, clientPort: 40000, destination: MeshFixtures.apiAddress, port: 8080,
            request: MeshRequest())
        #expect(route.presented == .mutualTLS(principal: "cluster.local/ns/prod/sa/client"))
        #expect(route.tunnel)
        #expect(route.hopPort == MeshDataPath.hbonePort)
        let sidecar = MeshRoute.resolve(
            Self.cluster(mode: .disable), source: MeshFixtures.client, clientPort: 40000, destination: MeshFixtures.apiAddress, port: 8080,
            request: MeshRequest())
        #expect(sidecar.presented == .plaintext)
        #expect(!sidecar.tunnel)
    }

    @Test("a pod address resolves to that pod and port; an unknown address stays as dialled")
    func podAddress() {
        let cluster = Self.cluster()
        let route = MeshRoute.resolve(
            cluster, source: MeshFixtures.client, clientPort: 40000, destination: "10.211.0.3", port: 8080, request: MeshRequest())
        #expect(route.pod == ObjectKey("prod", "api-1"))
        #expect(route.address == "10.211.0.3")
        let elsewhere = MeshRoute.resolve(
            cluster, source: MeshFixtures.client, clientPort: 40000, destination: "192.0.2.1", port: 443, request: MeshRequest())
        #expect(elsewhere.pod == nil)
        #expect(elsewhere.address == "192.0.2.1")
        #expect(elsewhere.port == 443)
        #expect(elsewhere.presented == .plaintext)
    }
}
