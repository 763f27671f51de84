import KeycardModel
import Testing

@testable import KeycardScenario

/// What Istio's validation rejects (spec mesh.md R10, R22) and what keycard/v1 does not model
/// (2.2): each refused with file:line:col naming the problem.
struct MeshRefusal: CustomTestStringConvertible, Sendable {
    var object: String
    var message: String
    var testDescription: String { message }
}

private typealias T = MeshText

private let refusals: [MeshRefusal] = [
    MeshRefusal(
        object: T.pa("prod", "p", "{portLevelMtls: {\"80\": {mode: STRICT}}}"), message: "portLevelMtls requires a workload selector"),
    MeshRefusal(
        object: T.pa("prod", "p", "{selector: {matchLabels: {app: api}}, portLevelMtls: {}}"), message: "portLevelMtls must not be empty"),
    MeshRefusal(
        object: T.pa("prod", "p", "{selector: {matchLabels: {app: api}}, portLevelMtls: {\"0\": {mode: STRICT}}}"),
        message: "from 1 to 65535"),
    MeshRefusal(object: T.pa("prod", "p", "{mtls: {mode: strict}}"), message: "is not one of UNSET, DISABLE, PERMISSIVE, STRICT"),
    MeshRefusal(object: T.ap("prod", "a", "{action: DENY}"), message: "a DENY AuthorizationPolicy needs rules"),
    MeshRefusal(object: T.ap("prod", "a", "{action: CUSTOM, rules: [{}]}"), message: "needs provider.name"),
    MeshRefusal(object: T.ap("prod", "a", "{action: CUSTOM, provider: {name: x}}"), message: "a CUSTOM AuthorizationPolicy needs rules"),
    MeshRefusal(
        object: T.ap("prod", "a", "{provider: {name: x}, rules: [{}]}"), message: "provider must only be used with the CUSTOM action"),
    MeshRefusal(
        object: T.ap("prod", "a", "{selector: {matchLabels: {a: b}}, targetRef: {kind: Gateway, name: g}}"), message: "mutually exclusive"),
    MeshRefusal(
        object: T.ap("prod", "a", "{rules: [{from: []}]}"), message: "rules[0].from must not be empty (omit it to match any source)"),
    MeshRefusal(
        object: T.ap("prod", "a", "{rules: [{to: []}]}"), message: "rules[0].to must not be empty (omit it to match any operation)"),
    MeshRefusal(object: T.ap("prod", "a", "{rules: [{from: [{}]}]}"), message: "a from entry needs \"source\""),
    MeshRefusal(object: T.ap("prod", "a", "{rules: [{to: [{}]}]}"), message: "a to entry needs \"operation\""),
    MeshRefusal(object: T.ap("prod", "a", "{rules: [{from: [{source: {}}]}]}"), message: "source must not be empty"),
    MeshRefusal(object: T.ap("prod", "a", "{rules: [{to: [{operation: {}}]}]}"), message: "operation must not be empty"),
    MeshRefusal(
        object: T.ap("prod", "a", "{rules: [{from: [{source: {principals: [\"\"]}}]}]}"), message: "must not contain an empty string"),
    MeshRefusal(
        object: T.ap("prod", "a", "{rules: [{from: [{source: {serviceAccounts: [web], namespaces: [prod]}}]}]}"),
        message: "cannot be combined"),
    MeshRefusal(object: T.ap("prod", "a", "{rules: [{from: [{source: {serviceAccounts: [\"*\"]}}]}]}"), message: "must not contain '*'"),
    MeshRefusal(
        object: T.ap("prod", "a", "{rules: [{from: [{source: {serviceAccounts: [a/b/c]}}]}]}"), message: "must be \"namespace/name\""),
    MeshRefusal(object: T.ap("prod", "a", "{rules: [{from: [{source: {serviceAccounts: [/b]}}]}]}"), message: "found empty namespace"),
    MeshRefusal(
        object: T.ap("prod", "a", "{rules: [{from: [{source: {notServiceAccounts: [prod/]}}]}]}"), message: "found empty serviceAccount"),
    MeshRefusal(
        object: T.ap("prod", "a", "{rules: [{from: [{source: {serviceAccounts: [a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q]}}]}]}"),
        message: "at most 16"),
    MeshRefusal(object: T.ap("prod", "a", "{rules: [{to: [{operation: {ports: [\"http\"]}}]}]}"), message: "decimal port number"),
    MeshRefusal(object: T.ap("prod", "a", "{rules: [{to: [{operation: {ports: [\"70000\"]}}]}]}"), message: "decimal port number"),
    MeshRefusal(
        object: T.ap("prod", "a", "{rules: [{from: [{source: {ipBlocks: [10.0.0.0/33]}}]}]}"), message: "is not an IP address or CIDR"),
    MeshRefusal(object: T.ap("prod", "a", "{rules: [{when: [{values: [a]}]}]}"), message: "needs \"key\""),
    MeshRefusal(object: T.ap("prod", "a", "{rules: [{when: [{key: source.ip}]}]}"), message: "needs values or notValues"),
    MeshRefusal(
        object: T.ap("prod", "a", "{rules: [{when: [{key: source.banana, values: [a]}]}]}"), message: "not a supported condition key"),
    MeshRefusal(
        object: T.ap("prod", "a", "{rules: [{when: [{key: remote.ip, values: [10.0.0.1]}]}]}"), message: "not modelled by keycard/v1"),
    MeshRefusal(
        object: T.ap("prod", "a", "{rules: [{when: [{key: source.serviceAccount, values: [a]}]}]}"), message: "not modelled by keycard/v1"),
    MeshRefusal(
        object: T.ap("prod", "a", "{rules: [{when: [{key: destination.port, values: [\"x\"]}]}]}"), message: "must be a port number"),
    MeshRefusal(
        object: T.ap("prod", "a", "{action: CUSTOM, provider: {name: x}, rules: [{from: [{source: {principals: [a]}}]}]}"),
        message: "cannot use identity fields"),
    MeshRefusal(
        object: T.ap("prod", "a", "{action: CUSTOM, provider: {name: x}, rules: [{when: [{key: source.ip, values: [10.0.0.1]}]}]}"),
        message: "cannot use the condition"),
    MeshRefusal(
        object: T.ap("prod", "a", "{rules: [{from: [{source: {remoteIpBlocks: [10.0.0.1]}}]}]}"),
        message: "source.remoteIpBlocks is not modelled"),
    MeshRefusal(
        object: T.ap("prod", "a", "{rules: [{from: [{source: {trustDomains: [x]}}]}]}"), message: "source.trustDomains is not modelled"),
    MeshRefusal(object: T.ap("prod", "a", "{rules: [{to: [{operation: {paths: [\"/api/{*}\"]}}]}]}"), message: "path templates"),
    MeshRefusal(object: T.ap("prod", "a", "{action: MAYBE}"), message: "is not one of ALLOW, DENY, AUDIT, CUSTOM"),
    MeshRefusal(object: T.ap("prod", "a", "{rules: [{form: []}]}"), message: "unknown field \"form\""),
    MeshRefusal(
        object: "{apiVersion: security.istio.io/v1alpha3, kind: PeerAuthentication, metadata: {name: p}}",
        message: "must have apiVersion security.istio.io/v1 or security.istio.io/v1beta1"),
    MeshRefusal(object: T.pa("nowhere", "p", "{}"), message: "namespace \"nowhere\" does not exist"),
    // targetRef(s): the CRD schema and istiod's validatePolicyTargetReference (keycard review D5).
    MeshRefusal(
        object: T.ap("prod", "a", "{targetRef: {kind: Service, name: api, namespace: other}, rules: [{}]}"),
        message: "spec.targetRef.namespace must not be set: cross namespace referencing is not supported"),
    MeshRefusal(
        object: T.ap("prod", "a", "{targetRefs: [{kind: Service, name: api, namespace: prod}], rules: [{}]}"),
        message: "spec.targetRefs[0].namespace must not be set"),
    MeshRefusal(object: T.ap("prod", "a", "{targetRef: {name: api}, rules: [{}]}"), message: "spec.targetRef needs the field \"kind\""),
    MeshRefusal(object: T.ap("prod", "a", "{targetRef: {kind: Service}, rules: [{}]}"), message: "spec.targetRef needs the field \"name\""),
    MeshRefusal(
        object: T.ap("prod", "a", "{targetRefs: [{kind: Service, name: \"\"}], rules: [{}]}"),
        message: "spec.targetRefs[0].name must be set (not empty)"),
    MeshRefusal(
        object: T.ap("prod", "a", "{targetRefs: [{kind: Service, name: a}, {kind: Deployment, group: apps, name: api}], rules: [{}]}"),
        message:
            "spec.targetRefs[1] must name one of core/Service, networking.istio.io/ServiceEntry, gateway.networking.k8s.io/Gateway, gateway.networking.k8s.io/GatewayClass, found apps/Deployment"
    ),
    MeshRefusal(
        object: T.ap("prod", "a", "{targetRef: {kind: Gateway, name: g}, rules: [{}]}"), message: "found Gateway"),
    MeshRefusal(
        object: T.ap("prod", "a", "{targetRef: {kind: ServiceEntry, group: networking.istio.io, name: s, port: 80}, rules: [{}]}"),
        message: "unknown field \"port\" in spec.targetRef"),
    MeshRefusal(
        object: T.ap(
            "prod", "a", "{targetRefs: [\(Array(repeating: "{kind: Service, name: a}", count: 17).joined(separator: ", "))], rules: [{}]}"),
        message: "more than the 16 the CRD allows"),
    // Envoy sets these itself (AuthorizationAttributes.proxySetHeaders): only presence is known.
    MeshRefusal(
        object: T.ap("prod", "a", "{rules: [{when: [{key: \"request.headers[x-request-id]\", values: [\"abc*\"]}]}]}"),
        message: "can judge only its presence"),
    MeshRefusal(
        object: T.ap("prod", "a", "{rules: [{when: [{key: \"request.headers[X-Forwarded-Client-Cert]\", notValues: [\"*URI=x\"]}]}]}"),
        message: "can judge only its presence"),
]

