import Foundation
import KeycardValues
import Testing

@testable import KeycardScenario

/// A scenario text that must be refused, where the error must point, and a distinctive part of
/// its message.
struct MalformedCase: Sendable, CustomTestStringConvertible {
    var name: String
    var text: String
    var spot: Spot
    var message: String
    var testDescription: String { name }
}

private typealias T = ScenarioText

private func bad(_ name: String, _ text: String, _ spot: Spot, _ message: String) -> MalformedCase {
    MalformedCase(name: name, text: text, spot: spot, message: message)
}

/// A pod resource on one line: `- {apiVersion: v1, kind: Pod, metadata: {...}, spec: {...}, ...}`.
private func flowPod(_ metadata: String, spec: String = "containers: [{name: c, image: i}]", extra: String = "") -> String {
    "- {apiVersion: v1, kind: Pod, metadata: {\(metadata)}, spec: {\(spec)}\(extra)}"
}

/// An ingress-only policy on every prod pod with the given rule (one YAML line).
private func ingressRule(_ rule: String) -> String {
    T.policy("podSelector: {}\ningress:\n  - \(rule)")
}

let syntaxAndSchemaCases: [MalformedCase] = [
    // YAML itself: a second `:` on a plain-scalar line is not allowed in block context.
    bad(
        "broken YAML", T.scenario(head: T.head.replacingOccurrences(of: "name: sample", with: "name: sample: x")),
        .at("name: sample: x", column: ": x"), "invalid YAML"),
    bad(
        "unknown top-level key", T.scenario() + "extra: 1\n", .at("extra: 1", column: "extra"),
        "unknown field \"extra\" in the scenario"),
    bad("unknown key in spec", T.scenario() + "  labs: {nodes: 2}\n", .at("labs:", column: "labs"), "unknown field \"labs\" in spec"),
    bad(
        "unknown key in a NetworkPolicy spec", T.scenario(resources: T.policy("podSelector: {}\npolicyType: [Ingress]")),
        .at("policyType: [Ingress]", column: "policyType"), "unknown field \"policyType\" in NetworkPolicy spec"),
    bad(
        "scenario name with upper case", T.scenario(head: T.head.replacingOccurrences(of: "name: sample", with: "name: Sample")),
        .at("name: Sample", column: "Sample"), "metadata.name \"Sample\" must contain only lower-case letters"),
    bad(
        "scenario name longer than 24",
        T.scenario(head: T.head.replacingOccurrences(of: "name: sample", with: "name: abcdefghij-abcdefghij-abc")),
        .at("name: abcdefghij", column: "abcdefghij"), "must be at most 24 characters"),
    bad(
        "pod name with upper case", T.scenario(resources: flowPod("name: Web2, namespace: prod")),
        .at("name: Web2", column: "Web2"), "Pod name \"Web2\" must consist of lower-case"),
    bad(
        "string where an integer belongs",
        T.scenario(
            resources: flowPod(
                "name: db, namespace: prod",
                spec: "containers: [{name: c, image: i, ports: [{containerPort: \"5432\"}]}]")),
        .at("containerPort: \"5432\"", column: "\"5432\""), "containerPort must be an integer, found a scalar \"5432\""),
    bad(
        "spec.lab.nodes not a number", T.scenario() + "  lab: {nodes: two}\n", .at("nodes: two", column: "two"),
        "spec.lab.nodes must be an integer"),
    bad(
        "policy port 0", T.scenario(resources: ingressRule("ports: [{port: 0}]")), .at("{port: 0}", column: "0}"),
        "port must be an integer from 1 to 65535, found 0"),
    bad(
        "container port 70000",
        T.scenario(
            resources: flowPod(
                "name: db, namespace: prod",
                spec: "containers: [{name: c, image: i, ports: [{containerPort: 70000}]}]")),
        .at("containerPort: 70000", column: "70000"), "containerPort must be an integer from 1 to 65535, found 70000"),
    bad(
        "probe port TCP/70000", T.scenario(steps: "- {probe: {ports: [TCP/70000]}}"), .at("TCP/70000", column: "TCP/70000"),
        "port \"TCP/70000\" must be PROTOCOL/NUMBER"),
    bad(
        "quoted \"80\" is a string: neither number nor port name", T.scenario(resources: ingressRule("ports: [{port: \"80\"}]")),
        .at("{port: \"80\"}", column: "\"80\""), "port \"80\" is neither a number from 1 to 65535 nor a valid port name"),
    bad(
        "policy type in the wrong case", T.scenario(resources: T.policy("podSelector: {}\npolicyTypes: [ingress]")),
        .at("policyTypes: [ingress]", column: "ingress]"), "policy type \"ingress\" is not one of Ingress, Egress"),
]

