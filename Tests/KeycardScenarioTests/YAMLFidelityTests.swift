import Foundation
import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

/// YAML as kubectl reads it (go-yaml v2 into untyped objects, then JSON): what loads must also
/// mean what the API server would store, not merely load.
@Suite("YAML as kubectl reads it")
struct YAMLFidelityTests {
    @Test func mergeKeysGiveTheirEntriesAndExplicitKeysWin() throws {
        let t = try loadManifests([
            "a.yaml": """
            apiVersion: v1
            kind: Pod
            metadata:
              name: p
              annotations: &base {app: a, tier: x}
              labels:
                <<: *base
                tier: b
            spec:
              containers:
              - name: c
                image: i
              - <<: {image: i, ports: [{containerPort: 8080, name: web}]}
                name: d
            """
        ])
        let pod = try #require(t.initial.pods[ObjectKey("default", "p")])
        #expect(pod.labels == ["app": "a", "tier": "b"])
        #expect(pod.ports.map(\.port) == [8080])
    }

    @Test func mergeKeyListsLetEarlierMappingsWin() throws {
        let t = try loadManifests([
            "a.yaml": """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: n
              labels:
                <<: [{team: first}, {team: second, env: prod}]
            """
        ])
        #expect(t.initial.namespaces["n"]?.labels["team"] == "first")
        #expect(t.initial.namespaces["n"]?.labels["env"] == "prod")
    }

    @Test func timestampsAreStrings() throws {
        let t = try loadManifests([
            "a.yaml": """
            apiVersion: v1
            kind: Namespace
            metadata: {name: n, labels: {released: 2024-01-15}, annotations: {at: 2024-01-15T10:00:00Z}}
            """
        ])
        #expect(t.initial.namespaces["n"]?.labels["released"] == "2024-01-15")
    }

