import Testing

@testable import KeycardScenario

/// A DestinationRule is skipped, but one that sets its clients' TLS (`DISABLE`, `SIMPLE`, ...)
/// changes what Istio sends where keycard's sidecars use auto mutual TLS: said in a warning.
@Suite struct DestinationRuleWarningTests {
    static func rule(_ name: String, _ trafficPolicy: String) -> String {
        """
        - apiVersion: networking.istio.io/v1
          kind: DestinationRule
          metadata: {name: \(name), namespace: prod}
          spec: {host: web.prod.svc.cluster.local, \(trafficPolicy)}
        """
    }

    @Test func aRuleThatSetsTLSOtherThanIstioMutualIsWarned() throws {
        let resources = [
            Self.rule("plain", "trafficPolicy: {tls: {mode: DISABLE}}"),
            Self.rule("ported", "trafficPolicy: {portLevelSettings: [{port: {number: 80}, tls: {mode: SIMPLE}}]}"),
            Self.rule("mutual", "trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}"),
            Self.rule("balanced", "trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}"),
            Self.rule("sni", "subsets: [{name: v1, labels: {v: '1'}, trafficPolicy: {tls: {sni: web.example}}}]"),
        ].joined(separator: "\n")
        let timeline = try ScenarioLoader.parseTimeline(ScenarioText.scenario(resources: resources), file: "dr.yaml")
        let warned = timeline.warnings.map(\.message).filter { $0.hasPrefix("DestinationRule") }
        #expect(warned.count == 3, "\(warned)")
        #expect(warned.contains { $0.hasPrefix("DestinationRule prod/sni sets tls.mode DISABLE") }, "a tls without mode is DISABLE")
        #expect(warned.contains { $0.hasPrefix("DestinationRule prod/plain sets tls.mode DISABLE, which keycard does not model") })
        #expect(warned.contains { $0.hasPrefix("DestinationRule prod/ported sets tls.mode SIMPLE") })
    }
}
