import Foundation
import KeycardModel
import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardScenario

/// `keycard diff`'s model (ConnectivityDiff): rows in np-guard's columns.
@Suite struct DiffTests {
    static let blueprint = RepositoryFiles.absolute("scenarios/zero-trust-blueprint.yaml")

    /// Before the fix (after step 6, the allow rule alone) and after it (step 8): exactly the
    /// frontend's flow to the API and every production pod's DNS are opened, nothing else moves.
    @Test func blueprintFixOpensExactlyTheIntendedFlows() throws {
        let timeline = try ScenarioLoader.timeline(Self.blueprint)
        #expect(timeline.scenario.steps[5].name == nil && timeline.scenario.steps[6].name == "allow rule alone")
        let rows = ConnectivityDiff.compare(old: timeline.cluster(afterStep: 6), new: timeline.cluster(afterStep: 8))
        let dns = "kube-system/kube-dns-0[Pod]"
        let expected = [
            DiffRow(
                diffType: .added, source: "production/backend-api[Pod]", destination: dns, dir1: "No Connections",
                dir2: "TCP 53,UDP 53", workloadsDiffInfo: "", gained: ["TCP/53", "UDP/53"], lost: []),
            DiffRow(
                diffType: .added, source: "production/database[Pod]", destination: dns, dir1: "No Connections",
                dir2: "TCP 53,UDP 53", workloadsDiffInfo: "", gained: ["TCP/53", "UDP/53"], lost: []),
            DiffRow(
                diffType: .added, source: "production/frontend-web[Pod]", destination: dns, dir1: "No Connections",
                dir2: "TCP 53,UDP 53", workloadsDiffInfo: "", gained: ["TCP/53", "UDP/53"], lost: []),
            DiffRow(
                diffType: .added, source: "production/frontend-web[Pod]", destination: "production/backend-api[Pod]",
                dir1: "No Connections", dir2: "TCP 8080", workloadsDiffInfo: "", gained: ["TCP/8080"], lost: []),
        ]
        #expect(rows == expected)
        // The reverse direction closes the same flows.
        let back = ConnectivityDiff.compare(old: timeline.cluster(afterStep: 8), new: timeline.cluster(afterStep: 6))
        #expect(back.map(\.diffType) == Array(repeating: .removed, count: 4))
        #expect(back.map(\.lost) == expected.map(\.gained))
    }

