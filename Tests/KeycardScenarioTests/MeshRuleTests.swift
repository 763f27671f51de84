import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

/// A small meshed cluster: `prod` injects sidecars, `amb` is ambient, `legacy` is outside the mesh.
/// Pods: prod/api (sa api; TCP 8080, HTTP 9090 named `http`, UDP 5353), prod/web (sa web),
/// prod/plain (`sidecar.istio.io/inject: "false"`), amb/db (sa db; TCP 5432, HTTP 8080 `http-api`),
/// amb/job, legacy/client.
enum MeshText {
    static let head = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: mesh}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: prod, labels: {istio-injection: enabled}}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: amb, labels: {istio.io/dataplane-mode: ambient}}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: legacy}}
            - {apiVersion: v1, kind: Pod, metadata: {name: api, namespace: prod, labels: {app: api}}, spec: {serviceAccountName: api, containers: [{name: c, image: i, ports: [{containerPort: 8080}, {containerPort: 9090, name: http}, {containerPort: 5353, protocol: UDP}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: prod, labels: {app: web}}, spec: {serviceAccountName: web, containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: plain, namespace: prod, labels: {app: plain, sidecar.istio.io/inject: "false"}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: db, namespace: amb, labels: {app: db}}, spec: {serviceAccountName: db, containers: [{name: c, image: i, ports: [{containerPort: 5432}, {containerPort: 8080, name: http-api}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: job, namespace: amb, labels: {app: job}}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: legacy}, spec: {containers: [{name: c, image: i}]}}
        """

    static func indent(_ text: String, _ spaces: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : String(repeating: " ", count: spaces) + $0 }
            .joined(separator: "\n")
    }

    /// The scenario: head, extra resources (flow-style items), one probe step.
    static func text(_ resources: [String], probe: String, mesh: String = "") -> String {
        var text = head + "\n" + resources.map { "    - " + $0 }.joined(separator: "\n")
        if !mesh.isEmpty { text += "\n  mesh: " + mesh }
        text += "\n  steps:\n    - probe: " + probe
        return text
    }

    static func cell(_ resources: [String], _ probe: String, mesh: String = "") throws -> ProbeCell {
        let timeline = try ScenarioLoader.parseTimeline(text(resources, probe: probe, mesh: mesh), file: "mesh.yaml")
        let cells = timeline.cells(ofProbeStep: 1)
        try #require(cells.count == 1, "the probe must name one cell")
        return cells[0]
    }

    static func pa(_ namespace: String, _ name: String, _ spec: String) -> String {
        "{apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: \(name), namespace: \(namespace)}, spec: \(spec)}"
    }

    static func ap(_ namespace: String, _ name: String, _ spec: String, annotations: String = "") -> String {
        let extra = annotations.isEmpty ? "" : ", annotations: \(annotations)"
        return
            "{apiVersion: security.istio.io/v1beta1, kind: AuthorizationPolicy, metadata: {name: \(name), namespace: \(namespace)\(extra)}, spec: \(spec)}"
    }

    static let meshStrict = pa("istio-system", "default", "{mtls: {mode: STRICT}}")
}

/// One connection and what spec mesh.md says it meets.
struct MeshCase: CustomTestStringConvertible, Sendable {
    var rule: String
    var resources: [String]
    var probe: String
    var outcome: Decision
    var detail: String? = nil
    var mesh: String = ""
    var testDescription: String { "\(rule): \(probe) -> \(outcome.rawValue)" }
}

private typealias T = MeshText

private func probe(_ from: String, _ to: String, _ port: String, _ extra: String = "") -> String {
    "{from: [\(from)], to: [\(to)], ports: [\(port)]\(extra.isEmpty ? "" : ", " + extra)}"
}

private let allowWeb = T.ap(
    "prod", "api-web", "{selector: {matchLabels: {app: api}}, rules: [{from: [{source: {principals: [cluster.local/ns/prod/sa/web]}}]}]}")

private let cases: [MeshCase] = [
    // A. membership
    MeshCase(
        rule: "R1 inject false opts out", resources: [T.meshStrict], probe: probe("legacy/client", "prod/plain", "TCP/8080"),
        outcome: .allow),
    MeshCase(
        rule: "R4 no proxy outside the mesh", resources: [T.meshStrict, T.ap("legacy", "deny", "{action: DENY, rules: [{}]}")],
        probe: probe("prod/web", "legacy/client", "TCP/80"), outcome: .allow),
    // B. PeerAuthentication
    MeshCase(rule: "R5 no policy is PERMISSIVE", resources: [], probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .allow),
    MeshCase(
        rule: "R5 UNSET mesh-wide is PERMISSIVE", resources: [T.pa("istio-system", "d", "{mtls: {mode: UNSET}}")],
        probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .allow),
    MeshCase(
        rule: "R6 namespace-wide STRICT", resources: [T.pa("prod", "d", "{mtls: {mode: STRICT}}")],
        probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .denyMTLS, detail: "plaintext-refused"),
    MeshCase(
        rule: "R6 root selector {} is mesh-wide for sidecars",
        resources: [T.pa("istio-system", "d", "{selector: {}, mtls: {mode: STRICT}}")],
        probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .denyMTLS, detail: "plaintext-refused"),
    MeshCase(
        rule: "R6 root selector {} is ignored by ztunnel", resources: [T.pa("istio-system", "d", "{selector: {}, mtls: {mode: STRICT}}")],
        probe: probe("legacy/client", "amb/db", "TCP/5432"), outcome: .allow),
    MeshCase(
        rule: "R7 root policy with a selector is ignored",
        resources: [T.pa("istio-system", "d", "{selector: {matchLabels: {app: api}}, mtls: {mode: STRICT}}")],
        probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .allow),
    MeshCase(
        rule: "R8 namespace PERMISSIVE beats mesh STRICT", resources: [T.meshStrict, T.pa("prod", "d", "{mtls: {mode: PERMISSIVE}}")],
        probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .allow),
    MeshCase(
        rule: "R8 namespace UNSET inherits mesh STRICT", resources: [T.meshStrict, T.pa("prod", "d", "{mtls: {mode: UNSET}}")],
        probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .denyMTLS, detail: "plaintext-refused"),
    MeshCase(
        rule: "R8 workload STRICT beats namespace PERMISSIVE",
        resources: [
            T.pa("prod", "d", "{mtls: {mode: PERMISSIVE}}"),
            T.pa("prod", "w", "{selector: {matchLabels: {app: api}}, mtls: {mode: STRICT}}"),
        ], probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .denyMTLS, detail: "plaintext-refused"),
    MeshCase(
        rule: "R9 the alphabetically first of one step wins",
        resources: [T.pa("prod", "b-strict", "{mtls: {mode: STRICT}}"), T.pa("prod", "a-permissive", "{mtls: {mode: PERMISSIVE}}")],
        probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .allow),
    MeshCase(
        rule: "R10 portLevelMtls STRICT on one port",
        resources: [
            T.pa("prod", "w", "{selector: {matchLabels: {app: api}}, mtls: {mode: PERMISSIVE}, portLevelMtls: {\"8080\": {mode: STRICT}}}")
        ], probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .denyMTLS, detail: "plaintext-refused"),
    MeshCase(
        rule: "R10 other ports keep the workload mode",
        resources: [
            T.pa("prod", "w", "{selector: {matchLabels: {app: api}}, mtls: {mode: PERMISSIVE}, portLevelMtls: {\"8080\": {mode: STRICT}}}")
        ], probe: probe("legacy/client", "prod/api", "TCP/9090"), outcome: .allow),
    MeshCase(
        rule: "R10 UNSET port inherits",
        resources: [T.meshStrict, T.pa("prod", "w", "{selector: {matchLabels: {app: api}}, portLevelMtls: {\"8080\": {mode: UNSET}}}")],
        probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .denyMTLS, detail: "plaintext-refused"),
    MeshCase(
        rule: "R11 port-level DISABLE on an undeclared port",
        resources: [T.meshStrict, T.pa("prod", "w", "{selector: {matchLabels: {app: api}}, portLevelMtls: {\"7000\": {mode: DISABLE}}}")],
        probe: probe("legacy/client", "prod/api", "TCP/7000"), outcome: .allow),
    MeshCase(
        rule: "R12 STRICT refuses before authorization", resources: [T.meshStrict, T.ap("prod", "all", "{rules: [{}]}")],
        probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .denyMTLS, detail: "plaintext-refused"),
    MeshCase(
        rule: "R13 PERMISSIVE plaintext has no principal", resources: [allowWeb], probe: probe("legacy/client", "prod/api", "TCP/8080"),
        outcome: .denyRBAC, detail: "reset"),
    MeshCase(
        rule: "R14 DISABLE makes meshed clients plaintext",
        resources: [T.pa("prod", "w", "{selector: {matchLabels: {app: api}}, mtls: {mode: DISABLE}}"), allowWeb],
        probe: probe("prod/web", "prod/api", "TCP/8080"), outcome: .denyRBAC, detail: "reset"),
    // C. clients and certificates
    MeshCase(
        rule: "R15 automatic mutual TLS", resources: [T.meshStrict, allowWeb], probe: probe("prod/web", "prod/api", "TCP/8080"),
        outcome: .allow),
    MeshCase(
        rule: "R15 sidecar pod-ip calls are plaintext", resources: [T.meshStrict],
        probe: probe("prod/web", "prod/api", "TCP/8080", "via: pod-ip"), outcome: .denyMTLS, detail: "plaintext-refused"),
    MeshCase(
        rule: "R15 ztunnel uses mTLS to pod addresses", resources: [T.meshStrict],
        probe: probe("amb/job", "prod/api", "TCP/8080", "via: pod-ip"), outcome: .allow),
    MeshCase(
        rule: "R16 principal in another trust domain",
        resources: [T.meshStrict, T.ap("prod", "a", "{rules: [{from: [{source: {principals: [other.org/ns/prod/sa/web]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/8080"), outcome: .denyRBAC, detail: "reset", mesh: "{trustDomain: example.org}"),
    MeshCase(
        rule: "R17 spoofed refused under PERMISSIVE", resources: [],
        probe: probe("legacy/client", "prod/api", "TCP/8080", "identity: {spoofed: spiffe://cluster.local/ns/prod/sa/web}"),
        outcome: .denyMTLS, detail: "bad-certificate"),
    MeshCase(
        rule: "R17 spoofed is plaintext to a DISABLE port",
        resources: [T.pa("prod", "w", "{selector: {matchLabels: {app: api}}, mtls: {mode: DISABLE}}")],
        probe: probe("legacy/client", "prod/api", "TCP/8080", "identity: {spoofed: spiffe://cluster.local/ns/prod/sa/web}"), outcome: .allow
    ),
    // R17: in ambient only HBONE (15008) terminates mutual TLS; TLS from outside the mesh to an
    // application port reaches ztunnel's plaintext inbound listener with no identity
    // (istio/ztunnel src/proxy/inbound_passthrough.rs).
    MeshCase(
        rule: "R17 stolen from outside the mesh to an ambient port has no identity",
        resources: [T.ap("amb", "a", "{rules: [{from: [{source: {principals: [cluster.local/ns/prod/sa/web]}}]}]}")],
        probe: probe("legacy/client", "amb/db", "TCP/5432", "identity: {stolen: spiffe://cluster.local/ns/prod/sa/web}"),
        outcome: .denyRBAC, detail: "reset"),
    MeshCase(
        rule: "R17 spoofed from outside the mesh to an ambient port is plaintext", resources: [],
        probe: probe("legacy/client", "amb/db", "TCP/5432", "identity: {spoofed: spiffe://cluster.local/ns/prod/sa/web}"), outcome: .allow),
    MeshCase(
        rule: "R17 spoofed from outside the mesh to an ambient STRICT port is refused as plaintext", resources: [T.meshStrict],
        probe: probe("legacy/client", "amb/db", "TCP/5432", "identity: {spoofed: spiffe://cluster.local/ns/prod/sa/web}"),
        outcome: .denyMTLS, detail: "plaintext-refused"),
    MeshCase(
        rule: "R17 stolen from an ambient pod still tunnels its identity",
        resources: [T.ap("amb", "a", "{rules: [{from: [{source: {principals: [cluster.local/ns/prod/sa/web]}}]}]}")],
        probe: probe("amb/job", "amb/db", "TCP/5432", "identity: {stolen: spiffe://cluster.local/ns/prod/sa/web}"), outcome: .allow),
    MeshCase(
        rule: "R18 stolen passes principals", resources: [T.meshStrict, allowWeb],
        probe: probe("legacy/client", "prod/api", "TCP/8080", "identity: {stolen: spiffe://cluster.local/ns/prod/sa/web}"), outcome: .allow),
    MeshCase(
        rule: "R18 stolen does not pass ipBlocks",
        resources: [T.meshStrict, T.ap("prod", "ip", "{rules: [{from: [{source: {ipBlocks: [10.99.0.0/16]}}]}]}")],
        probe: probe("legacy/client", "prod/api", "TCP/8080", "identity: {stolen: spiffe://cluster.local/ns/prod/sa/web}"),
        outcome: .denyRBAC, detail: "reset"),
    // D. which policies apply
    MeshCase(
        rule: "R19 root policy applies everywhere",
        resources: [T.ap("istio-system", "deny", "{action: DENY, rules: [{to: [{operation: {ports: [\"5432\"]}}]}]}")],
        probe: probe("prod/web", "amb/db", "TCP/5432"), outcome: .denyRBAC, detail: "reset"),
    MeshCase(
        rule: "R19 selector narrows", resources: [T.ap("prod", "web-only", "{selector: {matchLabels: {app: web}}}")],
        probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .allow),
    MeshCase(
        rule: "R20 targetRef binds no pod", resources: [T.ap("prod", "wp", "{targetRefs: [{kind: Service, group: \"\", name: api}]}")],
        probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .allow),
    MeshCase(
        rule: "R21 dry-run never decides", resources: [T.ap("prod", "dry", "{}", annotations: "{istio.io/dry-run: \"true\"}")],
        probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .allow),
    // E. evaluation
    MeshCase(
        rule: "R23 DENY beats ALLOW",
        resources: [
            T.ap("prod", "all", "{rules: [{}]}"), T.ap("prod", "deny", "{action: DENY, rules: [{from: [{source: {namespaces: [prod]}}]}]}"),
        ], probe: probe("prod/web", "prod/api", "TCP/8080"), outcome: .denyRBAC, detail: "reset"),
    MeshCase(
        rule: "R24 a DENY that does not match allows",
        resources: [T.ap("prod", "deny", "{action: DENY, rules: [{from: [{source: {namespaces: [dev]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/8080"), outcome: .allow),
    MeshCase(
        rule: "R25 spec {} allows nothing", resources: [T.ap("prod", "nothing", "{}")], probe: probe("prod/web", "prod/api", "TCP/8080"),
        outcome: .denyRBAC, detail: "reset"),
    MeshCase(
        rule: "R26 ALLOW rules [{}] admits plaintext", resources: [T.ap("prod", "all", "{rules: [{}]}")],
        probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .allow),
    MeshCase(
        rule: "R26 DENY rules [{}] denies all", resources: [T.ap("prod", "none", "{action: DENY, rules: [{}]}")],
        probe: probe("prod/web", "prod/api", "TCP/8080"), outcome: .denyRBAC, detail: "reset"),
    MeshCase(
        rule: "R27 AUDIT is not an ALLOW policy", resources: [T.ap("prod", "audit", "{action: AUDIT, rules: [{}]}")],
        probe: probe("prod/web", "prod/api", "TCP/8080"), outcome: .allow),
    MeshCase(
        rule: "R28 CUSTOM without provider denies on sidecars",
        resources: [T.ap("prod", "ext", "{action: CUSTOM, provider: {name: ext}, rules: [{to: [{operation: {ports: [\"8080\"]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/8080"), outcome: .denyRBAC, detail: "reset"),
    // F. matching
    MeshCase(
        rule: "R29 fields of a source AND",
        resources: [T.ap("prod", "a", "{rules: [{from: [{source: {namespaces: [prod], ipBlocks: [192.0.2.0/24]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/8080"), outcome: .denyRBAC, detail: "reset"),
    MeshCase(
        rule: "R30 namespaces needs mTLS", resources: [T.ap("prod", "a", "{rules: [{from: [{source: {namespaces: [legacy]}}]}]}")],
        probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .denyRBAC, detail: "reset"),
    MeshCase(
        rule: "R31 DENY notNamespaces catches plaintext",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{from: [{source: {notNamespaces: [prod]}}]}]}")],
        probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .denyRBAC, detail: "reset"),
    MeshCase(
        rule: "R31 DENY namespaces is bypassed by plaintext",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{from: [{source: {namespaces: [legacy]}}]}]}")],
        probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .allow),
    MeshCase(
        rule: "R32 principals * needs a peer", resources: [T.ap("prod", "a", "{rules: [{from: [{source: {principals: [\"*\"]}}]}]}")],
        probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .denyRBAC, detail: "reset"),
    MeshCase(
        rule: "R32 principals * admits meshed", resources: [T.ap("prod", "a", "{rules: [{from: [{source: {principals: [\"*\"]}}]}]}")],
        probe: probe("amb/job", "prod/api", "TCP/8080"), outcome: .allow),
    MeshCase(
        rule: "R33 ipBlocks match the pod address",
        resources: [T.ap("prod", "a", "{rules: [{from: [{source: {ipBlocks: [10.244.0.0/16]}}]}]}")],
        probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .allow),
    MeshCase(
        rule: "R34 ports exact", resources: [T.ap("prod", "a", "{rules: [{to: [{operation: {ports: [\"9090\"]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/8080"), outcome: .denyRBAC, detail: "reset"),
    MeshCase(
        rule: "R35 bare serviceAccount is the policy's namespace",
        resources: [T.ap("prod", "a", "{rules: [{from: [{source: {serviceAccounts: [web]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/8080"), outcome: .allow),
    MeshCase(
        rule: "R36 when source.namespace", resources: [T.ap("prod", "a", "{rules: [{when: [{key: source.namespace, values: [amb]}]}]}")],
        probe: probe("amb/job", "prod/api", "TCP/8080"), outcome: .allow),
    // G. HTTP and TCP
    MeshCase(
        rule: "R37 HTTP by port name: method matters", resources: [T.ap("prod", "a", "{rules: [{to: [{operation: {methods: [GET]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {method: POST}"), outcome: .denyRBAC, detail: "http-403"),
    MeshCase(
        rule: "R37 default request is GET /",
        resources: [T.ap("prod", "a", "{rules: [{to: [{operation: {methods: [GET], paths: [/]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090"), outcome: .allow),
    MeshCase(
        rule: "R39 ALLOW with methods on TCP matches nothing",
        resources: [T.ap("prod", "a", "{rules: [{to: [{operation: {methods: [GET]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/8080"), outcome: .denyRBAC, detail: "reset"),
    MeshCase(
        rule: "R40 DENY with methods on TCP denies all",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{to: [{operation: {methods: [POST]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/8080"), outcome: .denyRBAC, detail: "reset"),
    MeshCase(
        rule: "R40 DENY with methods on HTTP judges the method",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{to: [{operation: {methods: [POST]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090"), outcome: .allow),
    // H. values
    MeshCase(
        rule: "R42 prefix paths", resources: [T.ap("prod", "a", "{rules: [{to: [{operation: {paths: [/api/*]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {path: /api/v1}"), outcome: .allow),
    MeshCase(
        rule: "R42 suffix hosts", resources: [T.ap("prod", "a", "{rules: [{to: [{operation: {hosts: [\"*.prod:9090\"]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090"), outcome: .allow),
    MeshCase(
        rule: "R42 header presence",
        resources: [T.ap("prod", "a", "{rules: [{when: [{key: \"request.headers[x-env]\", values: [\"*\"]}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {headers: {x-env: \"\"}}"), outcome: .allow),
    // Envoy's header matcher on a pseudo-header (generator.go requestHeaderGenerator).
    MeshCase(
        rule: "R42 request.headers[:method] is the method",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{when: [{key: \"request.headers[:method]\", values: [POST]}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {method: POST}"), outcome: .denyRBAC, detail: "http-403"),
    MeshCase(
        rule: "R42 request.headers[:authority] is the Host header, case-sensitive",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{when: [{key: \"request.headers[:authority]\", values: [\"evil.*\"]}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {host: evil.example}"), outcome: .denyRBAC, detail: "http-403"),
    MeshCase(
        rule: "R42 request.headers[:authority] does not ignore case as hosts do",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{when: [{key: \"request.headers[:authority]\", values: [\"evil.*\"]}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {host: EVIL.example}"), outcome: .allow),
    // Envoy's request header map looks `host` up as `:authority` (header_map_impl.cc StaticLookupTable).
    MeshCase(
        rule: "R42 request.headers[host] is the :authority header",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{when: [{key: \"request.headers[host]\", values: [\"api.prod*\"]}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090"), outcome: .denyRBAC, detail: "http-403"),
    // The inbound connection manager generates x-request-id when none is sent (generate_request_id).
    MeshCase(
        rule: "R42 request.headers[x-request-id] is always present",
        resources: [T.ap("prod", "a", "{rules: [{when: [{key: \"request.headers[x-request-id]\", values: [\"*\"]}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090"), outcome: .allow),
    // Istio's inbound APPEND_FORWARD (listener_inbound.go); Envoy's mutateXfccRequestHeader.
    MeshCase(
        rule: "R42 request.headers[x-forwarded-client-cert] is present over mutual TLS",
        resources: [
            T.ap("prod", "d", "{action: DENY, rules: [{when: [{key: \"request.headers[x-forwarded-client-cert]\", values: [\"*\"]}]}]}")
        ],
        probe: probe("prod/web", "prod/api", "TCP/9090"), outcome: .denyRBAC, detail: "http-403"),
    MeshCase(
        rule: "R42 request.headers[x-forwarded-client-cert] sent in plaintext is removed",
        resources: [
            T.ap("prod", "d", "{action: DENY, rules: [{when: [{key: \"request.headers[x-forwarded-client-cert]\", values: [\"*\"]}]}]}")
        ],
        probe: probe("legacy/client", "prod/api", "TCP/9090", "http: {headers: {x-forwarded-client-cert: forged}}"), outcome: .allow),
    // HBONE ends in the sidecar's internal listener, whose connection has no peer certificate.
    MeshCase(
        rule: "R42 request.headers[x-forwarded-client-cert] is absent over HBONE from an ambient client",
        resources: [
            T.ap("prod", "d", "{action: DENY, rules: [{when: [{key: \"request.headers[x-forwarded-client-cert]\", values: [\"*\"]}]}]}")
        ],
        probe: probe("amb/job", "prod/api", "TCP/9090"), outcome: .allow),
    // Envoy mutateRequestHeaders: x-forwarded-proto kept when sent, else set from the first
    // connection manager's connection; :scheme from it (getScheme).
    MeshCase(
        rule: "R42 request.headers[x-forwarded-proto] is http from a client sidecar",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{when: [{key: \"request.headers[x-forwarded-proto]\", values: [http]}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090"), outcome: .denyRBAC, detail: "http-403"),
    MeshCase(
        rule: "R42 request.headers[x-forwarded-proto] is https over the client's own TLS",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{when: [{key: \"request.headers[x-forwarded-proto]\", values: [https]}]}]}")],
        probe: probe("legacy/client", "prod/api", "TCP/9090", "identity: {stolen: spiffe://cluster.local/ns/prod/sa/web}"),
        outcome: .denyRBAC, detail: "http-403"),
    MeshCase(
        rule: "R42 request.headers[x-forwarded-proto] sent is kept",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{when: [{key: \"request.headers[x-forwarded-proto]\", values: [https]}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {headers: {x-forwarded-proto: https}}"), outcome: .denyRBAC,
        detail: "http-403"),
    MeshCase(
        rule: "R42 request.headers[:scheme] is http in plaintext",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{when: [{key: \"request.headers[:scheme]\", values: [http]}]}]}")],
        probe: probe("legacy/client", "prod/api", "TCP/9090"), outcome: .denyRBAC, detail: "http-403"),
    MeshCase(
        rule: "R42 request.headers[:scheme] is https on mutual TLS when x-forwarded-proto is no scheme",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{when: [{key: \"request.headers[:scheme]\", values: [https]}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {headers: {x-forwarded-proto: ftp}}"), outcome: .denyRBAC,
        detail: "http-403"),
    // cleanInternalHeaders and the proxy headers mutateRequestHeaders removes before any filter.
    MeshCase(
        rule: "R42 request.headers[x-envoy-retry-on] sent is removed",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{when: [{key: \"request.headers[x-envoy-retry-on]\", values: [\"*\"]}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {headers: {x-envoy-retry-on: 5xx}}"), outcome: .allow),
    MeshCase(
        rule: "R42 request.headers[keep-alive] sent is removed",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{when: [{key: \"request.headers[keep-alive]\", values: [\"*\"]}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {headers: {keep-alive: timeout=5}}"), outcome: .allow),
    // RFC 9112 5: OWS around a field value is not part of it; Envoy's codec strips it (codec_impl.cc).
    MeshCase(
        rule: "R42 a header value's leading space is not part of it",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{when: [{key: \"request.headers[x-evil]\", values: [\"1\"]}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {headers: {x-evil: \" 1\"}}"), outcome: .denyRBAC, detail: "http-403"),
    MeshCase(
        rule: "R42 a header value's trailing space is not part of it",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{when: [{key: \"request.headers[x-evil]\", values: [\"1\"]}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {headers: {x-evil: \"1 \"}}"), outcome: .denyRBAC, detail: "http-403"),
    MeshCase(
        rule: "R42 a header value's surrounding tabs are not part of it",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{when: [{key: \"request.headers[x-evil]\", values: [\"1\"]}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {headers: {x-evil: \"\\t1\\t\"}}"), outcome: .denyRBAC,
        detail: "http-403"),
    MeshCase(
        rule: "R42 an exact header value still differs from one with inner spaces",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{when: [{key: \"request.headers[x-evil]\", values: [\"1\"]}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {headers: {x-evil: \"1 1\"}}"), outcome: .allow),
    MeshCase(
        rule: "R46 request.headers[:path] is the normalized path",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{when: [{key: \"request.headers[:path]\", values: [\"/admin*\"]}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {path: /public/../admin}"), outcome: .denyRBAC, detail: "http-403"),
    MeshCase(
        rule: "R46 request.headers[:path] keeps the query, unlike paths",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{when: [{key: \"request.headers[:path]\", values: [/admin]}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {path: /admin?x=1}"), outcome: .allow),
    MeshCase(
        rule: "R46 request.headers[:path] matches the query as sent",
        resources: [T.ap("prod", "a", "{rules: [{when: [{key: \"request.headers[:path]\", values: [\"/ok?x=1\"]}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {path: /ok?x=1}"), outcome: .allow),
    MeshCase(
        rule: "R43 a * in the middle is literal",
        resources: [T.ap("prod", "a", "{rules: [{to: [{operation: {paths: [/api/*/status]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {path: /api/v1/status}"), outcome: .denyRBAC, detail: "http-403"),
    MeshCase(
        rule: "R45 hosts exclude the port", resources: [T.ap("prod", "a", "{rules: [{to: [{operation: {hosts: [api.prod]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090"), outcome: .denyRBAC, detail: "http-403"),
    MeshCase(
        rule: "R45 hosts are case-insensitive", resources: [T.ap("prod", "a", "{rules: [{to: [{operation: {hosts: [API.PROD]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {host: api.prod}"), outcome: .allow),
    MeshCase(
        rule: "R46 dot segments resolved",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{to: [{operation: {paths: [/admin]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {path: /public/../admin}"), outcome: .denyRBAC, detail: "http-403"),
    MeshCase(
        rule: "R46 unreserved percent-decoding",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{to: [{operation: {paths: [/admin]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {path: /%61dmin}"), outcome: .denyRBAC, detail: "http-403"),
    MeshCase(
        rule: "R46 slashes are not merged",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{to: [{operation: {paths: [/admin]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {path: //admin}"), outcome: .allow),
    MeshCase(
        rule: "R46 the query is not matched",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{to: [{operation: {paths: [/admin]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090", "http: {path: \"/admin?x=1\"}"), outcome: .denyRBAC, detail: "http-403"),
    MeshCase(
        rule: "R47 requestPrincipals never match",
        resources: [T.ap("prod", "a", "{rules: [{from: [{source: {requestPrincipals: [\"*\"]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090"), outcome: .denyRBAC, detail: "http-403"),
    MeshCase(
        rule: "R47 notRequestPrincipals always match",
        resources: [T.ap("prod", "a", "{rules: [{from: [{source: {notRequestPrincipals: [\"*\"]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/9090"), outcome: .allow),
    // I. ambient
    MeshCase(
        rule: "R48/R49 ztunnel drops L7 ALLOW rules even on HTTP ports",
        resources: [T.ap("amb", "a", "{rules: [{to: [{operation: {methods: [GET]}}]}]}")], probe: probe("prod/web", "amb/db", "TCP/8080"),
        outcome: .denyRBAC, detail: "reset"),
    MeshCase(
        rule: "R50 L7-only DENY has no effect on ztunnel",
        resources: [T.ap("amb", "d", "{action: DENY, rules: [{to: [{operation: {methods: [POST]}}]}]}")],
        probe: probe("prod/web", "amb/db", "TCP/5432"), outcome: .allow),
    MeshCase(
        rule: "R50 DENY with methods and ports denies the port",
        resources: [T.ap("amb", "d", "{action: DENY, rules: [{to: [{operation: {methods: [POST], ports: [\"5432\"]}}]}]}")],
        probe: probe("prod/web", "amb/db", "TCP/5432"), outcome: .denyRBAC, detail: "reset"),
    MeshCase(
        rule: "R51 ambient STRICT refuses plaintext", resources: [T.meshStrict], probe: probe("legacy/client", "amb/db", "TCP/5432"),
        outcome: .denyMTLS, detail: "plaintext-refused"),
    MeshCase(
        rule: "R52 ambient DISABLE keeps identities",
        resources: [
            T.pa("amb", "nomtls", "{mtls: {mode: DISABLE}}"), T.ap("amb", "a", "{rules: [{from: [{source: {namespaces: [prod]}}]}]}"),
        ], probe: probe("prod/web", "amb/db", "TCP/5432"), outcome: .allow),
    MeshCase(
        rule: "R52 ambient DISABLE accepts plaintext under mesh STRICT",
        resources: [T.meshStrict, T.pa("amb", "nomtls", "{mtls: {mode: DISABLE}}")], probe: probe("legacy/client", "amb/db", "TCP/5432"),
        outcome: .allow),
    MeshCase(
        rule: "R53 CUSTOM has no effect on ztunnel",
        resources: [T.ap("amb", "ext", "{action: CUSTOM, provider: {name: ext}, rules: [{to: [{operation: {ports: [\"5432\"]}}]}]}")],
        probe: probe("prod/web", "amb/db", "TCP/5432"), outcome: .allow),
    MeshCase(
        rule: "R54 ztunnel resets HTTP too", resources: [T.ap("amb", "none", "{}")], probe: probe("prod/web", "amb/db", "TCP/8080"),
        outcome: .denyRBAC, detail: "reset"),
    MeshCase(
        rule: "R55 sidecar client to ambient STRICT", resources: [T.meshStrict], probe: probe("prod/web", "amb/db", "TCP/5432"),
        outcome: .allow),
    MeshCase(
        rule: "R55 ambient client to sidecar STRICT", resources: [T.meshStrict], probe: probe("amb/job", "prod/api", "TCP/8080"),
        outcome: .allow),
    // ztunnel picks HBONE by the destination's tunnel protocol, not by PeerAuthentication
    // (istio/ztunnel src/proxy/outbound.rs); the HBONE-enabled sidecar (R55) terminates it on 15008
    // whatever the port's mode, so an ambient client keeps its identity on a DISABLE port.
    MeshCase(
        rule: "R55 ambient client to a sidecar DISABLE port keeps its identity",
        resources: [
            T.pa("prod", "w", "{selector: {matchLabels: {app: api}}, mtls: {mode: DISABLE}}"),
            T.ap(
                "prod", "a",
                "{selector: {matchLabels: {app: api}}, rules: [{from: [{source: {principals: [cluster.local/ns/amb/sa/default]}}]}]}"),
        ], probe: probe("amb/job", "prod/api", "TCP/8080"), outcome: .allow),
    MeshCase(
        rule: "R55 ambient client to a sidecar DISABLE port goes over 15008",
        resources: [
            T.pa("prod", "w", "{selector: {matchLabels: {app: api}}, mtls: {mode: DISABLE}}"),
            "{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: hbone, namespace: prod}, spec: {podSelector: {matchLabels: {app: api}}, policyTypes: [Ingress], ingress: [{ports: [{port: 15008}]}]}}",
        ], probe: probe("amb/job", "prod/api", "TCP/8080"), outcome: .allow),
    // istiod's ambient conversion (convertedSelectorPeerAuthentications): a workload policy with no
    // mode under a STRICT parent whose port entries are DISABLE only keeps STRICT.
    MeshCase(
        rule: "ambient port DISABLE under an inherited STRICT is ignored",
        resources: [
            T.pa("amb", "strict", "{mtls: {mode: STRICT}}"),
            T.pa("amb", "db", "{selector: {matchLabels: {app: db}}, portLevelMtls: {\"5432\": {mode: DISABLE}}}"),
        ], probe: probe("legacy/client", "amb/db", "TCP/5432"), outcome: .denyMTLS, detail: "plaintext-refused"),
    MeshCase(
        rule: "ambient port DISABLE beside a PERMISSIVE port is exempt",
        resources: [
            T.pa("amb", "strict", "{mtls: {mode: STRICT}}"),
            T.pa(
                "amb", "db",
                "{selector: {matchLabels: {app: db}}, portLevelMtls: {\"5432\": {mode: DISABLE}, \"8080\": {mode: PERMISSIVE}}}"),
        ], probe: probe("legacy/client", "amb/db", "TCP/5432"), outcome: .allow),
    MeshCase(
        rule: "ambient port DISABLE under a STRICT workload policy is exempt",
        resources: [
            T.pa("amb", "db", "{selector: {matchLabels: {app: db}}, mtls: {mode: STRICT}, portLevelMtls: {\"5432\": {mode: DISABLE}}}")
        ], probe: probe("legacy/client", "amb/db", "TCP/5432"), outcome: .allow),
    // istiod's convertPeerAuthentication reads parents from an index of policies without a
    // selector: a workload policy with no mode and a PERMISSIVE entry withholds the static STRICT
    // policy, and its converted form refuses plaintext only under a STRICT parent it can see.
    MeshCase(
        rule: "ambient PERMISSIVE entry under a STRICT root keeps the other ports STRICT",
        resources: [
            T.meshStrict, T.pa("amb", "db", "{selector: {matchLabels: {app: db}}, portLevelMtls: {\"8080\": {mode: PERMISSIVE}}}"),
        ], probe: probe("legacy/client", "amb/db", "TCP/5432"), outcome: .denyMTLS, detail: "plaintext-refused"),
    MeshCase(
        rule: "ambient PERMISSIVE entry under a STRICT root and an UNSET namespace policy opens every port",
        resources: [
            T.meshStrict, T.pa("amb", "unset", "{}"),
            T.pa("amb", "db", "{selector: {matchLabels: {app: db}}, portLevelMtls: {\"8080\": {mode: PERMISSIVE}}}"),
        ], probe: probe("legacy/client", "amb/db", "TCP/5432"), outcome: .allow),
    MeshCase(
        rule: "ambient PERMISSIVE entry under a namespace STRICT written with selector {} opens every port",
        resources: [
            T.pa("amb", "strict", "{selector: {}, mtls: {mode: STRICT}}"),
            T.pa("amb", "db", "{selector: {matchLabels: {app: db}}, portLevelMtls: {\"8080\": {mode: PERMISSIVE}}}"),
        ], probe: probe("legacy/client", "amb/db", "TCP/5432"), outcome: .allow),
    MeshCase(
        rule: "sidecar PERMISSIVE entry under a STRICT root and an UNSET namespace policy keeps the other ports STRICT",
        resources: [
            T.meshStrict, T.pa("prod", "unset", "{}"),
            T.pa("prod", "api", "{selector: {matchLabels: {app: api}}, portLevelMtls: {\"9090\": {mode: PERMISSIVE}}}"),
        ], probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .denyMTLS, detail: "plaintext-refused"),
    // The Go condition `A || (B && C) || D` skips a STRICT entry whenever the root is STRICT and
    // the namespace has no policy, even under a PERMISSIVE workload mode.
    MeshCase(
        rule: "ambient STRICT entry of a PERMISSIVE workload under a STRICT root is not enforced",
        resources: [
            T.meshStrict,
            T.pa("amb", "db", "{selector: {matchLabels: {app: db}}, mtls: {mode: PERMISSIVE}, portLevelMtls: {\"5432\": {mode: STRICT}}}"),
        ], probe: probe("legacy/client", "amb/db", "TCP/5432"), outcome: .allow),
    MeshCase(
        rule: "ambient STRICT entry of a PERMISSIVE workload is enforced without a STRICT root",
        resources: [
            T.pa("amb", "db", "{selector: {matchLabels: {app: db}}, mtls: {mode: PERMISSIVE}, portLevelMtls: {\"5432\": {mode: STRICT}}}")
        ], probe: probe("legacy/client", "amb/db", "TCP/5432"), outcome: .denyMTLS, detail: "plaintext-refused"),
    MeshCase(
        rule: "sidecar port DISABLE under an inherited STRICT applies",
        resources: [
            T.pa("prod", "strict", "{mtls: {mode: STRICT}}"),
            T.pa("prod", "api", "{selector: {matchLabels: {app: api}}, portLevelMtls: {\"8080\": {mode: DISABLE}}}"),
        ], probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .allow),
    // J. order and scope
    MeshCase(
        rule: "R56 UDP bypasses the mesh", resources: [T.meshStrict, T.ap("prod", "none", "{}")],
        probe: probe("legacy/client", "prod/api", "UDP/5353"), outcome: .allow),
    MeshCase(
        rule: "R57 mTLS before authorization", resources: [T.meshStrict, T.ap("prod", "none", "{}")],
        probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .denyMTLS, detail: "plaintext-refused"),
    // Part 3 #6 (keycard review D1): a sidecar matches `.*/ns/<value, * as .*>/.*` against the
    // whole peer URI; ztunnel matches the namespace alone.
    MeshCase(
        rule: "Part 3 #6 sidecar namespaces *a runs into the service account",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{from: [{source: {namespaces: [\"*a\"]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/8080"), outcome: .denyRBAC, detail: "reset"),
    MeshCase(
        rule: "Part 3 #6 sidecar notNamespaces *a excludes every identity",
        resources: [T.ap("prod", "a", "{rules: [{from: [{source: {notNamespaces: [\"*a\"]}}]}]}")],
        probe: probe("amb/job", "prod/api", "TCP/8080"), outcome: .denyRBAC, detail: "reset"),
    MeshCase(
        rule: "Part 3 #6 sidecar when source.namespace *sa",
        resources: [T.ap("prod", "a", "{rules: [{when: [{key: source.namespace, values: [\"*sa\"]}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/8080"), outcome: .allow),
    MeshCase(
        rule: "Part 3 #6 sidecar namespaces * still needs a peer",
        resources: [T.ap("prod", "a", "{rules: [{from: [{source: {namespaces: [\"*\"]}}]}]}")],
        probe: probe("legacy/client", "prod/api", "TCP/8080"), outcome: .denyRBAC, detail: "reset"),
    MeshCase(
        rule: "Part 3 #6 ztunnel namespaces *a is a suffix of the namespace",
        resources: [T.ap("amb", "d", "{action: DENY, rules: [{from: [{source: {namespaces: [\"*a\"]}}]}]}")],
        probe: probe("prod/web", "amb/db", "TCP/5432"), outcome: .allow),
    // srcNamespaceGenerator quotes the text between `*`s (istio/istio#59992).
    MeshCase(
        rule: "Part 3 #6 sidecar namespaces values are literal but for *",
        resources: [T.ap("prod", "a", "{rules: [{from: [{source: {namespaces: [\"pr.d\", \"[a-z]+\"]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/8080"), outcome: .denyRBAC, detail: "reset"),
    MeshCase(
        rule: "Part 3 #6 sidecar when source.namespace is literal but for *",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{when: [{key: source.namespace, values: [\"p.*\"]}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/8080"), outcome: .allow),
    // keycard review D2: a sidecar's istiod rewrites cluster.local principals to the mesh's trust
    // domain (ReplaceTrustDomainAliases); ztunnel compares them as written.
    MeshCase(
        rule: "trust domain: sidecar principals cluster.local/... is the mesh's", resources: [allowWeb],
        probe: probe("prod/web", "prod/api", "TCP/8080"), outcome: .allow, mesh: "{trustDomain: example.org}"),
    MeshCase(
        rule: "trust domain: sidecar notPrincipals cluster.local/... is the mesh's",
        resources: [T.ap("prod", "d", "{action: DENY, rules: [{from: [{source: {notPrincipals: [cluster.local/ns/prod/sa/web]}}]}]}")],
        probe: probe("prod/web", "prod/api", "TCP/8080"), outcome: .allow, mesh: "{trustDomain: example.org}"),
    MeshCase(
        rule: "trust domain: sidecar when source.principal cluster.local/... is the mesh's",
        resources: [
            T.ap("prod", "d", "{action: DENY, rules: [{when: [{key: source.principal, values: [cluster.local/ns/amb/sa/default]}]}]}")
        ],
        probe: probe("amb/job", "prod/api", "TCP/8080"), outcome: .denyRBAC, detail: "reset", mesh: "{trustDomain: example.org}"),
    MeshCase(
        rule: "trust domain: ztunnel principals as written",
        resources: [T.ap("amb", "a", "{rules: [{from: [{source: {principals: [cluster.local/ns/prod/sa/web]}}]}]}")],
        probe: probe("prod/web", "amb/db", "TCP/5432"), outcome: .denyRBAC, detail: "reset", mesh: "{trustDomain: example.org}"),
    MeshCase(
        rule: "R58 a pod reaching itself", resources: [T.meshStrict, T.ap("prod", "none", "{}")],
        probe: probe("prod/api", "prod/api", "TCP/8080", "identity: none"), outcome: .allow),
]

@Suite("Mesh rules (spec mesh.md R1–R58)")
struct MeshRuleTests {
    @Test(arguments: cases)
    func rule(_ c: MeshCase) throws {
        let cell = try MeshText.cell(c.resources, c.probe, mesh: c.mesh)
        #expect(cell.outcome == c.outcome, "\(c.rule): \(String(describing: cell.mesh))")
        #expect(cell.result().detail == c.detail, "\(c.rule)")
    }

    /// A port DISABLE that ztunnel ignores is warned about as ignored, not as R52's PERMISSIVE.
    @Test("ambient: a port DISABLE under an inherited STRICT is warned about as ignored")
    func ignoredPortDisableWarning() throws {
        let text = MeshText.text(
            [
                MeshText.pa("amb", "strict", "{mtls: {mode: STRICT}}"),
                MeshText.pa("amb", "db", "{selector: {matchLabels: {app: db}}, portLevelMtls: {\"5432\": {mode: DISABLE}}}"),
            ], probe: "{from: [legacy/client], to: [amb/db], ports: [TCP/5432]}")
        let messages = try ScenarioLoader.parseTimeline(text, file: "m.yaml").warnings.map(\.message)
        #expect(messages.contains { $0.contains("ztunnel ignores the DISABLE and keeps STRICT") })
        #expect(!messages.contains { $0.contains("treats it as PERMISSIVE") })
    }

    /// A STRICT that ztunnel does not get is warned about with the ports it leaves open, and the
    /// cell's mode says why.
    @Test("ambient: a converted PeerAuthentication that refuses no plaintext is warned about")
    func unenforcedStrictWarning() throws {
        let resources = [
            MeshText.meshStrict, MeshText.pa("amb", "unset", "{}"),
            MeshText.pa("amb", "db", "{selector: {matchLabels: {app: db}}, portLevelMtls: {\"8080\": {mode: PERMISSIVE}}}"),
        ]
        let text = MeshText.text(resources, probe: "{from: [legacy/client], to: [amb/db], ports: [TCP/5432]}")
        let messages = try ScenarioLoader.parseTimeline(text, file: "m.yaml").warnings.map(\.message)
        #expect(messages.contains { $0.contains("ambient pod amb/db accepts plaintext on port 5432,") && $0.contains("withhold") })
        let cell = try MeshText.cell(resources, "{from: [legacy/client], to: [amb/db], ports: [TCP/5432]}")
        #expect(cell.mesh?.mode?.mode == .permissive)
        #expect(cell.mesh?.mode?.ztunnelNote != nil)
    }

    @Test("R1–R3: membership by labels, fixed at creation for sidecars, live for ambient")
    func membership() throws {
        let text =
            MeshText.head + """

                    - {apiVersion: v1, kind: Pod, metadata: {name: rev, namespace: legacy, labels: {istio.io/rev: canary}}, spec: {containers: [{name: c, image: i}]}}
                    - {apiVersion: v1, kind: Pod, metadata: {name: dump, namespace: legacy}, spec: {containers: [{name: c, image: i}, {name: istio-proxy, image: proxyv2}]}}
                    - {apiVersion: v1, kind: Pod, metadata: {name: out, namespace: amb, labels: {istio.io/dataplane-mode: none}}, spec: {containers: [{name: c, image: i}]}}
                    - {apiVersion: v1, kind: Pod, metadata: {name: both, namespace: amb, labels: {sidecar.istio.io/inject: "true"}}, spec: {containers: [{name: c, image: i}]}}
                  steps:
                    - label: {kind: Namespace, name: prod, labels: {}}
                    - label: {kind: Namespace, name: legacy, labels: {istio.io/dataplane-mode: ambient}}
                """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "m.yaml")
        let start = timeline.initial
        #expect(start.dataPlane(of: ObjectKey("prod", "api")) == .sidecar)
        #expect(start.dataPlane(of: ObjectKey("prod", "plain")) == DataPlane.none)
        #expect(start.dataPlane(of: ObjectKey("legacy", "rev")) == .sidecar)
        #expect(start.dataPlane(of: ObjectKey("legacy", "dump")) == .sidecar)
        #expect(start.dataPlane(of: ObjectKey("amb", "db")) == .ambient)
        #expect(start.dataPlane(of: ObjectKey("amb", "out")) == DataPlane.none)
        #expect(start.dataPlane(of: ObjectKey("amb", "both")) == .sidecar)
        #expect(start.dataPlane(of: ObjectKey("legacy", "client")) == DataPlane.none)
        // R2: unlabelling the namespace keeps the sidecar; R3: ambient follows the label.
        #expect(timeline.cluster(afterStep: 1).dataPlane(of: ObjectKey("prod", "api")) == .sidecar)
        #expect(timeline.cluster(afterStep: 2).dataPlane(of: ObjectKey("legacy", "client")) == .ambient)
    }

    /// istio-cni's default enablement selectors (keycard review D3): pod label `ambient`, or a pod
    /// label NotIn [none] in an ambient namespace.
    @Test("R3 (istio-cni): a pod label other than ambient or none leaves the namespace's choice")
    func ambientPodLabelOtherValues() throws {
        let text =
            MeshText.head + """

                    - {apiVersion: v1, kind: Pod, metadata: {name: sidecar-value, namespace: amb, labels: {istio.io/dataplane-mode: sidecar}}, spec: {containers: [{name: c, image: i}]}}
                    - {apiVersion: v1, kind: Pod, metadata: {name: empty-value, namespace: amb, labels: {istio.io/dataplane-mode: ""}}, spec: {containers: [{name: c, image: i}]}}
                    - {apiVersion: v1, kind: Pod, metadata: {name: upper, namespace: amb, labels: {istio.io/dataplane-mode: Ambient}}, spec: {containers: [{name: c, image: i}]}}
                    - {apiVersion: v1, kind: Pod, metadata: {name: out, namespace: amb, labels: {istio.io/dataplane-mode: none}}, spec: {containers: [{name: c, image: i}]}}
                    - {apiVersion: v1, kind: Pod, metadata: {name: other-value, namespace: legacy, labels: {istio.io/dataplane-mode: sidecar}}, spec: {containers: [{name: c, image: i}]}}
                    - {apiVersion: v1, kind: Pod, metadata: {name: own, namespace: legacy, labels: {istio.io/dataplane-mode: ambient}}, spec: {containers: [{name: c, image: i}]}}
                  steps:
                    - label: {kind: Namespace, name: amb, labels: {istio.io/dataplane-mode: none}}
                """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "m.yaml")
        let start = timeline.initial
        #expect(start.dataPlane(of: ObjectKey("amb", "sidecar-value")) == .ambient)
        #expect(start.dataPlane(of: ObjectKey("amb", "empty-value")) == .ambient)
        #expect(start.dataPlane(of: ObjectKey("amb", "upper")) == .ambient)
        #expect(start.dataPlane(of: ObjectKey("amb", "out")) == DataPlane.none)
        #expect(start.dataPlane(of: ObjectKey("legacy", "other-value")) == DataPlane.none)
        #expect(start.dataPlane(of: ObjectKey("legacy", "own")) == .ambient)
        // The namespace opted out: only a pod labelled ambient itself stays.
        let after = timeline.cluster(afterStep: 1)
        #expect(after.dataPlane(of: ObjectKey("amb", "sidecar-value")) == DataPlane.none)
        #expect(after.dataPlane(of: ObjectKey("amb", "db")) == DataPlane.none)
    }

    @Test("R1 (injector code): the pod annotation sidecar.istio.io/inject opts out when no label of that name is present")
    func injectAnnotation() throws {
        let text =
            MeshText.head + """

                    - {apiVersion: v1, kind: Pod, metadata: {name: anno-off, namespace: prod, annotations: {sidecar.istio.io/inject: "false"}}, spec: {containers: [{name: c, image: i}]}}
                    - {apiVersion: v1, kind: Pod, metadata: {name: label-wins, namespace: prod, labels: {sidecar.istio.io/inject: "true"}, annotations: {sidecar.istio.io/inject: "false"}}, spec: {containers: [{name: c, image: i}]}}
                    - {apiVersion: v1, kind: Pod, metadata: {name: label-off, namespace: prod, labels: {sidecar.istio.io/inject: "false"}, annotations: {sidecar.istio.io/inject: "true"}}, spec: {containers: [{name: c, image: i}]}}
                    - {apiVersion: v1, kind: Pod, metadata: {name: anno-on, namespace: legacy, annotations: {sidecar.istio.io/inject: "true"}}, spec: {containers: [{name: c, image: i}]}}
                    - {apiVersion: v1, kind: Pod, metadata: {name: anno-odd, namespace: prod, annotations: {sidecar.istio.io/inject: "no"}}, spec: {containers: [{name: c, image: i}]}}
                    - {apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: default, namespace: prod}, spec: {mtls: {mode: STRICT}}}
                  steps:
                    - probe: {from: [prod/anno-off], to: [prod/api], ports: [TCP/8080]}
                """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "m.yaml")
        let start = timeline.initial
        #expect(start.dataPlane(of: ObjectKey("prod", "anno-off")) == DataPlane.none)
        #expect(start.dataPlane(of: ObjectKey("prod", "label-wins")) == .sidecar)
        #expect(start.dataPlane(of: ObjectKey("prod", "label-off")) == DataPlane.none)
        // The webhook is called by labels only: the annotation cannot opt a pod in.
        #expect(start.dataPlane(of: ObjectKey("legacy", "anno-on")) == DataPlane.none)
        // Values other than "true"/"false" fall back to the namespace's default.
        #expect(start.dataPlane(of: ObjectKey("prod", "anno-odd")) == .sidecar)
        let cells = timeline.cells(ofProbeStep: 1)
        #expect(cells.count == 1)
        #expect(cells.first?.outcome == .denyMTLS)
    }

    /// Istio's injector webhooks (`mutatingwebhook.yaml`): `namespace.` needs `istio-injection
    /// In [enabled]`, the pod-label and revision webhooks `istio-injection DoesNotExist`.
    @Test("R1 (webhooks): a namespace istio-injection value other than enabled meshes no pod, whatever the pod's labels")
    func oddNamespaceInjectionLabel() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: mesh}
            spec:
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: odd, labels: {istio-injection: "true"}}}
                - {apiVersion: v1, kind: Namespace, metadata: {name: shut, labels: {istio-injection: disabled}}}
                - {apiVersion: v1, kind: Namespace, metadata: {name: rev, labels: {istio.io/rev: canary}}}
                - {apiVersion: v1, kind: Namespace, metadata: {name: legacy}}
                - {apiVersion: v1, kind: Pod, metadata: {name: label, namespace: odd, labels: {sidecar.istio.io/inject: "true"}}, spec: {containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: revision, namespace: odd, labels: {istio.io/rev: canary}}, spec: {containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: label, namespace: shut, labels: {sidecar.istio.io/inject: "true"}}, spec: {containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: revision, namespace: shut, labels: {istio.io/rev: canary}}, spec: {containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: plain, namespace: rev}, spec: {containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: label, namespace: rev, labels: {sidecar.istio.io/inject: "true"}}, spec: {containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: label, namespace: legacy, labels: {sidecar.istio.io/inject: "true"}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: revision, namespace: legacy, labels: {istio.io/rev: canary}}, spec: {containers: [{name: c, image: i}]}}
              steps:
                - probe: {from: [odd/label], to: [legacy/label], ports: [TCP/80]}
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "m.yaml")
        let start = timeline.initial
        for namespace in ["odd", "shut"] {
            #expect(start.dataPlane(of: ObjectKey(namespace, "label")) == DataPlane.none)
            #expect(start.dataPlane(of: ObjectKey(namespace, "revision")) == DataPlane.none)
        }
        for key in [ObjectKey("rev", "plain"), ObjectKey("rev", "label"), ObjectKey("legacy", "label"), ObjectKey("legacy", "revision")] {
            #expect(start.dataPlane(of: key) == .sidecar)
        }
        let warnings = timeline.warnings.filter { $0.message.contains("istio-injection") }
        #expect(warnings.count == 1)
        #expect(warnings.first?.message.contains("Namespace odd's label istio-injection: \"true\" is neither enabled nor disabled") == true)
        #expect(warnings.first?.location.line == 6)
    }

    /// istiod's ambient conversion: `selector: {}` → scope WORKLOAD_SELECTOR with a nil label
    /// selector, attached to no workload (`buildWorkloadPolicies`); sidecars: nil matchLabels
    /// selects every workload (`isSelected`).
    @Test("R19 (ambient): a selector without matchLabels binds no ambient pod, and every sidecar pod of its scope")
    func emptySelectorAmbient() throws {
        let deny = "{selector: {}, action: DENY, rules: [{}]}"
        let ambient = try MeshText.cell([MeshText.ap("amb", "deny-all", deny)], "{from: [amb/job], to: [amb/db], ports: [TCP/5432]}")
        #expect(ambient.outcome == .allow)
        let sidecar = try MeshText.cell([MeshText.ap("prod", "deny-all", deny)], "{from: [amb/job], to: [prod/api], ports: [TCP/8080]}")
        #expect(sidecar.outcome == .denyRBAC)
        // The root namespace's: the same on each plane.
        let root = try MeshText.cell([MeshText.ap("istio-system", "deny-all", deny)], "{from: [amb/job], to: [amb/db], ports: [TCP/5432]}")
        #expect(root.outcome == .allow)
        // Without a selector, or `selector: null` (pruned by the API server), it is namespace-wide on ztunnel too.
        for spec in ["{action: DENY, rules: [{}]}", "{selector: null, action: DENY, rules: [{}]}"] {
            let cell = try MeshText.cell([MeshText.ap("amb", "deny-all", spec)], "{from: [amb/job], to: [amb/db], ports: [TCP/5432]}")
            #expect(cell.outcome == .denyRBAC)
        }
        let text = MeshText.text([MeshText.ap("amb", "deny-all", deny)], probe: "{from: [amb/job], to: [amb/db], ports: [TCP/5432]}")
        let messages = try ScenarioLoader.parseTimeline(text, file: "m.yaml").warnings.map(\.message)
        #expect(
            messages.contains {
                $0.contains(
                    "AuthorizationPolicy amb/deny-all has a selector without matchLabels: istiod attaches it to no ambient workload")
            })
    }

    @Test("R9: an object of an earlier step is older; a replacement keeps its age")
    func oldestAcrossSteps() throws {
        let text = MeshText.text(
            [T.pa("prod", "z-strict", "{mtls: {mode: STRICT}}")], probe: "{from: [legacy/client], to: [prod/api], ports: [TCP/8080]}"
        )
        .replacingOccurrences(
            of: "  steps:\n",
            with:
                "  steps:\n    - apply: [\(T.pa("prod", "a-permissive", "{mtls: {mode: PERMISSIVE}}"))]\n    - apply: [\(T.pa("prod", "z-strict", "{mtls: {mode: STRICT}}"))]\n"
        )
        let timeline = try ScenarioLoader.parseTimeline(text, file: "m.yaml")
        let cell = try #require(timeline.cells(ofProbeStep: 3).first)
        #expect(cell.outcome == .denyMTLS)
        #expect(cell.mesh?.mode?.setBy == ObjectKey("prod", "z-strict"))
        #expect(timeline.warnings.contains { $0.message.contains("second namespace-wide") })
    }

    @Test("provenance: the mode's policy and the deciding rule")
    func provenance() throws {
        let cell = try MeshText.cell(
            [
                T.meshStrict, T.pa("prod", "w", "{selector: {matchLabels: {app: api}}, portLevelMtls: {\"8080\": {mode: PERMISSIVE}}}"),
                allowWeb,
            ],
            probe("prod/web", "prod/api", "TCP/8080"))
        let record = try #require(cell.result().mesh)
        #expect(record.mode == "PERMISSIVE")
        #expect(record.modeSetBy == "prod/w portLevelMtls")
        #expect(record.identity == "spiffe://cluster.local/ns/prod/sa/web")
        #expect(record.authorization == "prod/api-web rule 0 (ALLOW)")
        #expect(record.source == .sidecar && record.destination == .sidecar)
    }

    @Test("the network's deny comes first and carries no mesh detail")
    func networkFirst() throws {
        let netpol =
            "{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny, namespace: prod}, spec: {podSelector: {}, policyTypes: [Ingress]}}"
        let cell = try MeshText.cell([T.meshStrict, netpol], probe("legacy/client", "prod/api", "TCP/8080"))
        #expect(cell.outcome == .deny)
        #expect(cell.result().detail == nil)
    }

    @Test("a scenario without the mesh reports exactly as before")
    func noMeshNoRecord() throws {
        let text = ScenarioText.scenario(steps: "- probe: {}")
        let timeline = try ScenarioLoader.parseTimeline(text, file: "plain.yaml")
        #expect(!timeline.usesMesh)
        #expect(timeline.cells(ofProbeStep: 1).allSatisfy { $0.mesh == nil && $0.result().mesh == nil })
    }
}