let policyContentCases: [MalformedCase] = [
    bad(
        "bad CIDR", T.scenario(resources: ingressRule("from: [{ipBlock: {cidr: 10.0.0.0/33}}]")),
        .at("cidr: 10.0.0.0/33", column: "10.0.0.0/33"), "ipBlock.cidr \"10.0.0.0/33\" is not a valid CIDR"),
    bad(
        "except outside cidr", T.scenario(resources: ingressRule("from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24]}}]")),
        .at("except: [10.1.0.0/24]", column: "10.1.0.0/24"), "except \"10.1.0.0/24\" must be a strict subset of cidr 10.0.0.0/16"),
    bad(
        "except equal to cidr is not a strict subset",
        T.scenario(resources: ingressRule("from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.0.0/16]}}]")),
        .at("except: [10.0.0.0/16]", column: "10.0.0.0/16]"), "must be a strict subset"),
    bad(
        "ipBlock together with podSelector", T.scenario(resources: ingressRule("from: [{podSelector: {}, ipBlock: {cidr: 10.0.0.0/8}}]")),
        .at("ipBlock: {cidr", column: "{cidr"), "a peer with ipBlock may not also have podSelector or namespaceSelector"),
    bad(
        "empty peer {}", T.scenario(resources: ingressRule("from: [{}]")), .at("from: [{}]", column: "{}"),
        "a peer must specify podSelector, namespaceSelector or ipBlock"),
    bad(
        "In without values", T.scenario(resources: T.policy("podSelector: {matchExpressions: [{key: app, operator: In}]}")),
        .at("operator: In}", column: "{key"), "operator In needs a non-empty \"values\" list"),
    bad(
        "NotIn with empty values",
        T.scenario(resources: T.policy("podSelector: {matchExpressions: [{key: app, operator: NotIn, values: []}]}")),
        .at("operator: NotIn", column: "{key"), "operator NotIn needs a non-empty \"values\" list"),
    bad(
        "Exists with values",
        T.scenario(resources: T.policy("podSelector: {matchExpressions: [{key: app, operator: Exists, values: [web]}]}")),
        .at("operator: Exists", column: "{key"), "operator Exists takes no \"values\""),
    bad(
        "unknown operator",
        T.scenario(resources: T.policy("podSelector: {matchExpressions: [{key: app, operator: Equals, values: [web]}]}")),
        .at("operator: Equals", column: "Equals"), "operator \"Equals\" is not one of In, NotIn, Exists, DoesNotExist"),
    bad(
        "bad label key", T.scenario(resources: flowPod("name: db, namespace: prod, labels: {\"bad key\": x}")),
        .at("\"bad key\"", column: "\"bad key\""), "label key \"bad key\" must consist of"),
    bad(
        "bad label value", T.scenario(resources: flowPod("name: db, namespace: prod, labels: {app: \"-db\"}")),
        .at("app: \"-db\"", column: "\"-db\""), "label value \"-db\" must consist of"),
    bad(
        "bad label key in a selector", T.scenario(resources: T.policy("podSelector: {matchLabels: {a/b/c: x}}")),
        .at("a/b/c: x", column: "a/b/c"), "may contain at most one '/'"),
    bad(
        "endPort with a named port", T.scenario(resources: ingressRule("ports: [{port: http, endPort: 90}]")),
        .at("endPort: 90", column: "90"), "endPort needs a numeric port"),
    bad(
        "endPort without port", T.scenario(resources: ingressRule("ports: [{endPort: 90}]")),
        .at("{endPort: 90}", column: "90"), "endPort needs a numeric port"),
    bad(
        "endPort below port", T.scenario(resources: ingressRule("ports: [{port: 80, endPort: 79}]")),
        .at("endPort: 79", column: "79"), "endPort 79 must not be less than port 80"),
    bad(
        "bad port name", T.scenario(resources: ingressRule("ports: [{port: HTTP}]")),
        .at("{port: HTTP}", column: "HTTP"), "port \"HTTP\" is neither a number"),
]