    /// A pair that keeps some ports and gains others is `changed`; a pod on one side only is named
    /// in workloads-diff-info.
    @Test func changedAndWorkloadInfo() throws {
        let multi = """
            - apiVersion: v1
              kind: Pod
              metadata: {name: multi, namespace: prod, labels: {app: multi}}
              spec:
                containers: [{name: m, image: m, ports: [{containerPort: 80}, {containerPort: 9090}]}]
            """
        let text = ScenarioText.scenario(
            resources: multi + "\n"
                + ScenarioText.policy(
                    "podSelector: {matchLabels: {app: multi}}\ningress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n    ports: [{port: 80}]"
                ),
            steps: """
                - apply:
                    - apiVersion: networking.k8s.io/v1
                      kind: NetworkPolicy
                      metadata: {name: p, namespace: prod}
                      spec:
                        podSelector: {matchLabels: {app: multi}}
                        ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 80}, {port: 9090}]}]
                - apply:
                    - apiVersion: v1
                      kind: Pod
                      metadata: {name: new, namespace: prod, labels: {app: new}}
                      spec:
                        containers: [{name: new, image: new, ports: [{containerPort: 7000}]}]
                """)
        let timeline = try timeline(text)
        let rows = ConnectivityDiff.compare(old: timeline.cluster(afterStep: 0), new: timeline.cluster(afterStep: 2))
        let changed = try #require(rows.first { $0.source == "prod/web[Pod]" && $0.destination == "prod/multi[Pod]" })
        #expect(changed.diffType == .changed)
        #expect(changed.dir1 == "TCP 80" && changed.dir2 == "TCP 80,9090")
        #expect(changed.gained == ["TCP/9090"] && changed.lost == [])
        #expect(rows.first?.diffType == .changed)
        let added = rows.filter { $0.destination == "prod/new[Pod]" || $0.source == "prod/new[Pod]" }
        // Its three pod peers both ways, and 0.0.0.0/0 (np-guard's IP-block peer, a stand-in) both ways.
        #expect(added.count == 7)
        #expect(added.contains { $0.source == "0.0.0.0-255.255.255.255[External]" && $0.dir2 == "TCP 7000" })
        #expect(added.allSatisfy { $0.diffType == .added && $0.workloadsDiffInfo == "workload prod/new[Pod] added" })
        #expect(
            ConnectivityMap.text([.init(.tcp, 80), .init(.tcp, 81), .init(.tcp, 82), .init(.tcp, 90), .init(.udp, 53)])
                == "TCP 80-82,90,UDP 53")
    }

    /// np-guard's `ConnStrFromConnProperties` sorts the per-protocol strings as text: SCTP before
    /// TCP before UDP, whatever order keycard's protocols have.
    @Test func connectionsSortAsNpGuard() {
        let ports: [ProtocolPort] = [
            .init(.udp, 53), .init(.tcp, 90), .init(.sctp, 9), .init(.tcp, 53), .init(.tcp, 80), .init(.tcp, 81), .init(.tcp, 82),
        ]
        #expect(ConnectivityMap.text(ports) == "SCTP 9,TCP 53,80-82,90,UDP 53")
        #expect(ConnectivityMap.text([.init(.udp, 53), .init(.tcp, 53)]) == "TCP 53,UDP 53")
        #expect(ConnectivityMap.text([]) == "No Connections")
    }

    /// Two peers that exist on one side only, with a connection between them: np-guard's
    /// `getDiffInfo` names both, `workload A and B added` (or `removed`), once.
    @Test func bothPeersNewOrLostAreNamedTogether() throws {
        let text = ScenarioText.scenario(
            steps: """
                - apply:
                    - {apiVersion: v1, kind: Pod, metadata: {name: new1, namespace: prod, labels: {app: new1}}, spec: {containers: [{name: c, image: c, ports: [{containerPort: 7000}]}]}}
                    - {apiVersion: v1, kind: Pod, metadata: {name: new2, namespace: prod, labels: {app: new2}}, spec: {containers: [{name: c, image: c, ports: [{containerPort: 7001}]}]}}
                """)
        let timeline = try timeline(text)
        let rows = ConnectivityDiff.compare(old: timeline.cluster(afterStep: 0), new: timeline.cluster(afterStep: 1))
        let both = try #require(rows.first { $0.source == "prod/new1[Pod]" && $0.destination == "prod/new2[Pod]" })
        #expect(both.workloadsDiffInfo == "workload prod/new1[Pod] and prod/new2[Pod] added")
        let one = try #require(rows.first { $0.source == "prod/web[Pod]" && $0.destination == "prod/new1[Pod]" })
        #expect(one.workloadsDiffInfo == "workload prod/new1[Pod] added")
        let back = ConnectivityDiff.compare(old: timeline.cluster(afterStep: 1), new: timeline.cluster(afterStep: 0))
        #expect(
            back.first { $0.source == "prod/new2[Pod]" && $0.destination == "prod/new1[Pod]" }?.workloadsDiffInfo
                == "workload prod/new2[Pod] and prod/new1[Pod] removed")
    }

    /// Externals are np-guard's IP-block peers: the pieces both sides' ipBlocks cut 0.0.0.0/0 into,
    /// named `first-last[External]`; touching pieces with the same source and connections merge.
    /// The library's egress-externals before (no policy: one piece) and after its policies
    /// (0.0.0.0/0 except 169.254.169.254/32 for the client: three pieces).
    @Test func externalsAreNamedByTheirIPBlockPiece() throws {
        let timeline = try ScenarioLoader.timeline(RepositoryFiles.absolute("scenarios/egress-externals.yaml"))
        let last = timeline.scenario.steps.count
        let rows = ConnectivityDiff.compare(old: timeline.cluster(afterStep: 0), new: timeline.cluster(afterStep: last))
        let external = rows.filter { $0.destination.hasSuffix("[External]") }
        #expect(
            external.map { "\($0.diffType.rawValue) \($0.source) -> \($0.destination) \($0.dir1) | \($0.dir2)" } == [
                "removed app/client[Pod] -> 169.254.169.254-169.254.169.254[External] TCP 80 | No Connections",
                // No external declared there: a stand-in judges the ports pods serve and rules name.
                "removed app/server[Pod] -> 0.0.0.0-169.254.169.253[External] TCP 53,8080,UDP 53 | No Connections",
                "removed app/server[Pod] -> 169.254.169.254-169.254.169.254[External] TCP 80 | No Connections",
                "removed app/server[Pod] -> 169.254.169.255-255.255.255.255[External] TCP 443 | No Connections",
            ], "\(external)")
        #expect(external.allSatisfy { $0.workloadsDiffInfo.isEmpty })
        // No policy names an address on either side: every external is in 0.0.0.0-255.255.255.255.
        let denyAll = ConnectivityDiff.compare(old: timeline.cluster(afterStep: 0), new: timeline.cluster(afterStep: 2))
        let server = try #require(denyAll.first { $0.source == "app/server[Pod]" && $0.destination.hasSuffix("[External]") })
        #expect(server.destination == "0.0.0.0-255.255.255.255[External]")
        #expect(server.dir1 == "TCP 80,443" && server.lost == ["TCP/80", "TCP/443"])
    }

    /// No external declared: np-guard's IP-block peers are rows all the same, so a policy that
    /// opens a pod to the internet is an `added` row (a stand-in external judges each block).
    @Test func aPodOpenedToTheInternetIsARowWithoutDeclaredExternals() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: open}
            spec:
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: prod}}
                - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: prod, labels: {app: web}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}}
                - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny, namespace: prod}, spec: {podSelector: {}, policyTypes: [Ingress]}}
              steps:
                - apply:
                    - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: open, namespace: prod}, spec: {podSelector: {matchLabels: {app: web}}, ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}], ports: [{port: 8080}]}]}}
            """
        let timeline = try timeline(text)
        #expect(timeline.cluster(afterStep: 1).externals.isEmpty)
        let rows = ConnectivityDiff.compare(old: timeline, afterStep: 0, new: timeline, afterStep: 1)
        #expect(
            rows.map { "\($0.diffType.rawValue) \($0.source) -> \($0.destination) \($0.dir2)" } == [
                "added 0.0.0.0-9.255.255.255[External] -> prod/web[Pod] TCP 8080",
                "added 11.0.0.0-255.255.255.255[External] -> prod/web[Pod] TCP 8080",
            ], "\(rows)")
    }

    /// The pieces: an ipBlock less its excepts, cut with 0.0.0.0/0; touching pieces merge.
    @Test func externalBlockPieces() throws {
        let timeline = try ScenarioLoader.timeline(RepositoryFiles.absolute("scenarios/egress-externals.yaml"))
        let blocks = ExternalBlocks([timeline.cluster(afterStep: timeline.scenario.steps.count)])
        #expect(blocks.starts.map { IPv4($0).description } == ["0.0.0.0", "169.254.169.254", "169.254.169.255"])
        #expect(ExternalBlocks.peerName(blocks.range(0, 0)) == "0.0.0.0-169.254.169.253[External]")
        #expect(ExternalBlocks.peerName(blocks.range(0, 2)) == "0.0.0.0-255.255.255.255[External]")
        #expect(blocks.piece(of: IPv4("203.0.113.10")) == 2)
        #expect(ExternalBlocks.range(ofPeer: "169.254.169.254-169.254.169.254[External]") == 0xA9FE_A9FE...0xA9FE_A9FE)
        #expect(ExternalBlocks.range(ofPeer: "prod/web[Pod]") == nil)
        #expect(ExternalBlocks([timeline.cluster(afterStep: 0)]).starts == [0])
    }

    /// The dot graph's parts: unchanged pairs (grey edges) and the peers on one side only.
    @Test func unchangedPairsAndOneSidedPeers() throws {
        let text = ScenarioText.scenario(
            steps: """
                - apply:
                    - {apiVersion: v1, kind: Pod, metadata: {name: new1, namespace: prod, labels: {app: new1}}, spec: {containers: [{name: c, image: c, ports: [{containerPort: 7000}]}]}}
                - delete: [{kind: Pod, name: api, namespace: prod}]
                """)
        let timeline = try timeline(text)
        let diff = ConnectivityDiff.result(old: timeline, afterStep: 0, new: timeline, afterStep: 1)
        #expect(
            diff.unchanged == [
                UnchangedPair(source: "0.0.0.0-255.255.255.255[External]", destination: "prod/api[Pod]", connections: "TCP 8080"),
                UnchangedPair(source: "0.0.0.0-255.255.255.255[External]", destination: "prod/web[Pod]", connections: "TCP 80"),
                UnchangedPair(source: "prod/api[Pod]", destination: "0.0.0.0-255.255.255.255[External]", connections: "TCP 80,7000,8080"),
                UnchangedPair(source: "prod/api[Pod]", destination: "prod/web[Pod]", connections: "TCP 80"),
                UnchangedPair(source: "prod/web[Pod]", destination: "0.0.0.0-255.255.255.255[External]", connections: "TCP 80,7000,8080"),
                UnchangedPair(source: "prod/web[Pod]", destination: "prod/api[Pod]", connections: "TCP 8080"),
            ])
        #expect(diff.addedPeers == ["prod/new1[Pod]"] && diff.removedPeers.isEmpty)
        let later = ConnectivityDiff.result(old: timeline, afterStep: 0, new: timeline, afterStep: 2)
        #expect(later.removedPeers == ["prod/api[Pod]"] && later.addedPeers == ["prod/new1[Pod]"])
    }
}
