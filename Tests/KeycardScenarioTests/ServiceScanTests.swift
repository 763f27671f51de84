import KeycardModel
import KeycardScenario
import KeycardTestSupport
import KeycardValues
import Testing

/// A scan over Services' addresses (`Cluster.scanTargets`), without root: a ClusterIP from a pod
/// is judged by its best backend (the one the scan aims at), a node port from an external along
/// `NodePortPath`, a node port from a pod and a hairpin are not judged, and a pod's undeclared
/// Service target port is open. The lab agrees in both placements: `scenarios/service-scan.yaml`
/// runs in the scenario library suite.
struct ServiceScanTests {
    static let file = RepositoryFiles.absolute("scenarios/service-scan.yaml")
    static func shop(_ name: String) -> ObjectKey { ObjectKey("shop", name) }

    static func predictions(step: Int, from source: ObjectKey, in timeline: Timeline? = nil) throws -> [PredictedScan] {
        let timeline = try timeline ?? ScenarioLoader.timeline(file)
        guard case .scan(let scan) = timeline.scenario.steps.first(where: { $0.index == step })?.action else {
            throw ScanStepMissing(step: step)
        }
        return timeline.scanTargets(ofStep: step, from: source, scan)
    }

    struct ScanStepMissing: Error { var step: Int }

    static func prediction(_ all: [PredictedScan], _ ip: IPv4?, _ port: Int) throws -> PredictedScan {
        try #require(all.first { $0.ip == ip && $0.port == port })
    }

    @Test func clusterIPIsOpenWhenAnyBackendAnswers() throws {
        let timeline = try ScenarioLoader.timeline(Self.file)
        let cluster = timeline.cluster(afterStep: 1)
        let web = try #require(cluster.services[Self.shop("web")]?.clusterIP)
        let db = try #require(cluster.services[Self.shop("db")]?.clusterIP)
        let gone = try #require(cluster.services[Self.shop("gone")]?.clusterIP)
        let all = try Self.predictions(step: 1, from: Self.shop("client"))
        // web-a comes first in the proxy's order and a policy closes it: the scan aims at web-b.
        let toWeb = try Self.prediction(all, web, 80)
        #expect(toWeb.endpoint == .service(Self.shop("web"), backend: Self.shop("web-b")))
        #expect(toWeb.model == .open)
        // A port the Service lacks, and a Service without endpoints: no answer, left out of reports.
        let wrongPort = try Self.prediction(all, web, 9999)
        #expect(wrongPort.endpoint == .service(Self.shop("web")) && wrongPort.model == .filtered)
        #expect(wrongPort.isQuiet(observed: .filtered))
        #expect(!wrongPort.isQuiet(observed: .open))
        #expect(try Self.prediction(all, gone, 80).model == .filtered)
        // db's admin port sends 6000, which db never declares: its application listens there.
        #expect(try Self.prediction(all, db, 6000).model == .open)
        #expect(try Self.prediction(all, db, 5432).model == .open)
    }

    @Test func undeclaredTargetPortIsOpenOnThePod() throws {
        let all = try Self.predictions(step: 2, from: Self.shop("client"))
        let db = try #require(all.first { $0.endpoint == .pod(Self.shop("db")) && $0.port == 6000 })
        #expect(db.model == .open)
        let webA = try #require(all.first { $0.endpoint == .pod(Self.shop("web-a")) && $0.port == 8080 })
        #expect(webA.model == .filtered)
    }

    @Test func nodePortsAreJudgedFromOutsideOnly() throws {
        let node0 = LabNetwork.nodeAddress(0)
        let fromInternet = try Self.prediction(Self.predictions(step: 3, from: .external("internet")), node0, 30080)
        #expect(fromInternet.model == .open)
        guard case .exposed(let key, .node(0), let backend?) = fromInternet.endpoint else {
            Issue.record("expected a node port path, got \(fromInternet.endpoint)")
            return
        }
        #expect(key == Self.shop("web") && backend == Self.shop("web-b"))
        // Port 22 on a node: no node port, the node itself answers nothing.
        #expect(try Self.prediction(Self.predictions(step: 3, from: .external("internet")), node0, 22).model == .closed)
        let fromClient = try Self.prediction(Self.predictions(step: 4, from: Self.shop("client")), node0, 30080)
        #expect(fromClient.model == nil)
        #expect(!fromClient.isQuiet(observed: .filtered))
    }