let stepCases: [MalformedCase] = [
    bad(
        "rotate of something unknown", T.scenario(steps: "- {rotate: keys}"), .at("rotate: keys", column: "keys"),
        "rotate is `ca` or {serviceAccount: namespace/name}"),
    bad(
        "rotate of a service account without its namespace", T.scenario(steps: "- {rotate: {serviceAccount: web}}"),
        .at("serviceAccount: web", column: "web"), "rotate.serviceAccount \"web\" must be namespace/name"),
    bad(
        "rotate without the mesh", T.scenario(steps: "- {rotate: ca}"), .at("- {rotate: ca}", column: "{rotate"),
        "rotate needs the mesh"),
    bad("unknown step key", T.scenario(steps: "- {prob: {}}"), .at("prob:", column: "prob"), "unknown field \"prob\" in a step"),
    bad(
        "two actions in one step", T.scenario(steps: "- {probe: {}, delete: [{kind: Pod, namespace: prod, name: web}]}"),
        .at("probe: {}, delete", column: "{probe"),
        "a step needs exactly one of probe, apply, delete, label, scan, dns, scale, rotate; found probe and delete"),
    bad(
        "expect on a delete step", T.scenario(steps: "- {delete: [{kind: Pod, namespace: prod, name: web}], expect: model}"),
        .at("expect: model", column: "model"), "expect belongs to probe, scan and dns steps, not to delete"),
    bad(
        "table rows are not the probe's sources",
        T.scenario(
            steps: """
                - probe: {from: [prod/web, prod/api], to: [prod/web], ports: [TCP/80]}
                  expect:
                    TCP/80: |
                      -         prod/web
                      prod/web  #
                """), .at("TCP/80: |", column: "|"), "the TCP/80 table's rows must be exactly the probe's sources: prod/web prod/api"),
    bad(
        "table columns are not the probe's destinations",
        T.scenario(
            steps: """
                - probe: {from: [prod/web], to: [prod/web, prod/api], ports: [TCP/80]}
                  expect:
                    TCP/80: |
                      -         prod/web
                      prod/web  #
                """), .at("TCP/80: |", column: "|"), "the TCP/80 table's columns must be exactly the probe's destinations"),
    bad(
        "table cell not . X #",
        T.scenario(
            steps: """
                - probe: {from: [prod/web, prod/api], to: [prod/web, prod/api], ports: [TCP/80]}
                  expect:
                    TCP/80: |
                      -         prod/web  prod/api
                      prod/web  #         .
                      prod/api  Y         #
                """), .line("prod/api  Y"),
        "cell \"Y\" in row prod/api must be . (connected), X (blocked), M (refused by mutual TLS), R (refused by authorization) or # (not checked)"
    ),
    bad(
        "table row with too few cells",
        T.scenario(
            steps: """
                - probe: {from: [prod/web], to: [prod/web, prod/api], ports: [TCP/80]}
                  expect:
                    TCP/80: |
                      -         prod/web  prod/api
                      prod/web  #
                """), .line("prod/web  #"), "row prod/web has 1 cells; the header has 2 destinations"),
    bad(
        "probe of an unknown pod", T.scenario(steps: "- {name: ghost, probe: {from: [prod/ghost]}}"),
        .at("name: ghost", column: "{name"), "probe.from: pod prod/ghost does not exist at this step"),
    bad(
        "probe of an undeclared external", T.scenario(steps: "- {probe: {to: [external/nowhere], ports: [TCP/80]}}"),
        .at("external/nowhere", column: "{probe"), "probe.to: external nowhere is not declared in spec.externals"),
    bad(
        "delete of a missing object", T.scenario(steps: "- delete: [{kind: NetworkPolicy, namespace: prod, name: ghost}]"),
        .at("name: ghost", column: "{kind"), "NetworkPolicy prod/ghost does not exist at this step"),
    bad(
        "delete of an object already deleted",
        T.scenario(
            steps: """
                - delete: [{kind: Pod, namespace: prod, name: api}]
                - delete: [{kind: Pod, name: api, namespace: prod}]
                """), .at("kind: Pod, name: api", column: "{kind"), "Pod prod/api does not exist at this step"),
    bad(
        "label of a missing pod", T.scenario(steps: "- label: {kind: Pod, namespace: prod, name: ghost, labels: {}}"),
        .at("name: ghost", column: "{kind"), "Pod prod/ghost does not exist at this step"),
    bad(
        "probe after its pod was deleted",
        T.scenario(
            steps: """
                - delete: [{kind: Pod, namespace: prod, name: api}]
                - {probe: {from: [prod/api], ports: [TCP/80]}}
                """), .at("from: [prod/api]", column: "{probe"), "probe.from: pod prod/api does not exist at this step"),
]