@Suite("Mesh validation (spec mesh.md R10, R22, 2.2, 2.4)")
struct MeshValidationTests {
    @Test(arguments: refusals)
    func refused(_ c: MeshRefusal) {
        let text = MeshText.text([c.object], probe: "{from: [legacy/client], to: [prod/api], ports: [TCP/8080]}")
        do {
            _ = try ScenarioLoader.parseTimeline(text, file: "bad.yaml")
            Issue.record("accepted: \(c.object)")
        } catch {
            #expect(error.message.contains(c.message), "\(error)")
            #expect(error.location.file == "bad.yaml" && error.location.line > 1)
        }
    }

    @Test(
        "probe options are validated",
        arguments: [
            ("{from: [prod/web], to: [prod/api], ports: [TCP/8080], http: {}}", "is not an HTTP port"),
            ("{from: [prod/web], to: [prod/api], identity: {stolen: spiffe://other.org/ns/prod/sa/web}}", "must be a lab identity"),
            ("{from: [prod/web], to: [prod/api], identity: {spoofed: web}}", "must be a SPIFFE URI"),
            ("{from: [prod/web], to: [prod/api], identity: root}", "identity must be mesh, none"),
            ("{from: [prod/web], to: [prod/api], via: direct}", "probe.via must be service or pod-ip"),
            ("{from: [prod/web], to: [prod/api], ports: [TCP/9090], http: {path: /a%00}}", "%00"),
            ("{from: [prod/web], to: [prod/api], ports: [TCP/9090], http: {path: admin}}", "must start with /"),
            // Envoy's HTTP/1 codec answers 400 to a method outside its list (keycard review D4).
            ("{from: [prod/web], to: [prod/api], ports: [TCP/9090], http: {method: FOO}}", "http.method \"FOO\" cannot be probed"),
            ("{from: [prod/web], to: [prod/api], ports: [TCP/9090], http: {method: get}}", "answer 400"),
            ("{from: [prod/web], to: [prod/api], ports: [TCP/9090], http: {method: M-SEARCH}}", "answer 400"),
            ("{from: [prod/web], to: [prod/api], ports: [TCP/9090], http: {method: CONNECT}}", "tunnel"),
            ("{from: [prod/web], to: [prod/api], ports: [TCP/9090], http: {headers: {\"a(b\": x}}}", "is not a valid token"),
            // RFC 9110 5.1: one header name, whose two values Envoy would join (the model took either).
            (
                "{from: [prod/web], to: [prod/api], ports: [TCP/9090], http: {headers: {x-evil: \"2\", X-Evil: \"1\"}}}",
                "header X-Evil is given twice (header names are case-insensitive, RFC 9110 5.1)"
            ),
        ])
    func probeOptions(_ probe: String, _ message: String) {
        do {
            _ = try ScenarioLoader.parseTimeline(MeshText.text([], probe: probe), file: "bad.yaml")
            Issue.record("accepted: \(probe)")
        } catch {
            #expect(error.message.contains(message), "\(error)")
            #expect(error.location.file == "bad.yaml" && error.location.line > 1)
        }
    }

