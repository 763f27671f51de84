import KeycardModel
import KeycardScenario
import Testing

/// `spec.nodeSelector` and node affinity against the lab's nodes: a bare pod's hostname selector
/// places it; labels every lab node carries change nothing; what keycard does not schedule by is said.
@Suite struct NodeSelectionTests {
    static let scenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: nodesel}
        spec:
          lab: {nodes: 2}
          resources:
            - {apiVersion: v1, kind: Pod, metadata: {name: pinned}, spec: {nodeSelector: {kubernetes.io/hostname: node-1}, containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: linux}, spec: {nodeSelector: {kubernetes.io/os: linux}, containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: both}, spec: {nodeName: node-0, nodeSelector: {kubernetes.io/hostname: node-1}, containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: ssd}, spec: {nodeSelector: {disktype: ssd}, containers: [{name: c, image: i}]}}
            - apiVersion: apps/v1
              kind: DaemonSet
              metadata: {name: agent}
              spec:
                selector: {matchLabels: {app: agent}}
                template:
                  metadata: {labels: {app: agent}}
                  spec:
                    affinity:
                      nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: gpu, operator: Exists}]}]}}
                      podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: {matchLabels: {app: agent}}, topologyKey: kubernetes.io/hostname}]}
                    containers: [{name: c, image: i}]
          steps:
            - probe: {ports: [TCP/80]}
        """

    @Test func aHostnameSelectorPlacesABarePod() throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario, file: "nodesel.yaml")
        #expect(timeline.initial.podNodes[ObjectKey("default", "pinned")] == 1)
        #expect(timeline.initial.podNodes[ObjectKey("default", "both")] == 0, "nodeName skips the scheduler")
        let warnings = timeline.warnings.map(\.message)
        #expect(!warnings.contains { $0.contains("pod default/linux") }, "every lab node is linux: \(warnings)")
        #expect(warnings.contains { $0.contains("pod default/ssd: spec.nodeSelector disktype=ssd is not honoured") }, "\(warnings)")
        #expect(warnings.contains { $0.contains("spec.affinity.nodeAffinity is not scheduled by") }, "\(warnings)")
        #expect(
            warnings.contains { $0.contains("spec.affinity.podAntiAffinity is not scheduled by keycard") && $0.contains("stays Pending") },
            "\(warnings)")
    }

    /// An OS or architecture no lab node has (a chart's Windows DaemonSet beside its Linux one):
    /// the NodeAffinity filter binds the pod nowhere, so it stays Pending with no address, is no
    /// probe source or destination, and the Linux pods run as before.
    @Test func anOSNoLabNodeHasKeepsThePodPending() throws {
        let pending = [
            "    - {apiVersion: v1, kind: Pod, metadata: {name: win, labels: {app: win}}, spec: {nodeSelector: {kubernetes.io/os: windows}, containers: [{name: c, image: i}]}}",
            "    - {apiVersion: v1, kind: Pod, metadata: {name: arm, labels: {app: arm}}, spec: {nodeName: node-0, nodeSelector: {kubernetes.io/arch: arm64}, containers: [{name: c, image: i}]}}",
            "    - {apiVersion: v1, kind: Pod, metadata: {name: aff}, spec: {affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/os, operator: In, values: [windows]}]}, {matchExpressions: [{key: kubernetes.io/arch, operator: NotIn, values: [amd64]}]}]}}}, containers: [{name: c, image: i}]}}",
            "    - {apiVersion: v1, kind: Pod, metadata: {name: either}, spec: {affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/os, operator: In, values: [windows]}]}, {matchExpressions: [{key: kubernetes.io/os, operator: In, values: [linux]}]}]}}}, containers: [{name: c, image: i}]}}",
        ]
        let text = Self.scenario.replacingOccurrences(of: "\n  steps:", with: "\n" + pending.joined(separator: "\n") + "\n  steps:")
        #expect(text.contains("name: win"))
        let timeline = try ScenarioLoader.parseTimeline(text, file: "nodesel.yaml")
        #expect(timeline.initial.pods[ObjectKey("default", "either")] != nil, "one term a lab node meets is enough")
        for name in ["win", "arm", "aff"] {
            #expect(timeline.initial.pods[ObjectKey("default", name)] == nil, "\(name) runs nowhere")
            #expect(
                timeline.schedulingWarnings.contains {
                    $0.message.hasPrefix("pod default/\(name) stays Pending: ")
                        && $0.message.contains("matches no lab node")
                }, "\(timeline.schedulingWarnings.map(\.message))")
        }
        #expect(timeline.initial.pods[ObjectKey("default", "linux")] != nil)
        let cells = timeline.cells(ofProbeStep: 1)
        #expect(!cells.contains { $0.from.name == "win" || $0.to.description.contains("default/win") })
    }
}
