import KeycardKernel
import KeycardModel
import KeycardScenario
import KeycardValues
import Testing

@testable import KeycardProbe

/// A scan target on a Service address is sent from the source port that lands on the backend the
/// model chose, and carries that backend's address and port, so that a drop the kernel logs
/// behind the DNAT settles it at once, as it settles a probe's (the scan review's left item:
/// such drops ended as timeouts, the scan waiting its whole deadline on every one).
@Suite struct ScanAimTests {
    static let scenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: scan-aim}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: shop}, spec: {containers: [{name: c}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: shop, labels: {app: web}}, spec: {containers: [{name: c, ports: [{containerPort: 8080}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: b, namespace: shop, labels: {app: web}}, spec: {containers: [{name: c, ports: [{containerPort: 8080}]}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: shop}, spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}}
          steps:
            - probe: {from: [shop/client], to: [shop/a], ports: [TCP/8080]}
        """

    static let nodePort = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: scan-aim-np}
        spec:
          lab: {nodes: 2}
          externals: [{name: internet, ip: 203.0.113.10}]
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
            - {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: shop, labels: {app: web}}, spec: {nodeName: node-1, containers: [{name: c, ports: [{containerPort: 8080}]}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: shop}, spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: 8080, nodePort: 30080}]}}
          steps:
            - probe: {from: [shop/a], to: [shop/a], ports: [TCP/8080]}
        """

    /// Through node-0's node port to a backend on node-1 (externalTrafficPolicy Cluster): the
    /// backend sees node-0's address, so the aim carries it as the source NAT the drop is logged with.
    @Test func aNodePortTargetCarriesItsBackendAndSourceNAT() throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.nodePort, file: "scan-aim-np.yaml")
        let cluster = timeline.initial
        var runner = SocketProbeRunner(namespaces: [:], addresses: { _ in nil })
        runner.services = ServiceAim(cluster)
        let service = ObjectKey("shop", "web")
        let a = ObjectKey("shop", "a")
        let endpoint = Endpoint.exposed(service, .node(0), backend: a)
        let entry = try #require(cluster.address(of: endpoint))
        var used: Set<UInt16> = []
        let aimed = runner.aimedTarget(from: ObjectKey("shop", "a"), ScanProbe(endpoint: endpoint, ip: entry, port: 30080), used: &used)
        #expect(aimed.backend == cluster.addresses[a] && aimed.backendPort == 8080)
        #expect(aimed.sourceNAT == LabNetwork.nodeAddress(0))
        #expect(aimed.request(from: "ns").sourceNAT == LabNetwork.nodeAddress(0))
    }

    @Test func aServiceTargetCarriesItsBackendAndAPodTargetNone() throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario, file: "scan-aim.yaml")
        let cluster = timeline.initial
        var runner = SocketProbeRunner(namespaces: [:], addresses: { _ in nil })
        runner.services = ServiceAim(cluster)
        let service = ObjectKey("shop", "web")
        let clusterIP = try #require(cluster.services[service]?.clusterIP)
        let b = ObjectKey("shop", "b")
        var used: Set<UInt16> = []
        let aimed = runner.aimedTarget(
            from: ObjectKey("shop", "client"), ScanProbe(endpoint: .service(service, backend: b), ip: clusterIP, port: 80), used: &used)
        #expect(aimed.address == clusterIP && aimed.port == 80)
        #expect(aimed.sourcePort != nil)
        #expect(aimed.backend == cluster.addresses[b] && aimed.backendPort == 8080)
        let request = aimed.request(from: "ns")
        #expect(request.translated?.address == cluster.addresses[b] && request.translated?.port == 8080)
        #expect(request.destination == clusterIP && request.sourcePort == aimed.sourcePort)

        let pod = try #require(cluster.addresses[b])
        let direct = runner.aimedTarget(from: ObjectKey("shop", "client"), ScanProbe(endpoint: .pod(b), ip: pod, port: 8080), used: &used)
        #expect(direct.backend == nil && direct.sourcePort == nil && direct.request(from: "ns").translated == nil)
    }
}