    /// Every kind istiod's `allowedTargetRefs` lists, the core group written or not: accepted, and
    /// binding no pod (R20).
    @Test(
        "targetRef(s) naming a kind Istio accepts",
        arguments: [
            "targetRef: {kind: Service, name: api}", "targetRef: {kind: Service, group: core, name: api, namespace: \"\"}",
            "targetRefs: [{kind: Service, group: \"\", name: api}]",
            "targetRefs: [{kind: ServiceEntry, group: networking.istio.io, name: s}]",
            "targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: w}, {kind: GatewayClass, group: gateway.networking.k8s.io, name: istio-waypoint}]",
        ])
    func acceptedTargetRefs(_ field: String) throws {
        let policy = T.ap("prod", "a", "{\(field), action: DENY, rules: [{}]}")
        let timeline = try ScenarioLoader.parseTimeline(
            MeshText.text([policy], probe: "{from: [legacy/client], to: [prod/api], ports: [TCP/8080]}"), file: "ok.yaml")
        #expect(timeline.cells(ofProbeStep: 1).first?.outcome == .allow)
        #expect(timeline.warnings.contains { $0.message.contains("(R20)") })
    }

    /// PeerAuthentication has no targetRef in its API (`istio/api` peer_authentication.proto): the
    /// field is unknown to its schema.
    @Test("PeerAuthentication takes no targetRef")
    func peerAuthenticationTargetRef() {
        let text = MeshText.text(
            [T.pa("prod", "p", "{targetRef: {kind: Service, name: api}, mtls: {mode: STRICT}}")],
            probe: "{from: [legacy/client], to: [prod/api], ports: [TCP/8080]}")
        #expect(throws: ScenarioError.self) { try ScenarioLoader.parseTimeline(text, file: "bad.yaml") }
    }

