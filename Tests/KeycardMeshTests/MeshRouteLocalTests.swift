import KeycardMesh
import KeycardModel
import KeycardRuleset
import KeycardTestSupport
import KeycardValues
import Testing

/// The sidecar's endpoint choice honours `internalTrafficPolicy: Local` as the node's proxy does
/// (`ClusterIPPath`; Istio does too, istio/istio#42551): only the client's node's backends.
@Suite("Mesh route under internalTrafficPolicy Local")
struct MeshRouteLocalTests {
    /// The route fixture with the client and prod/api on node-0, prod/api-1 on node-1.
    static func cluster(_ policy: InternalTrafficPolicy) -> Cluster {
        var cluster = MeshRouteTests.cluster()
        cluster.nodeCount = 2
        cluster.podNodes = [MeshFixtures.client: 0, MeshFixtures.api: 0, ObjectKey("prod", "api-1"): 1]
        cluster.services[ObjectKey("prod", "api")]?.internalTrafficPolicy = policy
        return cluster
    }

    func routes(_ cluster: Cluster) -> Set<ObjectKey?> {
        Set(
            (20000..<20064).map { port in
                MeshRoute.resolve(
                    cluster, source: MeshFixtures.client, clientPort: UInt16(port), destination: MeshFixtures.serviceIP, port: 80,
                    request: MeshRequest()
                ).pod
            })
    }

    @Test func localSendsEverySourcePortToTheClientsNode() {
        #expect(routes(Self.cluster(.local)) == [MeshFixtures.api])
        #expect(routes(Self.cluster(.cluster)) == [MeshFixtures.api, ObjectKey("prod", "api-1")])
    }

    @Test func aNodeWithoutALocalBackendKeepsTheClusterIP() {
        var cluster = Self.cluster(.local)
        cluster.podNodes[MeshFixtures.client] = 1
        cluster.podNodes[ObjectKey("prod", "api-1")] = 0
        let route = MeshRoute.resolve(
            cluster, source: MeshFixtures.client, clientPort: 20000, destination: MeshFixtures.serviceIP, port: 80, request: MeshRequest())
        #expect(route.pod == nil)
        #expect(route.address == MeshFixtures.serviceIP, "the node's proxy table then drops it")
    }
}
