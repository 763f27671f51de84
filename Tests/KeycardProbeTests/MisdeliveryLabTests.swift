import Glibc
import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardScenario
import KeycardTopology
import KeycardValues
import Testing

@testable import KeycardProbe

/// A probe cell proves something about its destination only when the destination answered: a
/// connection another pod answers (the packet was delivered to the wrong address) fails the cell
/// as a lab error, even where the model expects it allowed. Real packets in a real lab; the
/// misdelivery is made by handing the runner pod `b`'s address for pod `a`.
@Suite(.serialized, .enabled(if: geteuid() == 0, "needs root"))
struct MisdeliveryLabTests {
    static let scenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: misdelivery}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: shop}, spec: {containers: [{name: c}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: shop}, spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: b, namespace: shop}, spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}}
          steps:
            - probe: {from: [shop/client], to: [shop/a, shop/b], ports: [TCP/80]}
        """

    @Test func aCellAnsweredByAnotherPodFailsAsALabError() throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario, file: "misdelivery.yaml")
        let labName = NinePodModel.labName("mis")
        let lab = try Lab.up(spec: LabSpec(timeline, labName: labName))
        defer { _ = try? Lab.down(name: labName) }
        let server = try PortServer(endpoints: LabServing.endpoints(lab.plan))
        defer { server.stop() }
        let cluster = timeline.initial
        let a = ObjectKey("shop", "a")
        let b = ObjectKey("shop", "b")
        let bAddress = try #require(cluster.address(of: .pod(b)))
        let runner = SocketProbeRunner(
            namespaces: LabServing.sourceNamespaces(lab.plan),
            addresses: { [cluster] in $0 == .pod(a) ? bAddress : cluster.address(of: $0) })
        let cells = timeline.cells(ofProbeStep: 1)
        #expect(cells.map(\.to) == [.pod(a), .pod(b)])
        #expect(cells.allSatisfy { $0.outcome == .allow })

        let seen = try runner.observe(cells, settings: timeline.scenario.probeDefaults)
        #expect(seen[0].labError)
        #expect(seen[0].observation == .deny)
        #expect(seen[0].reason == "lab error: answered by \"shop/b\", not by shop/a: the packet reached another endpoint")
        #expect(seen[1] == CellObservation(observation: .allow, attempts: 1))
        let results = zip(cells, seen).map { $0.result($1) }
        #expect(results[0].labError == true && !results[0].passed)
        #expect(results[1].passed)
    }
}
