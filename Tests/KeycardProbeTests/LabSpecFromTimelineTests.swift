import KeycardProbe
import KeycardScenario
import KeycardTopology
import KeycardValues
import Testing

/// The lab a scenario asks for (no root: only the plan).
@Suite struct LabSpecFromTimelineTests {
    /// Two containers may declare the same port (the API server only warns); the lab binds it once.
    @Test func aPortDeclaredTwiceIsServedOnce() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: twice}
            spec:
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
                - {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: x}, spec: {containers: [{name: a, image: i, ports: [{containerPort: 80}, {containerPort: 53, protocol: UDP}]}, {name: b, image: i, ports: [{containerPort: 80}]}]}}
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "twice.yaml")
        #expect(timeline.warnings.contains { $0.message.contains("TCP/80 is declared twice") })
        let spec = LabSpec(timeline)
        #expect(spec.pods.first?.ports == [ServedPort(.tcp, 80), ServedPort(.udp, 53)])
        #expect(spec.podCIDR == LabSpec.defaultPodCIDR)
    }
}
