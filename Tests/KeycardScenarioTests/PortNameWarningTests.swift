import Testing

@testable import KeycardScenario

/// One port name in two containers (POD-08): a NetworkPolicyPort has one protocol, so the warning
/// "a policy naming it matches both" holds only when both ports have that protocol (review of
/// NetworkPolicy truth tables, finding 1).
@Suite("Port names shared by containers")
struct PortNameWarningTests {
    static func warnings(_ first: String, _ second: String) throws -> [String] {
        let pod = """
            - apiVersion: v1
              kind: Pod
              metadata: {name: dup, namespace: prod, labels: {app: dup}}
              spec:
                containers:
                  - {name: a, image: i, ports: [\(first)]}
                  - {name: b, image: i, ports: [\(second)]}
            """
        return try ScenarioLoader.parseTimeline(ScenarioText.scenario(resources: pod), file: "dup.yaml").warnings.map(\.message)
            .filter { $0.contains("declared by two containers") }
    }

    @Test func sameProtocolWarns() throws {
        let found = try Self.warnings("{name: dns, containerPort: 53, protocol: UDP}", "{name: dns, containerPort: 5353, protocol: UDP}")
        #expect(found == ["pod prod/dup: port name \"dns\" is declared by two containers for UDP; a policy naming it for UDP matches both"])
    }

    @Test func differentProtocolsDoNot() throws {
        #expect(
            try Self.warnings("{name: dns, containerPort: 5353, protocol: UDP}", "{name: dns, containerPort: 53, protocol: TCP}").isEmpty)
    }
}
