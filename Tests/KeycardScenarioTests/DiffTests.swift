import Foundation
import KeycardModel
import KeycardTestSupport
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
        #expect(added.count == 5)
        #expect(added.allSatisfy { $0.diffType == .added && $0.workloadsDiffInfo == "workload prod/new[Pod] added" })
        #expect(
            ConnectivityMap.text([.init(.tcp, 80), .init(.tcp, 81), .init(.tcp, 82), .init(.tcp, 90), .init(.udp, 53)])
                == "TCP 80-82,90,UDP 53")
    }
}