    @Test func typedListItemsTakeTheListsKind() throws {
        let t = try loadManifests([
            "a.yaml": """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicyList
            items:
            - metadata: {name: deny, namespace: default}
              spec: {podSelector: {}}
            """
        ])
        #expect(t.initial.policies[ObjectKey("default", "deny")] != nil)
        // Only an item that names neither kind nor apiVersion takes the list's (decodeToList).
        #expect(throws: ScenarioError.self) {
            try loadManifests([
                "a.yaml": """
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicyList
                items:
                - apiVersion: networking.k8s.io/v1
                  metadata: {name: deny, namespace: default}
                  spec: {podSelector: {}}
                """
            ])
        }
    }

    @Test func anIntegralFloatIsThatPort() throws {
        let t = try loadManifests([
            "a.yaml": """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p}
            spec:
              podSelector: {}
              ingress: [{ports: [{port: 80.0}]}]
            """
        ])
        #expect(t.initial.policies[ObjectKey("default", "p")]?.ingress?.first?.ports?.first?.port == .number(80))
        #expect(throws: ScenarioError.self) {
            try loadManifests([
                "a.yaml":
                    "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i, ports: [{containerPort: 80.5}]}]}\n"
            ])
        }
    }

    /// Numbers go-yaml v2 reads that Yams' YAML 1.1 rules did not: `-0` and `+0` through
    /// strconv.ParseInt are 0 (a `nodePort` of 0 is allocated), and a plain scalar starting with
    /// a dot goes through ParseFloat (`.5e1` is 5, `.8e2` is 80). They had been refused.
    @Test func signedZeroAndDotFloatsAreGoYAMLNumbers() throws {
        func deployment(_ replicas: String) -> String {
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: d}
            spec:
              replicas: \(replicas)
              selector: {matchLabels: {app: d}}
              template:
                metadata: {labels: {app: d}}
                spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}

            """
        }
        for (replicas, pods) in [(".5e1", 5), ("-0", 0), ("+0", 0), ("+2", 2)] {
            let t = try loadManifests(["a.yaml": deployment(replicas)])
            #expect(t.initial.pods(of: WorkloadKey(.deployment, "default", "d")).count == pods, "replicas: \(replicas)")
        }
        let json = try loadManifests([
            "a.json":
                #"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": -0, "selector": {"matchLabels": {"app": "d"}}, "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}"#
        ])
        #expect(json.initial.pods(of: WorkloadKey(.deployment, "default", "d")).isEmpty)

        let service = try loadManifests([
            "a.yaml": """
            apiVersion: v1
            kind: Service
            metadata: {name: s}
            spec: {type: NodePort, selector: {x: y}, ports: [{name: a, port: 80, nodePort: -0}, {name: b, port: 81, nodePort: .3e5}]}
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p}
            spec: {podSelector: {}, ingress: [{ports: [{port: .8e2}]}]}

            """
        ])
        let ports = try #require(service.initial.services[ObjectKey("default", "s")]?.ports)
        #expect(
            ports.map(\.nodePort) == [nil, 30000] || (ports.first?.nodePort ?? 0) >= 30000, "-0 is allocated: \(ports.map(\.nodePort))")
        #expect(ports.last?.nodePort == 30000)
        #expect(service.initial.policies[ObjectKey("default", "p")]?.ingress?.first?.ports?.first?.port == .number(80))
        // go-yaml makes `port: -0` the number 0, which the API server refuses as a port.
        let zero = try manifestRefusal(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec: {podSelector: {}, ingress: [{ports: [{port: -0}]}]}\n"
        )
        #expect(zero.message.contains("port must be an integer from 1 to 65535, found -0"), "\(zero)")
    }

    @Test func aFolderReadsItsJSONManifestsToo() throws {
        let t = try loadManifests([
            "a.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app: a}}\nspec: {containers: [{name: c, image: i}]}\n",
            "b-deny.json":
                #"{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny"}, "spec": {"podSelector": {}}}"#,
        ])
        #expect(t.initial.policies[ObjectKey("default", "deny")] != nil)
    }

    @Test func istioPortsMayHaveLeadingZeros() throws {
        let t = try loadManifests([
            "a.yaml": """
            apiVersion: v1
            kind: Pod
            metadata: {name: api}
            spec: {containers: [{name: c, image: i}]}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: p}
            spec:
              rules:
              - to: [{operation: {ports: ['080']}}]
              - when: [{key: destination.port, values: ['0443']}]
            """
        ])
        let policy = try #require(t.initial.authorizationPolicies[ObjectKey("default", "p")])
        #expect(policy.rules.first?.to?.first?.ports == [80])
        let pod = try #require(t.initial.pods[ObjectKey("default", "api")])
        let engine = AuthorizationEngine(t.initial)
        func allowed(_ port: Int) -> Bool {
            engine.authorize(
                AuthorizationAttributes(principal: nil, sourceIP: nil, destinationIP: nil, port: port), pod: pod, plane: .ambient,
                isHTTP: false
            ).allowed
        }
        #expect(allowed(80) && allowed(443))
        #expect(!allowed(8443))
    }

    /// A chain of anchors, each nesting the previous alias 90 levels deeper, is 20 KB of text and
    /// 9,000 levels once expanded: refused at the depth limit, never a stack overflow.
    @Test func aliasChainsNestNoDeeperThanTheLimit() throws {
        var text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n"
        var inner = "x"
        for index in 0..<100 {
            text += "  k\(index): &a\(index) " + String(repeating: "[", count: 90) + inner + String(repeating: "]", count: 90) + "\n"
            inner = "*a\(index)"
        }
        let error = try manifestRefusal(text)
        #expect(error.message.contains("nesting is deeper than 1000 levels"))
        #expect(error.location.line > 1)
    }

    /// Written nesting beyond the parser's limit is refused where it passes the limit, behind a
    /// block scalar whose quote and brackets are text.
    @Test func nestingBeyondTheLimitIsRefusedWhereItIsWritten() throws {
        let flow =
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: |\n    \"[{\n  b: "
            + String(repeating: "[", count: 3000) + String(repeating: "]", count: 3000) + "\n"
        let flowError = try manifestRefusal(flow)
        #expect(flowError.message == "nesting is deeper than 1000 levels")
        #expect(flowError.location.line == 7)
        var block = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec:\n"
        for depth in 0..<1200 { block += String(repeating: " ", count: depth + 2) + "k\(depth):\n" }
        let blockError = try manifestRefusal(block)
        #expect(blockError.message == "nesting is deeper than 1000 levels")
        #expect((900...1010).contains(blockError.location.line))
    }

    /// A one-line JSON file that the framing rewrites (an escaped emoji, as Python's json.dumps
    /// writes one) loads: positions are lookups, not walks along the 200 KB line per node (that
    /// was quadratic, minutes for 65 KB).
    @Test(.timeLimit(.minutes(1))) func aLongRewrittenJSONLineLoads() throws {
        let labels = (0..<4000).map { #""k\#($0)": "v\#($0)""# }.joined(separator: ", ")
        let text =
            #"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "annotations": {"e": "\ud83d\ude80"}, "labels": {"#
            + labels + "}}, \"data\": {}}\n"
        #expect(text.utf8.count > 60_000)
        let t = try loadManifests(["a.json": text])
        #expect(t.initial.pods.keys.map(\.namespace) == ["kube-system"])
    }

    /// A JSON stream 200,000 arrays deep is scanned without recursion (Go's scanner stops at
    /// 10,000 levels; a recursive scan overflowed the stack before that) and refused, not crashed.
    @Test func deepJSONIsRefusedNotCrashed() throws {
        let depth = 200_000
        let head = #"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": "#
        let text = head + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}\n"
        let error = try manifestRefusal(text)
        #expect(error.message.contains("nesting is deeper than 1000 levels") || error.message.contains("exceeded max depth"), "\(error)")
    }

    /// What kubectl accepts loads: 900 levels of nesting (go-yaml's limit is 10,000), and text
    /// that only looks nested (a stylesheet's `#fff` after a `{`, template braces, a bracket in a
    /// quoted string, a line of 600 spaces or dashes in a block scalar). A text heuristic once
    /// refused all of these.
    @Test func deepButValidNestingAndBracketsInTextLoad() throws {
        var widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec:\n  x: "
        widget += String(repeating: "[", count: 900) + "1" + String(repeating: "]", count: 900) + "\n"
        widget += "  y:\n"
        for depth in 0..<900 { widget += String(repeating: " ", count: depth + 4) + "k\(depth):\n" }
        var site = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: site}\ndata:\n  style.css: |\n"
        for index in 0..<150 { site += "    .c\(index) { color: #fff; }\n    {{- if .Values.x\(index) }}\n" }
        site += "    " + String(repeating: " ", count: 600) + "indented\n    " + String(repeating: "-", count: 600) + "\n"
        site += "  template: \"" + String(repeating: "[", count: 300) + "\"\n"
        let t = try loadManifests(["a.yaml": widget + site])
        // Neither object is run: the only pod is the lab's DNS server.
        #expect(t.initial.pods.keys.map(\.namespace) == ["kube-system"])
    }

    /// kubectl decodes each document alone: an anchor of an earlier document is unknown there
    /// (go-yaml: "unknown anchor 'm' referenced"); keycard parses each piece alone too.
    @Test func anAliasCannotReachIntoAnEarlierDocument() throws {
        let error = try manifestRefusal(
            "apiVersion: v1\nkind: Namespace\nmetadata: &m {name: x}\n---\napiVersion: v1\nkind: Namespace\nmetadata: *m\n")
        #expect(error.message.contains("found undefined alias (kubectl: unknown anchor"))
        #expect(error.location.line == 7)
    }

    /// The API server compares the prefix lengths as written: /104 of an IPv4-mapped CIDR is longer than /16.
    @Test func aMappedCIDRKeepsItsWrittenPrefixForExcept() throws {
        let error = try manifestRefusal(
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p}
            spec:
              podSelector: {}
              ingress:
              - from: [{ipBlock: {cidr: "::ffff:10.0.0.0/104", except: ["10.1.0.0/16"]}}]
            """)
        #expect(error.message.contains("must be a strict subset of cidr ::ffff:10.0.0.0/104"))
        #expect(error.location.line == 7)
    }

    /// kubectl's default --validate=strict: a typo in a stable schema is refused where it is written.
    @Test(arguments: [
        (
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-all, namespce: other}\nspec: {podSelector: {}}\n",
            "namespce", 3
        ),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nlables: {app: web}\nspec: {containers: [{name: c, image: i}]}\n", "lables", 4),
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replica: 3\n  selector: {matchLabels: {app: d}}\n"
                + "  template: {metadata: {labels: {app: d}}, spec: {containers: [{name: c, image: i}]}}\n", "replica", 5
        ),
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {app: d}}\n"
                + "  template: {metadata: {lables: {app: d}}, spec: {containers: [{name: c, image: i}]}}\n", "lables", 6
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i, ports: [{containerPrt: 80}]}]}\n",
            "containerPrt", 4
        ),
    ])
    func unknownFieldsOfStableSchemasAreRefused(_ text: String, _ field: String, _ line: Int) throws {
        let error = try manifestRefusal(text)
        #expect(error.message.contains("unknown field \"\(field)\""), "\(error)")
        #expect(error.location.line == line, "\(error)")
    }

    /// PodSpec and Container grow each release: an unknown field there is a warning, the manifest loads.
    @Test func unknownFieldsOfGrowingSchemasWarn() throws {
        let t = try loadManifests([
            "a.yaml":
                "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  futureField: 1\n  containers: [{name: c, image: i, portz: [{containerPort: 80}]}]\n"
        ])
        let unknown = t.warnings.filter { $0.message.contains("unknown field") }.map(\.message)
        #expect(
            unknown.count == 2 && unknown.contains { $0.contains("\"futureField\" in Pod spec") }
                && unknown.contains { $0.contains("\"portz\"") })
    }

    @Test func aGenerateNameIsValidatedEvenBesideAName() throws {
        #expect(
            try manifestRefusal("apiVersion: v1\nkind: Namespace\nmetadata: {name: ok, generateName: Bad_}\n").message.contains(
                "generateName \"Bad_\""))
    }
}
