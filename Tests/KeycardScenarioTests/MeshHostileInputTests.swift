import KeycardModel
import Testing

@testable import KeycardScenario

private typealias T = MeshText

/// prod/web calls prod/api on TCP/8080: both sidecars, so the source's namespace and identity count.
private let webToAPI = "{from: [prod/web], to: [prod/api], ports: [TCP/8080]}"

/// Istio objects from the second hostile review: what istiod admits, and what it then enforces.
@Suite("mesh hostile input")
struct MeshHostileInputTests {
    /// `GetTargetRefs` is empty for `targetRefs: []` and `ShouldAttachPolicy` then uses the selector:
    /// without one the policy is namespace-wide (istio/istio pilot/pkg/model/policyattachment.go).
    @Test(arguments: ["targetRefs: []", "targetRef: null", "targetRefs: null"])
    func anEmptyTargetRefListAppliesBySelector(_ field: String) throws {
        let policy = T.ap("prod", "only-istio-system", "{\(field), rules: [{from: [{source: {namespaces: [istio-system]}}]}]}")
        let text = MeshText.text([policy], probe: webToAPI)
        let timeline = try ScenarioLoader.parseTimeline(text, file: "mesh.yaml")
        #expect(timeline.cells(ofProbeStep: 1).first?.outcome == .denyRBAC)
        #expect(timeline.initial.authorizationPolicies.values.allSatisfy { !$0.hasTargetRef })
        #expect(!timeline.warnings.contains { $0.message.contains("(R20)") }, "\(timeline.warnings)")
    }

    @Test func aNonEmptyTargetRefListStillBindsNoPod() throws {
        let policy = T.ap(
            "prod", "gw",
            "{targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: g}], rules: [{from: [{source: {namespaces: [istio-system]}}]}]}"
        )
        #expect(try T.cell([policy], webToAPI).outcome == .allow)
    }

    /// istiod reads `istio.io/dry-run` with Go's `strconv.ParseBool` (authz builder `isDryRun`).
    @Test(arguments: ["1", "t", "T", "TRUE", "true", "True"])
    func everyParseBoolTrueIsDryRun(_ value: String) throws {
        let policy = T.ap("prod", "deny-all", "{action: DENY, rules: [{}]}", annotations: "{istio.io/dry-run: \"\(value)\"}")
        #expect(try T.cell([policy], webToAPI).outcome == .allow)
    }

    @Test(arguments: ["0", "f", "F", "FALSE", "false", "False"])
    func everyParseBoolFalseEnforces(_ value: String) throws {
        let policy = T.ap("prod", "deny-all", "{action: DENY, rules: [{}]}", annotations: "{istio.io/dry-run: \"\(value)\"}")
        #expect(try T.cell([policy], webToAPI).outcome == .denyRBAC)
    }

