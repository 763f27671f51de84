import Foundation
import KeycardModel
import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardScenario

/// `keycard diff` and `keycard graph` judge the cells `keycard model` judges: externals as
/// sources, and every port a probe step sends (ICMP, ports no pod serves), so a verdict the model
/// changes is a row of the diff.
@Suite struct DiffCellsTests {
    /// An external reaches shop/web until a default deny closes shop's ingress.
    static let externalSource = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: fm-ext-src}
        spec:
          externals: [{name: internet, ip: 203.0.113.77}]
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: shop, labels: {app: web}}, spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}}
          steps:
            - probe: {from: [external/internet], to: [shop/web], ports: [TCP/80]}
            - apply:
                - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny-ingress, namespace: shop}, spec: {podSelector: {}, policyTypes: [Ingress]}}
            - probe: {from: [external/internet], to: [shop/web], ports: [TCP/80]}
        """

    /// web serves TCP/80 only; the probes also send TCP/8080 and ICMP, which a policy admitting
    /// TCP/80 alone then denies.
    static let probedPorts = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: fm-allconns}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: shop, labels: {app: client}}, spec: {containers: [{name: c, image: curl}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: shop, labels: {app: web}}, spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}}
          steps:
            - probe: {from: [shop/client], to: [shop/web], ports: [TCP/80, TCP/8080, ICMP]}
            - apply:
                - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: web-80, namespace: shop}, spec: {podSelector: {matchLabels: {app: web}}, ingress: [{ports: [{protocol: TCP, port: 80}]}]}}
            - probe: {from: [shop/client], to: [shop/web], ports: [TCP/80, TCP/8080, ICMP]}
        """

    static func line(_ row: DiffRow) -> String { "\(row.diffType.rawValue) \(row.source) -> \(row.destination) \(row.dir1) | \(row.dir2)" }

    @Test func externalSourcesAreRowsAndEdges() throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.externalSource, file: "ext-src.yaml")
        let rows = ConnectivityDiff.compare(old: timeline, afterStep: 0, new: timeline, afterStep: 3)
        #expect(rows.map(Self.line) == ["removed 0.0.0.0-255.255.255.255[External] -> shop/web[Pod] TCP 80 | No Connections"])
        #expect(rows.first?.lost == ["TCP/80"] && rows.first?.workloadsDiffInfo == "")
        // The graph names the external by its address, as it does as a destination.
        let before = ConnectivityGraph(timeline, afterStep: 0)
        #expect(before.edges.contains { $0.allowed && $0.source.name == "203.0.113.77/32" && $0.destination.name == "shop/web[Pod]" })
        let after = ConnectivityGraph(timeline)
        let denied = try #require(after.edges.first { $0.source.name == "203.0.113.77/32" })
        #expect(!denied.allowed && denied.ports == [ProtocolPort(.tcp, 80)])
        // The library's internet-to-workload: its external's connections change between the resources and the end.
        let library = try ScenarioLoader.timeline(RepositoryFiles.absolute("scenarios/internet-to-workload.yaml"))
        let libraryRows = ConnectivityDiff.compare(
            old: library, afterStep: 0, new: library, afterStep: library.scenario.steps.count)
        #expect(libraryRows.contains { $0.source.hasSuffix(ExternalBlocks.externalSuffix) }, "\(libraryRows.map(Self.line))")
    }

    /// A probed port no pod serves and ICMP are compared, written as np-guard writes protocols
    /// (`ICMP` has no ports).
    @Test func probedPortsAndICMPAreCompared() throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.probedPorts, file: "allconns.yaml")
        let rows = ConnectivityDiff.compare(old: timeline, afterStep: 0, new: timeline, afterStep: 3)
        #expect(rows.map(Self.line) == ["changed shop/client[Pod] -> shop/web[Pod] ICMP,TCP 80,8080 | TCP 80"])
        #expect(rows.first?.lost == ["ICMP", "TCP/8080"] && rows.first?.gained == [])
        // The graph draws what answers: ICMP echo (the kernel answers it), not TCP/8080, which
        // nothing serves (a scan's closed ports would bury the edges).
        let denied = try #require(ConnectivityGraph(timeline).edges.first { !$0.allowed })
        #expect(denied.ports == [.icmpEcho])
        #expect(ConnectivityMap.text([.icmpEcho, .init(.udp, 53), .init(.tcp, 80)]) == "ICMP,TCP 80,UDP 53")
        let icmp = try ScenarioLoader.timeline(RepositoryFiles.absolute("scenarios/icmp.yaml"))
        let icmpRows = ConnectivityDiff.compare(old: icmp, afterStep: 0, new: icmp, afterStep: icmp.scenario.steps.count)
        #expect(icmpRows.contains { $0.lost.contains("ICMP") }, "\(icmpRows.map(Self.line))")
    }

    /// Between pods only served and probed ports are cells (docs/review.md, `keycard diff`): a
    /// rule moved from the served TCP/80 to TCP/9090, which nothing serves, is TCP/80 `removed`
    /// (np-guard, judging every port, says `changed` to `TCP 9090`); once a probe step sends
    /// TCP/9090 it is compared, and the row is `changed`.
    @Test func aPortOnlyARuleNamesIsNotComparedBetweenPods() throws {
        func scenario(probe: String) -> String {
            let policy = { (port: Int) in
                "- {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: web, namespace: shop}, spec: {podSelector: {matchLabels: {app: web}}, ingress: [{ports: [{port: \(port)}]}]}}"
            }
            return Self.probedPorts.replacingOccurrences(
                of: Self.probedPorts[Self.probedPorts.range(of: "  steps:")!.lowerBound...],
                with: "  steps:\n    - apply:\n        \(policy(80))\n    - apply:\n        \(policy(9090))\n\(probe)")
        }
        // The policy also closes web to every external block: those rows are not this test's.
        let fromClient = { (row: DiffRow) in row.source == "shop/client[Pod]" }
        let unprobed = try ScenarioLoader.parseTimeline(scenario(probe: ""), file: "rule-port.yaml")
        #expect(
            ConnectivityDiff.compare(old: unprobed, afterStep: 1, new: unprobed, afterStep: 2).filter(fromClient).map(Self.line) == [
                "removed shop/client[Pod] -> shop/web[Pod] TCP 80 | No Connections"
            ])
        let probed = try ScenarioLoader.parseTimeline(
            scenario(probe: "    - probe: {from: [shop/client], to: [shop/web], ports: [TCP/9090]}"), file: "rule-port.yaml")
        #expect(
            ConnectivityDiff.compare(old: probed, afterStep: 1, new: probed, afterStep: 2).filter(fromClient).map(Self.line) == [
                "changed shop/client[Pod] -> shop/web[Pod] TCP 80 | TCP 9090"
            ])
    }

    /// Over every scenario of the library: each cell of each probe step between peers of the map
    /// (a pod that stands for its workload, an external), judged at that step and after the
    /// resources, is a row of `diff FILE@0 FILE@STEP` with that port gained or lost exactly when
    /// the two verdicts differ.
    @Test func everyVerdictTheModelChangesIsARow() throws {
        // The repository's own library (the shared recipes are for the conformance suites).
        let files = RepositoryFiles.scenarios.filter { $0.hasPrefix("scenarios/") }
        var compared = 0
        var changed = 0
        for file in files {
            let path = RepositoryFiles.absolute(file)
            let timeline = try ScenarioLoader.timeline(path, cellLimit: .warn)
            let initial = timeline.cluster(afterStep: 0)
            let engine = PolicyEngine(initial)
            let meshEngine = timeline.usesMesh ? MeshEngine(initial) : nil
            for (index, probe) in timeline.probes.sorted(by: { $0.key < $1.key }) where !probe.isOverCellLimit {
                guard !timeline.usesMesh || probe.request == MeshRequest() else { continue }
                let state = timeline.cluster(afterStep: index)
                let diff = ConnectivityDiff.result(old: timeline, afterStep: 0, new: timeline, afterStep: index)
                let maps = [ConnectivityMap(initial), ConnectivityMap(state)]
                /// The peer's name on both sides, when the endpoint stands for its peer on both.
                func name(_ endpoint: Endpoint) -> String? {
                    let peers = maps.map { $0.peer(of: endpoint) }
                    guard let first = peers[0], let second = peers[1], first.endpoint == endpoint, second.endpoint == endpoint,
                        first.name == second.name
                    else { return nil }
                    // An external is matched by address against the row's IP-block piece.
                    guard case .external = endpoint, let address = state.address(of: endpoint) else { return first.name }
                    return address.description
                }
                func matches(_ written: String, _ name: String) -> Bool {
                    guard let range = ExternalBlocks.range(ofPeer: written) else { return written == name }
                    return IPv4(name).map { range.contains($0.value) } ?? false
                }
                for cell in timeline.cells(ofProbeStep: index) {
                    let source = state.source(cell.from)
                    guard let from = name(source), let to = name(cell.to), from != to, cell.unjudgedReason == nil else { continue }
                    let before = ProbeCell(
                        judging: cell.from, to: cell.to, port: cell.port, engine: engine, mesh: meshEngine, request: probe.request)
                    let row = diff.rows.first { matches($0.source, from) && matches($0.destination, to) }
                    let port = cell.port.description
                    let moved = row.map { $0.gained.contains(port) || $0.lost.contains(port) } ?? false
                    // Allowed or not: the diff compares allowed connections (a deny by RBAC and one by mTLS are both none).
                    let was = before.outcome.allows
                    let now = cell.outcome.allows
                    compared += 1
                    if was != now { changed += 1 }
                    // A piece of externals is one peer: another external of it may move the row.
                    let external = cell.to.isExternal || source.isExternal
                    #expect(
                        external ? (moved || was == now) : moved == (was != now),
                        "\(file)@\(index): \(cell.from) -> \(cell.to) \(port): \(before.outcome) then \(cell.outcome), row \(row.map(Self.line) ?? "none")"
                    )
                }
            }
        }
        #expect(compared > 1000 && changed > 100, "\(compared) cells compared, \(changed) changed")
    }
}