let objectGraphCases: [MalformedCase] = [
    bad(
        "pod in an undeclared namespace", T.scenario(resources: flowPod("name: lost, namespace: nowhere")),
        .at("name: lost", column: "{apiVersion"), "pod nowhere/lost: namespace \"nowhere\" does not exist (declare a Namespace first)"),
    bad(
        "policy in an undeclared namespace",
        T.scenario(
            resources:
                "- {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: np, namespace: nowhere}, spec: {podSelector: {}}}"
        ),
        .at("name: np", column: "{apiVersion"), "NetworkPolicy nowhere/np: namespace \"nowhere\" does not exist"),
    // The head declares prod/web at line 8 (block mapping: its first key, column 7).
    bad(
        "duplicate pod", T.scenario(resources: flowPod("name: web, namespace: prod, labels: {app: again}")),
        .at("app: again", column: "{apiVersion"), "Pod prod/web appears twice in resources (first at bad.yaml:8:7)"),
    // A namespace called `external` is valid, as in Kubernetes; a pod there named like an external is ambiguous.
    bad(
        "pod whose key is also an external's",
        T.scenario(
            resources: """
                - {apiVersion: v1, kind: Namespace, metadata: {name: external}}
                - {apiVersion: v1, kind: Pod, metadata: {name: db, namespace: external}, spec: {containers: [{name: c}]}}
                """) + "  externals:\n    - {name: db, ip: 192.0.2.9}\n",
        .at("name: db, namespace: external", column: "{apiVersion"), "pod external/db is ambiguous"),
]

@Suite("Malformed scenarios: file:line:col and message")
struct MalformedInputTests {
    @Test("syntax and schema", arguments: syntaxAndSchemaCases)
    func syntax(_ c: MalformedCase) { check(c) }

    @Test("policy contents", arguments: policyContentCases)
    func policyContents(_ c: MalformedCase) { check(c) }

    @Test("steps, tables, timeline references", arguments: stepCases)
    func steps(_ c: MalformedCase) { check(c) }

    @Test("objects, namespaces and addresses", arguments: objectGraphCases)
    func objectGraph(_ c: MalformedCase) { check(c) }

    private func check(_ c: MalformedCase) {
        guard let spot = c.spot.resolve(in: c.text) else {
            Issue.record("test bug: \(c.spot.needle) / \(c.spot.token ?? "-") not found in the text")
            return
        }
        guard let error = parseError(c.text) else { return }
        #expect(error.location.file == "bad.yaml")
        #expect(error.location.line == spot.line, "\(c.name): \(error)")
        if let column = spot.column { #expect(error.location.column == column, "\(c.name): \(error)") }
        #expect(error.message.contains(c.message), "\(c.name): \(error)")
        #expect(error.description.hasPrefix("bad.yaml:\(spot.line):"))
    }

    /// `[[[[...` 2,000 deep: refused by the parser's own limit, before the recursive composer
    /// sees it, on the line where it is written.
    @Test(.timeLimit(.minutes(1)))
    func deepFlowNesting() throws {
        let prefix = "  lab: "
        let text = T.scenario() + prefix + String(repeating: "[", count: 2000) + String(repeating: "]", count: 2000) + "\n"
        let line = try #require(Spot.line(prefix + "[").resolve(in: text)).line
        let error = try #require(parseError(text))
        #expect(error.location.line == line)
        #expect(error.message == "nesting is deeper than 1000 levels")
    }

    /// Block nesting far beyond any real manifest is refused too, not recursed into.
    @Test(.timeLimit(.minutes(1)))
    func deepBlockNesting() throws {
        var text = T.scenario() + "  lab:\n"
        for depth in 0..<1500 { text += String(repeating: "  ", count: depth + 2) + "k\(depth):\n" }
        let error = try #require(parseError(text))
        #expect(error.message == "nesting is deeper than 1000 levels")
    }

    /// A billion-laughs chain of `kind: List` objects that keycard does walk (items of lists are
    /// decoded): 10 levels of 10 aliases each would be 10^10 nodes. It must be refused quickly.
    @Test(.timeLimit(.minutes(1)))
    func aliasBombThatIsWalked() throws {
        var resources = "- &l0 {apiVersion: v1, kind: List, items: []}\n"
        for level in 1...10 {
            let items = Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ")
            resources += "- &l\(level) {apiVersion: v1, kind: List, items: [\(items)]}\n"
        }
        let error = try #require(parseError(T.scenario(resources: resources)))
        #expect(error.message.contains("alias"), "\(error)")
    }

    /// The classic form, `a: &a [x,x,...]` nested 10 levels, in a Pod field keycard does not read.
    /// Kubernetes' YAML reader refuses excessive aliasing wherever it is; keycard must refuse it, not hang.
    @Test(.timeLimit(.minutes(1)))
    func aliasBombInAnIgnoredField() throws {
        var bomb = "a0: &a0 [" + Array(repeating: "x", count: 10).joined(separator: ", ") + "]\n"
        for level in 1...9 {
            bomb += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        let pod = """
            - apiVersion: v1
              kind: Pod
              metadata: {name: bomb, namespace: prod}
              spec:
                containers: [{name: c, image: i}]
                overhead:
            \(T.indent(bomb, 6))
            """
        let text = T.scenario(resources: pod)
        let error = try #require(parseError(text))
        #expect(error.message.contains("alias"), "\(error)")
    }
}