    /// `checkDryRunAnnotation`: a value ParseBool refuses, any value on AUDIT/CUSTOM, and the
    /// annotation on a PeerAuthentication are refused at admission.
    @Test(arguments: [
        (T.ap("prod", "a", "{action: DENY, rules: [{}]}", annotations: "{istio.io/dry-run: \"yes\"}"), "with invalid value (yes)"),
        (T.ap("prod", "a", "{action: ALLOW}", annotations: "{istio.io/dry-run: \" true\"}"), "with invalid value ( true)"),
        (T.ap("prod", "a", "{action: AUDIT, rules: [{}]}", annotations: "{istio.io/dry-run: \"true\"}"), "found action AUDIT in prod/a"),
        (
            T.ap("prod", "a", "{action: CUSTOM, provider: {name: x}, rules: [{}]}", annotations: "{istio.io/dry-run: \"false\"}"),
            "found action CUSTOM in prod/a"
        ),
        (
            "{apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: p, namespace: prod, annotations: {istio.io/dry-run: \"false\"}}, spec: {}}",
            "prod/p has unsupported annotation istio.io/dry-run"
        ),
    ])
    func dryRunRefusals(_ object: String, _ message: String) throws {
        let error = try #require(throws: ScenarioError.self) {
            try ScenarioLoader.parseTimeline(MeshText.text([object], probe: webToAPI), file: "mesh.yaml")
        }
        #expect(error.message.contains(message), "\(error)")
        // At the annotation (its value, or its key on a PeerAuthentication), not at the object.
        let line = MeshText.text([object], probe: webToAPI).split(separator: "\n", omittingEmptySubsequences: false)[
            error.location.line - 1]
        #expect(line.dropFirst(error.location.column - 1).hasPrefix(object.contains("PeerAuthentication") ? "istio.io/dry-run" : "\""))
    }

    /// `validateWorkloadSelector` and the CRD check no label syntax: such a selector is valid and
    /// selects no pod, so a DENY-all with it changes nothing.
    @Test(arguments: ["{app: \"a b\"}", "{\"Foo Bar\": x}", "{a/b/c: \"-\"}", "{app: \"\(String(repeating: "é", count: 63))\"}"])
    func anySelectorSyntaxIsValidAndSelectsNoPod(_ labels: String) throws {
        let policy = T.ap("prod", "deny", "{selector: {matchLabels: \(labels)}, action: DENY, rules: [{}]}")
        #expect(try T.cell([policy], webToAPI).outcome == .allow)
    }

    @Test(arguments: [
        ("{\"\": api}", "key must not be empty"), ("{\"a*\": api}", "wildcard not allowed in label key match"),
        ("{app: \"*\"}", "wildcard not allowed in label value match"),
        ("{app: \(String(repeating: "v", count: 64))}", "longer than 63 characters"),
    ])
    func selectorRefusals(_ labels: String, _ message: String) throws {
        let policy = T.pa("prod", "p", "{selector: {matchLabels: \(labels)}, mtls: {mode: STRICT}}")
        let error = try #require(throws: ScenarioError.self) {
            try ScenarioLoader.parseTimeline(MeshText.text([policy], probe: webToAPI), file: "mesh.yaml")
        }
        #expect(error.message.contains(message), "\(error)")
    }

    @Test func aSelectorOfMoreThan4096LabelsIsRefused() throws {
        let labels = "{" + (0...4096).map { "k\($0): v" }.joined(separator: ", ") + "}"
        let policy = T.ap("prod", "p", "{selector: {matchLabels: \(labels)}}")
        let error = try #require(throws: ScenarioError.self) {
            try ScenarioLoader.parseTimeline(MeshText.text([policy], probe: webToAPI), file: "mesh.yaml")
        }
        #expect(error.message.contains("more than the 4096"), "\(error)")
    }

    /// `ValidateIPs` takes IPv6 (netip): valid, with the IPv4-only lab's warning, and matching no lab
    /// address, so a negated IPv6 value matches every IPv4 one.
    @Test(arguments: [
        ("{action: DENY, rules: [{when: [{key: destination.ip, values: [\"::1\"]}]}]}", Decision.allow),
        ("{action: DENY, rules: [{when: [{key: destination.ip, notValues: [\"::1\"]}]}]}", Decision.denyRBAC),
        ("{action: DENY, rules: [{when: [{key: source.ip, values: [\"fd00::/8\", \"fe80::1%eth0\"]}]}]}", Decision.allow),
        ("{action: DENY, rules: [{from: [{source: {ipBlocks: [\"2001:db8::7\"]}}]}]}", Decision.allow),
        ("{action: DENY, rules: [{from: [{source: {notIpBlocks: [\"2001:db8::/32\"]}}]}]}", Decision.denyRBAC),
    ])
    func ipv6ValuesAreValidAndMatchNoLabAddress(_ spec: String, _ outcome: Decision) throws {
        let text = MeshText.text([T.ap("prod", "v6", spec)], probe: webToAPI)
        let timeline = try ScenarioLoader.parseTimeline(text, file: "mesh.yaml")
        #expect(timeline.cells(ofProbeStep: 1).first?.outcome == outcome)
        #expect(timeline.warnings.contains { $0.message.contains("is IPv6 and the lab is IPv4 only") }, "\(timeline.warnings)")
    }

    @Test(arguments: ["fe80::%eth0/64", "fe80::1%", "::1/129", "1.2.3.4%eth0"])
    func badIPValuesAreRefused(_ value: String) throws {
        let policy = T.ap("prod", "v6", "{action: DENY, rules: [{when: [{key: source.ip, values: [\"\(value)\"]}]}]}")
        #expect(throws: ScenarioError.self) {
            try ScenarioLoader.parseTimeline(MeshText.text([policy], probe: webToAPI), file: "mesh.yaml")
        }
    }

    /// `validateMapKey`: a claim key needs a name inside its brackets.
    @Test(arguments: ["request.auth.claims[]", "request.auth.claims", "request.auth.claims[iss"])
    func aClaimKeyWithoutANameIsRefused(_ key: String) throws {
        let policy = T.ap("prod", "c", "{rules: [{when: [{key: \"\(key)\", values: [x]}]}]}")
        let error = try #require(throws: ScenarioError.self) {
            try ScenarioLoader.parseTimeline(MeshText.text([policy], probe: webToAPI), file: "mesh.yaml")
        }
        #expect(error.message.contains("should have format a[b]"), "\(error)")
    }

    @Test func aNamedClaimLoads() throws {
        let policy = T.ap("prod", "c", "{rules: [{when: [{key: \"request.auth.claims[iss]\", values: [x]}]}]}")
        _ = try ScenarioLoader.parseTimeline(MeshText.text([policy], probe: webToAPI), file: "mesh.yaml")
    }
}