    @Test func lockingEveryBackendClosesTheClusterIP() throws {
        let timeline = try ScenarioLoader.timeline(Self.file)
        let web = try #require(timeline.cluster(afterStep: 6).services[Self.shop("web")]?.clusterIP)
        #expect(try Self.prediction(Self.predictions(step: 6, from: Self.shop("client")), web, 80).model == .filtered)
        #expect(
            try Self.prediction(Self.predictions(step: 7, from: .external("internet")), LabNetwork.nodeAddress(1), 30080).model == .filtered
        )
    }

    /// A pod running a program has no port server: a Service's undeclared target port on it is
    /// predicted closed, through its ClusterIP too (the lab serves it only on port-server pods).
    @Test func programPodsListenOnlyOnWhatTheyDeclare() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: program-scan}
            spec:
              resources:
                - {apiVersion: v1, kind: Pod, metadata: {name: worker, labels: {app: shop}}, spec: {containers: [{name: c, command: [sleep, "3600"]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: web, labels: {app: shop}}, spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: client}, spec: {containers: [{name: c}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: shop}, spec: {selector: {app: shop}, ports: [{port: 80, targetPort: 8080}]}}
              steps:
                - scan: {from: default/client, targets: pods, ports: [8080]}
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "program-scan.yaml")
        let all = try Self.predictions(step: 1, from: ObjectKey("default", "client"), in: timeline)
        #expect(all.first { $0.endpoint == .pod(ObjectKey("default", "worker")) }?.model == .closed)
        #expect(all.first { $0.endpoint == .pod(ObjectKey("default", "web")) }?.model == .open)
    }

    @Test func hairpinAndNodesAreNotJudged() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: hairpin-scan}
            spec:
              resources:
                - {apiVersion: v1, kind: Pod, metadata: {name: solo, labels: {app: solo}}, spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: other}, spec: {containers: [{name: c}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: solo}, spec: {selector: {app: solo}, ports: [{port: 80}]}}
              steps:
                - scan: {from: default/solo, targets: 10.96.1.0/28, ports: [80]}
                - scan: {from: node/node-0, targets: 10.96.1.0/28, ports: [80]}
                - scan: {from: default/other, targets: 10.96.1.0/28, ports: [80]}
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "hairpin-scan.yaml")
        let ip = try #require(timeline.cluster(afterStep: 1).services[ObjectKey("default", "solo")]?.clusterIP)
        func predicted(_ step: Int, _ source: ObjectKey) throws -> PredictedScan {
            try Self.prediction(Self.predictions(step: step, from: source, in: timeline), ip, 80)
        }
        // Its only backend is the scanner itself: the lab builds no hairpin path, nothing judged.
        let hairpin = try predicted(1, ObjectKey("default", "solo"))
        #expect(hairpin.model == nil && hairpin.endpoint == .service(ObjectKey("default", "solo"), backend: ObjectKey("default", "solo")))
        #expect(try predicted(2, .node("node-0")).model == nil)
        #expect(try predicted(3, ObjectKey("default", "other")).model == .open)
    }
}

/// Host-network pods listen on their node's address: a scan finds their ports open where no
/// policy denies (NetworkPolicy never isolates them), once per address however many such pods
/// share it.
struct HostNetworkScanTests {
    @Test func aNodeAddressServesItsHostNetworkPodsPorts() throws {
        let (cluster, client) = HostNetworkWorld.cluster([
            ("exporter", [ContainerPort(port: 9100)]), ("agent", [ContainerPort(port: 9200)]),
        ])
        let scan = cluster.scanTargets(from: client, .pods, ports: [9100, 9200, 9300], meshIdentity: nil)
        #expect(scan.map(\.ip) == Array(repeating: LabNetwork.nodeAddress(0), count: 3), "one address, scanned once")
        #expect(scan.map(\.model) == [.open, .open, .closed])
    }
}