    @Test("delete and List dumps take the Istio kinds")
    func deleteAndList() throws {
        let list =
            "{apiVersion: v1, kind: List, items: [\(T.pa("prod", "p", "{mtls: {mode: STRICT}}")), \(T.ap("prod", "a", "{}"))]}"
        let text = MeshText.text([list], probe: "{from: [legacy/client], to: [prod/api], ports: [TCP/8080]}")
            .replacingOccurrences(
                of: "  steps:\n",
                with:
                    "  steps:\n    - delete: [{kind: PeerAuthentication, namespace: prod, name: p}, {kind: AuthorizationPolicy, namespace: prod, name: a}]\n"
            )
        let timeline = try ScenarioLoader.parseTimeline(text, file: "list.yaml")
        #expect(timeline.initial.peerAuthentications.count == 1 && timeline.initial.authorizationPolicies.count == 1)
        #expect(timeline.cluster(afterStep: 1).peerAuthentications.isEmpty)
        #expect(timeline.cells(ofProbeStep: 2).first?.outcome == .allow)
    }

    @Test("warnings where the spec says so (2.3), exit unchanged")
    func warnings() throws {
        let objects = [
            T.ap("prod", "ext", "{action: CUSTOM, provider: {name: x}, rules: [{}]}"),
            T.ap("prod", "wp", "{targetRef: {kind: Gateway, group: gateway.networking.k8s.io, name: g}}"),
            T.ap("prod", "dry", "{}", annotations: "{istio.io/dry-run: \"true\"}"),
            T.ap("amb", "audit", "{action: AUDIT, rules: [{}]}"),
            T.pa("amb", "nomtls", "{mtls: {mode: DISABLE}}"),
            T.ap("prod", "http-deny", "{action: DENY, rules: [{to: [{operation: {methods: [POST]}}]}]}"),
            T.pa("istio-system", "sel", "{selector: {matchLabels: {app: api}}, mtls: {mode: STRICT}}"),
            T.ap("legacy", "nobody", "{}"),
        ]
        let timeline = try ScenarioLoader.parseTimeline(
            MeshText.text(objects, probe: "{from: [legacy/client], to: [prod/api], ports: [TCP/8080]}"), file: "warn.yaml")
        let messages = timeline.warnings.map(\.message)
        for needle in [
            "(R28, R53)", "(R20)", "(R21)", "ztunnel does not support", "(R52)", "(Istio's warning; R40, R50)", "(R7)",
            "AuthorizationPolicy legacy/nobody selects no meshed pod",
        ] {
            #expect(messages.contains { $0.contains(needle) }, "no warning with \(needle): \(messages)")
        }
    }

