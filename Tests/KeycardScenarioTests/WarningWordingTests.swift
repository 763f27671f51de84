import Foundation
import Testing

@testable import KeycardScenario

/// Warnings that said something untrue (review of real applications): an env value keycard does
/// not read, in manifests mode where no program runs; "stays Pending" for anti-affinity that has
/// only preferred terms.
@Suite struct WarningWordingTests {
    static func deployment(command: String = "", affinity: String = "") -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: dex, namespace: default}
        spec:
          selector: {matchLabels: {app: dex}}
          template:
            metadata: {labels: {app: dex}}
            spec:
        \(affinity)      containers:
                - name: dex
                  image: dex
        \(command)          env: [{name: LOG_LEVEL, valueFrom: {configMapKeyRef: {name: cfg, key: level}}}]
                  ports: [{containerPort: 5556}]
        """
    }

    @Test func anEnvValueFromAConfigMapIsNoWarningWhereNoProgramRuns() throws {
        let path = try manifestsFolder(["dex.yaml": Self.deployment(command: "          command: [dex, serve]\n")])
        let t = try ManifestLoader.timeline([path])
        #expect(!t.warnings.contains { $0.message.contains("env LOG_LEVEL") }, "\(t.warnings.map(\.message))")
        // In a scenario the command runs: the program misses the value, and is told so.
        let scenario = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: env}
            spec:
              resources:
                - {apiVersion: v1, kind: Pod, metadata: {name: dex, namespace: default}, spec: {containers: [{name: dex, image: dex, command: [sleep, "1"], env: [{name: LOG_LEVEL, valueFrom: {configMapKeyRef: {name: cfg, key: level}}}]}]}}
              steps: []
            """
        let run = try ScenarioLoader.parseTimeline(scenario, file: "env.yaml")
        #expect(run.warnings.contains { $0.message.contains("its program runs without LOG_LEVEL") })
    }

    @Test(arguments: [("preferredDuringSchedulingIgnoredDuringExecution", false), ("requiredDuringSchedulingIgnoredDuringExecution", true)])
    func onlyRequiredAntiAffinityTermsKeepAPodPending(_ field: String, _ pending: Bool) throws {
        let term =
            field.hasPrefix("preferred")
            ? "[{weight: 1, podAffinityTerm: {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: dex}}}}]"
            : "[{topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: dex}}}]"
        let affinity = "      affinity: {podAntiAffinity: {\(field): \(term)}}\n"
        let path = try manifestsFolder(["dex.yaml": Self.deployment(affinity: affinity)])
        let warning = try #require(try ManifestLoader.timeline([path]).warnings.first { $0.message.contains("podAntiAffinity") })
        #expect(warning.message.contains("stays Pending") == pending, "\(warning.message)")
    }
}
