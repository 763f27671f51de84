import Foundation
import KeycardModel
import KeycardProbe
import KeycardScenario
import Testing

/// A Deployment's replicas are real pods in the lab, probed as one workload: the cell passes only
/// when every replica's packets agree, and a wrong workload cell names the replica. As root.
@Suite("Workloads in a real lab")
struct WorkloadKernelTests {
    /// Namespace w: Deployment web (2 replicas on 2 nodes, TCP/80) admitting only app=client;
    /// pods client and other.
    static func scenario(_ name: String, otherToWeb: String) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: \(name)}
        spec:
          lab: {nodes: 2}
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: w}}
            - apiVersion: apps/v1
              kind: Deployment
              metadata: {name: web, namespace: w}
              spec:
                replicas: 2
                selector: {matchLabels: {app: web}}
                template:
                  metadata: {labels: {app: web}}
                  spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: w, labels: {app: client}}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: other, namespace: w, labels: {app: other}}, spec: {containers: [{name: c, image: i}]}}
            - apiVersion: networking.k8s.io/v1
              kind: NetworkPolicy
              metadata: {name: web-from-client, namespace: w}
              spec:
                podSelector: {matchLabels: {app: web}}
                ingress: [{from: [{podSelector: {matchLabels: {app: client}}}]}]
          steps:
            - probe: {from: [w/client, w/other], to: [w/deployment/web], ports: [TCP/80]}
              expect:
                TCP/80: |
                  -         w/deployment/web
                  w/client  .
                  w/other   \(otherToWeb)
        """
    }

    static func probeResults(_ report: Report) -> [ProbeResult] {
        (report.steps.first?.results ?? []).compactMap { record in
            if case .probe(let result) = record { return result }
            return nil
        }
    }

    @Test(arguments: Enforcement.allCases)
    func deploymentProbedAsAWorkload(_ enforcement: Enforcement) throws {
        let name = NinePodModel.labName("wl")
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario(name, otherToWeb: "X"), file: "workload.yaml")
        let replicas = timeline.initial.pods(of: WorkloadKey(.deployment, "w", "web"))
        #expect(replicas.count == 2)
        #expect(Set(replicas.compactMap { timeline.plan.nodes[$0.key] }) == [0, 1])
        let report = try ScenarioRun(timeline: timeline, options: .init(enforcement: enforcement, labName: name)).execute()
        #expect(report.passed)
        let results = Self.probeResults(report)
        #expect(results.count == 4)
        #expect(Set(results.map(\.to.description)) == Set(replicas.map(\.key.description)))
        #expect(results.allSatisfy { $0.toWorkload == WorkloadKey(.deployment, "w", "web") && $0.fromWorkload == nil })
        #expect(results.filter { $0.from.name == "client" }.allSatisfy { $0.observed == .allow })
        #expect(results.filter { $0.from.name == "other" }.allSatisfy { $0.observed == .deny })
        #expect(!NetworkNamespaceList.names().contains { $0.contains(name) })
    }

    /// Expecting other -> web allowed is wrong for both replicas: the step fails and names each.
    @Test func wrongWorkloadCellNamesTheReplica() throws {
        let name = NinePodModel.labName("wlx")
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario(name, otherToWeb: "."), file: "workload.yaml")
        let report = try ScenarioRun(timeline: timeline, options: .init(enforcement: .pod, labName: name)).execute()
        #expect(!report.passed)
        let wrong = Self.probeResults(report).filter { !$0.passed }
        #expect(wrong.count == 2)
        #expect(wrong.allSatisfy { $0.from.name == "other" && $0.observed == .deny && $0.expected == .allow })
        for result in wrong {
            #expect(report.steps[0].summary?.contains("w/other -> w/deployment/web TCP/80 (replica \(result.to))") == true)
        }
        #expect(!NetworkNamespaceList.names().contains { $0.contains(name) })
    }
}