    /// A policy re-applied by a step is warned at the version in force: the AUDIT, selector
    /// without matchLabels and CUSTOM-on-ambient warnings point at the step's text, not the
    /// resources' earlier version of the same name.
    @Test(arguments: [
        ("{action: AUDIT, rules: [{}]}", "ztunnel does not support"),
        ("{selector: {}, rules: [{}]}", "has a selector without matchLabels"),
        ("{action: CUSTOM, provider: {name: x}, rules: [{}]}", "ztunnel does not support"),
    ])
    func reappliedPolicyIsWarnedAtItsOwnVersion(_ spec: String, _ needle: String) throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: rvawarn}
            spec:
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: amb, labels: {istio.io/dataplane-mode: ambient}}}
                - {apiVersion: v1, kind: Pod, metadata: {name: db, namespace: amb}, spec: {containers: [{name: db, image: db, ports: [{containerPort: 5432}]}]}}
                - {apiVersion: security.istio.io/v1, kind: AuthorizationPolicy, metadata: {name: p, namespace: amb}, spec: {rules: [{}]}}
              steps:
                - apply:
                    - {apiVersion: security.istio.io/v1, kind: AuthorizationPolicy, metadata: {name: p, namespace: amb}, spec: \(spec)}
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "warn.yaml")
        let found = timeline.warnings.filter { $0.message.contains(needle) }
        #expect(found.count == 1)
        #expect(found.allSatisfy { $0.location.line == 11 }, "\(found.map(\.location))")
    }

    /// Istio's DENY warning holds Istio's condition (`ValidateAuthorizationPolicy`): `from`
    /// without `to` and without a TCP source field, or `to` without ports; `when` never counts.
    @Test(arguments: [
        ("{from: [{source: {namespaces: [dev]}}], to: [{operation: {methods: [POST]}}]}", true),
        ("{to: [{operation: {methods: [POST]}}]}", true),
        ("{from: [{source: {requestPrincipals: [x]}}]}", true),
        ("{when: [{key: request.auth.principal, values: [x]}]}", false),
        ("{when: [{key: \"request.headers[x-a]\", values: [x]}]}", false),
        ("{from: [{source: {namespaces: [dev]}}]}", false),
        ("{to: [{operation: {methods: [POST], ports: [\"9090\"]}}]}", false),
        ("{from: [{source: {requestPrincipals: [x]}}], to: [{operation: {ports: [\"9090\"]}}]}", false),
    ])
    func denyWarningFollowsIstiosCondition(_ rule: String, _ warned: Bool) throws {
        let text = MeshText.text(
            [T.ap("prod", "d", "{action: DENY, rules: [\(rule)]}")], probe: "{from: [legacy/client], to: [prod/api], ports: [TCP/8080]}")
        let timeline = try ScenarioLoader.parseTimeline(text, file: "warn.yaml")
        let found = timeline.warnings.filter { $0.message.contains("due to the use of only HTTP attributes in a DENY rule") }
        #expect(found.count == (warned ? 1 : 0), "\(timeline.warnings.map(\.message))")
    }
}
