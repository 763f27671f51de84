import KeycardModel
import Testing

@testable import KeycardScenario

/// `validateContainerOnlyForPod` (validation.go, from ValidatePod): an image with leading or
/// trailing whitespace is refused in a Pod; a pod template is not checked, so its workload is
/// accepted and runs no pod (each one its controller makes is refused).
@Suite("Container images with surrounding whitespace")
struct ContainerImageTests {
    @Test(arguments: ["nginx ", "\\tnginx", " ", "nginx\\u00A0", "nginx\\u3000"])
    func aPodWhoseImageHasSurroundingWhitespaceIsRefusedAtTheImage(image: String) throws {
        let text = ScenarioText.scenario(
            resources:
                "- {apiVersion: v1, kind: Pod, metadata: {name: x, namespace: prod}, spec: {containers: [{name: c, image: \"\(image)\"}]}}")
        let error = try #require(parseError(text))
        #expect(error.message.contains("must not have leading or trailing whitespace"), "\(error.message)")
        #expect(error.location.line == Spot.line("name: x").resolve(in: text)?.line)
    }

    @Test func anInitContainersImageIsCheckedToo() throws {
        let text = ScenarioText.scenario(
            resources:
                "- {apiVersion: v1, kind: Pod, metadata: {name: x, namespace: prod}, spec: {initContainers: [{name: i, image: \" busybox\"}], containers: [{name: c, image: nginx}]}}"
        )
        #expect(parseError(text)?.message.contains("container \"i\": image: Invalid value") == true)
    }

    @Test func aDeploymentWhoseTemplateImageHasWhitespaceIsAcceptedWithNoPod() throws {
        let text = ScenarioText.scenario(
            resources: """
                - apiVersion: apps/v1
                  kind: Deployment
                  metadata: {name: d, namespace: prod}
                  spec:
                    replicas: 2
                    selector: {matchLabels: {app: d}}
                    template:
                      metadata: {labels: {app: d}}
                      spec: {containers: [{name: c, image: "nginx ", ports: [{containerPort: 80}]}]}
                """)
        let t = try timeline(text)
        #expect(t.initial.workloads[WorkloadKey(.deployment, "prod", "d")] != nil)
        #expect(t.initial.pods(of: WorkloadKey(.deployment, "prod", "d")).isEmpty)
        #expect(t.warnings.contains { $0.message.contains("refuses each of its pods") })
    }
}
