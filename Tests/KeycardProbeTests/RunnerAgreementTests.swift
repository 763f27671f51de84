import KeycardModel
import KeycardProbe
import KeycardScenario
import Testing

/// The model-backed and the socket-backed runner must see the same world: for each policy set,
/// every cell of the nine-pod model (TCP and UDP, 80 and 81) gets the same network decision.
@Suite("Runners agree: model vs real packets", .serialized)
struct RunnerAgreementTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var policies: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "no policy", policies: ""),
        Case(name: "default deny ingress in x", policies: policy("x", "deny-in", "podSelector: {}\n        policyTypes: [Ingress]")),
        Case(name: "default deny egress in y", policies: policy("y", "deny-out", "podSelector: {}\n        policyTypes: [Egress]")),
        Case(
            name: "x/a from namespace y on TCP/80",
            policies: policy(
                "x", "a-from-y",
                """
                podSelector: {matchLabels: {pod: a}}
                        ingress:
                          - from: [{namespaceSelector: {matchLabels: {ns: y}}}]
                            ports: [{port: 80}]
                """)),
        Case(
            name: "UDP-only policy blocks TCP",
            policies: policy(
                "x", "b-udp",
                """
                podSelector: {matchLabels: {pod: b}}
                        ingress:
                          - ports: [{protocol: UDP, port: 81}]
                """)),
        Case(
            name: "namespace AND pod selector",
            policies: policy(
                "y", "c-from-z-a",
                """
                podSelector: {matchLabels: {pod: c}}
                        ingress:
                          - from: [{namespaceSelector: {matchLabels: {ns: z}}, podSelector: {matchLabels: {pod: a}}}]
                """)),
        Case(
            name: "egress ipBlock with except over pod addresses",
            policies: policy(
                "z", "z-egress",
                """
                podSelector: {}
                        egress:
                          - to: [{ipBlock: {cidr: 10.244.0.0/16, except: [10.244.0.0/30]}}]
                """)),
        Case(
            name: "named port egress",
            policies: policy(
                "z", "z-named",
                """
                podSelector: {matchLabels: {pod: a}}
                        policyTypes: [Egress]
                        egress:
                          - ports: [{port: serve-81-tcp}, {protocol: UDP, port: serve-80-udp}]
                """)),
    ]

    static func policy(_ namespace: String, _ name: String, _ spec: String) -> String {
        """
            - apiVersion: networking.k8s.io/v1
              kind: NetworkPolicy
              metadata: {name: \(name), namespace: \(namespace)}
              spec:
                \(spec)

        """
    }

    @Test(arguments: cases, Enforcement.allCases)
    func socketRunnerAgreesWithModel(_ testCase: Case, _ enforcement: Enforcement) throws {
        let timeline = try NinePodModel.timeline(
            NinePodModel.scenario(
                name: "agree", policies: testCase.policies, steps: "    - probe: {}\n", nodes: 2))
        let run = ScenarioRun(timeline: timeline, options: .init(enforcement: enforcement, labName: NinePodModel.labName("agree")))
        let report = try run.execute()
        let cells = timeline.cells(ofProbeStep: 1)
        let modelled = try ModelProbeRunner(cluster: timeline.cluster(afterStep: 1)).observe(
            cells, settings: timeline.scenario.probeDefaults)
        let observed = report.steps[0].results ?? []
        #expect(observed.count == 324)
        #expect(cells.count == 324)
        var disagreements: [String] = []
        for (index, record) in observed.enumerated() {
            guard case .probe(let real) = record else { continue }
            let model = modelled[index]
            if real.observed?.networkDecision != model.observation.networkDecision {
                disagreements.append(
                    "\(real.from) -> \(real.to) \(real.port): socket \(real.observed?.rawValue ?? "-"), model \(model.observation.rawValue)"
                )
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.joined(separator: "\n"))")
        // The comparison can fail: at least one cell differs from "everything allowed" unless no policy.
        if !testCase.policies.isEmpty {
            #expect(modelled.contains { $0.observation == .deny })
        }
    }
}
