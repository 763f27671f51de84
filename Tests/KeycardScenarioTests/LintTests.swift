import Foundation
import KeycardModel
import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardScenario

/// `keycard lint`'s checks (PolicyLinter): each rule fires on a case written to break it and stays
/// silent on the corrected case; the blueprint's two mistakes are found where they were written.
@Suite struct LintTests {
    /// Writes `text` to a fresh file (the locator reads findings' files back) and lints it.
    static func lint(_ text: String) throws -> (findings: [LintFinding], text: String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-lint-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return (PolicyLinter.lint(try ScenarioLoader.timeline(path)), text)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var rule: String
        var bad: String
        var good: String
        /// Where the finding must point in the bad case: a line holding this text, at its first
        /// non-blank column (a YAML node's start).
        var at: String
        /// The column is that of this token in the line, when given (a flow node starts at its bracket).
        var column: String? = nil
        /// Lines below `at` (an object's first line precedes its metadata).
        var lineOffset = 0
        var testDescription: String { rule }
    }

    static let denyAll = ScenarioText.policy("podSelector: {}\npolicyTypes: [Ingress, Egress]", name: "deny-all")
    static let dnsEgress = ScenarioText.policy(
        "podSelector: {}\npolicyTypes: [Egress]\negress:\n  - ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]",
        name: "dns")

    static let cases: [Case] = [
        Case(rule: "unselected-pod", bad: "", good: denyAll, at: "metadata: {name: web, namespace: prod", lineOffset: -2),
        Case(rule: "missing-default-deny-ingress", bad: "", good: denyAll, at: "{apiVersion: v1, kind: Namespace", column: "{"),
        Case(
            rule: "missing-default-deny-egress",
            bad: ScenarioText.policy("podSelector: {}\npolicyTypes: [Ingress]", name: "deny-in"), good: denyAll,
            at: "{apiVersion: v1, kind: Namespace", column: "{"),
        Case(
            rule: "egress-blocks-dns", bad: denyAll, good: denyAll + "\n" + dnsEgress,
            at: "policyTypes: [Ingress, Egress]", column: "["),
        Case(
            rule: "one-sided-allow",
            bad: denyAll + "\n"
                + ScenarioText.policy(
                    "podSelector: {matchLabels: {app: api}}\ningress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n    ports: [{port: 8080}]",
                    name: "api-in"),
            good: denyAll + "\n"
                + ScenarioText.policy(
                    "podSelector: {matchLabels: {app: api}}\ningress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n    ports: [{port: 8080}]",
                    name: "api-in") + "\n"
                + ScenarioText.policy(
                    "podSelector: {matchLabels: {app: web}}\npolicyTypes: [Egress]\negress:\n  - to: [{podSelector: {matchLabels: {app: api}}}]\n    ports: [{port: 8080}]",
                    name: "web-out"),
            at: "- from: [{podSelector: {matchLabels: {app: web}}}]"),
        Case(
            rule: "service-selects-nothing",
            bad:
                "- {apiVersion: v1, kind: Service, metadata: {name: web, namespace: prod}, spec: {selector: {app: ghost}, ports: [{port: 80}]}}",
            good:
                "- {apiVersion: v1, kind: Service, metadata: {name: web, namespace: prod}, spec: {selector: {app: web}, ports: [{port: 80}]}}",
            at: "selector: {app: ghost}", column: "{app: ghost}"),
        Case(
            rule: "policy-selects-nothing", bad: ScenarioText.policy("podSelector: {matchLabels: {app: gone}}"),
            good: ScenarioText.policy("podSelector: {matchLabels: {app: api}}"), at: "podSelector: {matchLabels: {app: gone}}", column: "{"),
        Case(
            rule: "peer-selects-nothing",
            bad: ScenarioText.policy("podSelector: {}\ningress:\n  - from: [{podSelector: {matchLabels: {app: ghost}}}]"),
            good: ScenarioText.policy("podSelector: {}\ningress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]"),
            at: "- from: [{podSelector: {matchLabels: {app: ghost}}}]", column: "{"),
        Case(
            rule: "shadowed-rule",
            bad: ScenarioText.policy(
                "podSelector: {}\ningress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n    ports: [{port: 8080}]\n  - from: [{podSelector: {}}]"
            ),
            good: ScenarioText.policy(
                "podSelector: {}\ningress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n    ports: [{port: 8080}]\n  - from: [{podSelector: {matchLabels: {app: api}}}]"
            ),
            at: "- from: [{podSelector: {matchLabels: {app: web}}}]"),
        Case(
            rule: "service-port-not-target-port",
            bad: service + "\n" + ScenarioText.policy("podSelector: {matchLabels: {app: api}}\ningress:\n  - ports: [{port: 80}]"),
            good: service + "\n" + ScenarioText.policy("podSelector: {matchLabels: {app: api}}\ningress:\n  - ports: [{port: 8080}]"),
            at: "- ports: [{port: 80}]", column: "{"),
        Case(
            rule: "rules-outside-policy-types",
            bad: ScenarioText.policy("podSelector: {}\npolicyTypes: [Ingress]\negress:\n  - ports: [{port: 80}]"),
            good: ScenarioText.policy("podSelector: {}\npolicyTypes: [Ingress, Egress]\negress:\n  - ports: [{port: 80}]"),
            at: "- ports: [{port: 80}]", column: "-"),
        Case(
            rule: "ipblock-overlaps-pod-cidr",
            bad: ScenarioText.policy("podSelector: {}\ningress:\n  - from: [{ipBlock: {cidr: 10.0.0.0/8}}]"),
            good: ScenarioText.policy("podSelector: {}\ningress:\n  - from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.244.0.0/16]}}]"),
            at: "{ipBlock: {cidr: 10.0.0.0/8}}", column: "{cidr"),
    ]

    /// prod/api's Service: port 80 sends to the pods' 8080.
    static let service = """
        - apiVersion: v1
          kind: Service
          metadata: {name: api, namespace: prod}
          spec: {selector: {app: api}, ports: [{port: 80, targetPort: 8080}]}
        """

    @Test(arguments: cases) func ruleFiresOnTheBadCaseOnly(_ check: Case) throws {
        let bad = try Self.lint(ScenarioText.scenario(resources: check.bad))
        let found = bad.findings.filter { $0.rule == check.rule }
        try #require(!found.isEmpty, "\(check.rule) did not fire: \(bad.findings.map(\.message))")
        let lines = bad.text.split(separator: "\n", omittingEmptySubsequences: false)
        let line = try #require(lines.firstIndex { $0.contains(check.at) }) + 1 + check.lineOffset
        let text = lines[line - 1]
        let column =
            try check.column.map { token in text.distance(from: text.startIndex, to: try #require(text.range(of: token)).lowerBound) + 1 }
            ?? text.prefix { $0 == " " || $0 == "-" }.count + 1
        #expect(found.contains { $0.line == line && $0.column == column }, "\(found.map(\.location)) should hold \(line):\(column)")
        #expect(found.allSatisfy { $0.severity == LintRule.named(check.rule).severity })

        let good = try Self.lint(ScenarioText.scenario(resources: check.good))
        #expect(!good.findings.contains { $0.rule == check.rule }, "\(good.findings.filter { $0.rule == check.rule }.map(\.message))")
    }

    /// The seed's blueprint: its allow rule alone (step 2) is one-sided, since default-deny-all
    /// also isolates the frontend for egress; default-deny-all breaks DNS for every pod (step 1).
    /// A deny-all selects a host-network pod, and still does not isolate it: the finding says why.
    @Test func aHostNetworkPodIsReportedForWhatItIs() throws {
        let host = """
            - apiVersion: v1
              kind: Pod
              metadata: {name: exporter, namespace: prod}
              spec: {hostNetwork: true, containers: [{name: e, image: e, ports: [{containerPort: 9100}]}]}
            """
        let (findings, _) = try Self.lint(ScenarioText.scenario(resources: host + "\n" + Self.denyAll))
        let unselected = findings.filter { $0.rule == "unselected-pod" }.map(\.message)
        #expect(
            unselected == [
                "Pod prod/exporter uses the host network, which NetworkPolicy does not isolate whatever selects it: every pod may reach it and it may reach everything"
            ], "\(unselected)")
    }

    /// A ClusterNetworkPolicy that has the pod as a subject judges its traffic: the finding names
    /// it instead of claiming that every pod may reach the pod.
    @Test func anUnselectedPodAClusterNetworkPolicyJudgesSaysSo() throws {
        let cnp = """
            - apiVersion: policy.networking.k8s.io/v1alpha2
              kind: ClusterNetworkPolicy
              metadata: {name: guard}
              spec: {tier: Admin, priority: 1, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{namespaces: {}}]}]}
            """
        let (findings, _) = try Self.lint(ScenarioText.scenario(resources: cnp))
        let unselected = findings.filter { $0.rule == "unselected-pod" }.map(\.message)
        #expect(
            unselected.contains(
                "Pod prod/web is selected by no NetworkPolicy: only ClusterNetworkPolicies (guard) limit what reaches it and what it reaches"
            ),
            "\(unselected)")
        // An Accept-only policy limits nothing: the finding says so as before.
        let accepting = cnp.replacingOccurrences(of: "action: Deny", with: "action: Accept")
        let (open, _) = try Self.lint(ScenarioText.scenario(resources: accepting))
        #expect(
            open.filter { $0.rule == "unselected-pod" }.map(\.message).contains(
                "Pod prod/web is selected by no NetworkPolicy: every pod may reach it and it may reach everything"))
    }

    /// A rule without peers (or with an ipBlock) also opens the pod to hosts outside the pods, a
    /// public frontend's clients through its node port among them: it is no forgotten egress, even
    /// when every pod's egress denies it (review of real applications, §3).
    @Test(arguments: ["  - ports: [{port: 8080}]", "  - from: [{ipBlock: {cidr: 0.0.0.0/0}}]\n    ports: [{port: 8080}]"])
    func aRuleOpenToEveryoneIsNotOneSided(_ rule: String) throws {
        let open = ScenarioText.policy("podSelector: {matchLabels: {app: api}}\ningress:\n" + rule, name: "api-public")
        let (findings, _) = try Self.lint(ScenarioText.scenario(resources: Self.denyAll + "\n" + open))
        #expect(!findings.contains { $0.rule == "one-sided-allow" }, "\(findings.map(\.message))")
    }

    /// A connection an Admin-tier ClusterNetworkPolicy denies is no one-sided allow: no
    /// NetworkPolicy rule could open it (it had been reported with a blank "isolated by").
    @Test func aClusterPolicyDenyIsNoOneSidedAllow() throws {
        let admin = """
            - apiVersion: policy.networking.k8s.io/v1alpha2
              kind: ClusterNetworkPolicy
              metadata: {name: admin-deny}
              spec: {tier: Admin, priority: 1, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}]}]}
            """
        let out = ScenarioText.policy(
            "podSelector: {matchLabels: {app: web}}\npolicyTypes: [Egress]\negress:\n  - to: [{podSelector: {matchLabels: {app: api}}}]",
            name: "web-out")
        let (findings, _) = try Self.lint(ScenarioText.scenario(resources: admin + "\n" + out))
        #expect(!findings.contains { $0.rule == "one-sided-allow" }, "\(findings.map(\.message))")
    }

    /// A ClusterNetworkPolicy Deny of the cluster DNS blocks lookups as surely as an egress
    /// default deny: `egress-blocks-dns` names its rule (an Admin Deny wins over any NetworkPolicy;
    /// a Baseline Deny only where no NetworkPolicy isolates the pod for egress).
    @Test(arguments: ["Admin", "Baseline"])
    func aClusterPolicyDenyOfDNSIsReportedAtItsRule(_ tier: String) throws {
        let cnp = """
            - apiVersion: policy.networking.k8s.io/v1alpha2
              kind: ClusterNetworkPolicy
              metadata: {name: no-kube-system}
              spec:
                tier: \(tier)
                priority: 1
                subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: prod}}}
                egress:
                  - {name: deny-dns, action: Deny, to: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}]}
            """
        let head = ScenarioText.head.replacingOccurrences(of: "spec:\n  resources:", with: "spec:\n  lab: {dns: true}\n  resources:")
        let (findings, text) = try Self.lint(ScenarioText.scenario(resources: cnp, head: head))
        let dns = findings.filter { $0.rule == "egress-blocks-dns" }
        #expect(dns.map(\.object) == ["ClusterNetworkPolicy no-kube-system", "ClusterNetworkPolicy no-kube-system"], "\(dns)")
        #expect(
            dns.first?.message.contains("prod/api cannot reach the cluster DNS (kube-system/kube-dns-0) on UDP/53: \(tier) policy") == true)
        let ruleLine = try #require(
            text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("name: deny-dns") })
        #expect(dns.allSatisfy { $0.line == ruleLine + 1 })
        // An egress NetworkPolicy that allows DNS decides before the Baseline tier, not the Admin one.
        let (allowed, _) = try Self.lint(ScenarioText.scenario(resources: cnp + "\n" + Self.dnsEgress, head: head))
        #expect(allowed.filter { $0.rule == "egress-blocks-dns" }.count == (tier == "Admin" ? 2 : 0))
    }

    /// A cluster policy whose subject, or one of whose `namespaces`/`pods` peers, selects no pod
    /// acts on nothing: reported where it is written, as for a NetworkPolicy.
    @Test func aClusterPolicySelectingNothingIsReported() throws {
        func cnp(subject: String, peer: String) -> String {
            """
            - apiVersion: policy.networking.k8s.io/v1alpha2
              kind: ClusterNetworkPolicy
              metadata: {name: guard}
              spec:
                tier: Admin
                priority: 1
                subject: \(subject)
                ingress:
                  - action: Deny
                    from: [\(peer), {namespaces: {matchLabels: {kubernetes.io/metadata.name: prod}}}]
            """
        }
        let bad = cnp(
            subject: "{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: gone}}}}",
            peer: "{namespaces: {matchLabels: {team: nobody}}}")
        let (findings, text) = try Self.lint(ScenarioText.scenario(resources: bad))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let subject = findings.filter { $0.rule == "policy-selects-nothing" }
        #expect(subject.map(\.message) == ["guard's subject selects no pod: the policy judges no connection"])
        #expect(subject.first?.line == (lines.firstIndex { $0.contains("subject: {pods") } ?? -2) + 1)
        let peers = findings.filter { $0.rule == "peer-selects-nothing" }
        #expect(peers.map(\.message) == ["ingress[0].from[0] of guard (Deny) selects no pod"])
        #expect(peers.first?.line == (lines.firstIndex { $0.contains("from: [{namespaces") } ?? -2) + 1)
        let good = cnp(subject: "{namespaces: {}}", peer: "{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}")
        let (clean, _) = try Self.lint(ScenarioText.scenario(resources: good))
        #expect(!clean.contains { $0.rule == "policy-selects-nothing" || $0.rule == "peer-selects-nothing" }, "\(clean.map(\.message))")
    }

    @Test func blueprintForgottenEgressAndDNS() throws {
        let path = RepositoryFiles.absolute("scenarios/zero-trust-blueprint.yaml")
        let findings = PolicyLinter.lint(try ScenarioLoader.timeline(path))
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let allowLine = try #require(lines.firstIndex { $0.contains("name: api-allow-frontend") })
        let fromLine = try #require(lines[allowLine...].firstIndex { $0.contains("- from:") }) + 1

        let oneSided = findings.filter { $0.rule == "one-sided-allow" }
        #expect(oneSided.count == 1)
        #expect(oneSided.first?.line == fromLine)
        #expect(oneSided.first?.message.contains("production/frontend-web -> production/backend-api TCP/8080") == true)
        #expect(oneSided.first?.object == "NetworkPolicy production/api-allow-frontend")

        let dns = findings.filter { $0.rule == "egress-blocks-dns" }
        #expect(
            Set(dns.compactMap { $0.message.split(separator: " ").first.map(String.init) })
                == ["production/frontend-web", "production/backend-api", "production/database"])
        #expect(dns.allSatisfy { $0.object == "NetworkPolicy production/default-deny-all" && $0.severity == .error })
        #expect(dns.allSatisfy { $0.state.hasPrefix("after step 3") })
    }

    /// The blueprint's end state (its four policies applied together) has no error left.
    @Test func fixedBlueprintHasNoError() throws {
        let path = RepositoryFiles.absolute("scenarios/zero-trust-blueprint.yaml")
        let timeline = try ScenarioLoader.timeline(path)
        let last = try #require(timeline.states.last)
        var pass = LintPass(
            cluster: last, podCIDR: timeline.scenario.lab.podCIDR, state: "end", locations: [:],
            fallback: SourceLocation.start(of: path), locator: SourceLocator())
        pass.runAll()
        #expect(pass.findings.filter { $0.severity == .error }.map(\.message) == [])
    }
}

extension LintTests {
    /// The same DNS egress rule in three policies (the EKS walkthrough's 07, 08, 09): each is
    /// covered by the others, but removing all three would lose DNS. The first stays; the two
    /// later ones are shadowed by it (review of real applications: all three had been reported).
    @Test func rulesThatCoverEachOtherKeepOne() throws {
        let dns = "podSelector: {}\npolicyTypes: [Egress]\negress:\n  - ports: [{port: 53, protocol: UDP}]"
        let text = ScenarioText.scenario(
            resources: ["a-dns", "b-dns", "c-dns"].map { ScenarioText.policy(dns, name: $0) }.joined(separator: "\n"))
        let shadowed = try Self.lint(text).findings.filter { $0.rule == "shadowed-rule" }
        #expect(shadowed.map(\.object) == ["NetworkPolicy prod/b-dns", "NetworkPolicy prod/c-dns"], "\(shadowed.map(\.message))")
        #expect(shadowed.allSatisfy { $0.message.hasSuffix("egress[0] of prod/a-dns do not already allow") }, "\(shadowed.map(\.message))")
    }
}

extension LintTests {
    /// Two Admin policies at priority 5 selecting prod/web: the API leaves their order to the
    /// implementation (review of NetworkPolicy and tiers, finding 5). A third at another priority,
    /// or a tie that shares no pod, is no finding.
    @Test func clusterPoliciesTiedOnPriority() throws {
        func cnp(_ name: String, _ priority: Int, _ app: String) -> String {
            """
            - apiVersion: policy.networking.k8s.io/v1alpha2
              kind: ClusterNetworkPolicy
              metadata: {name: \(name)}
              spec: {tier: Admin, priority: \(priority), subject: {pods: {podSelector: {matchLabels: {app: \(app)}}}}, ingress: [{action: Deny, from: [{namespaces: {}}]}]}
            """
        }
        let text = ScenarioText.scenario(
            resources: [cnp("z-accept", 5, "web"), cnp("a-deny", 5, "web"), cnp("other", 6, "web"), cnp("api-only", 5, "api")]
                .joined(separator: "\n"))
        let ties = try Self.lint(text).findings.filter { $0.rule == "cluster-policy-priority-tie" }
        #expect(ties.map(\.object) == ["ClusterNetworkPolicy z-accept"], "\(ties.map(\.message))")
        #expect(ties.first?.message.contains("keycard applies a-deny first (by name)") == true)

        // A v1alpha2 policy comes before a converted AdminNetworkPolicy whatever their names.
        let anp = """
            - apiVersion: policy.networking.k8s.io/v1alpha1
              kind: AdminNetworkPolicy
              metadata: {name: aaa}
              spec: {priority: 5, subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}, ingress: [{name: d, action: Deny, from: [{namespaces: {}}]}]}
            """
        let mixed = try Self.lint(ScenarioText.scenario(resources: cnp("zzz", 5, "web") + "\n" + anp)).findings
            .filter { $0.rule == "cluster-policy-priority-tie" }
        #expect(mixed.count == 1, "\(mixed.map(\.message))")
        #expect(
            mixed.first?.message.contains("keycard applies zzz first (ClusterNetworkPolicies before converted v1alpha1 policies)") == true,
            "\(mixed.map(\.message))")
    }
}

/// The mesh checks on the mesh conformance scenarios written for those very rules (R39, R48).
@Suite struct MeshLintTests {
    static func findings(_ name: String) throws -> [LintFinding] {
        PolicyLinter.lint(try ScenarioLoader.timeline(RepositoryFiles.absolute("scenarios/conformance/mesh/\(name).yaml")))
    }

    /// 13 has the same HTTP-only DENY for a sidecar (R40: matches more) and for ztunnel (R50: no effect).
    @Test(arguments: [
        ("12-mesh-http-allow-on-tcp", "AuthorizationPolicy ", "never matches"),
        ("13-mesh-http-deny-on-tcp", "AuthorizationPolicy prod/", "matches more than written"),
        ("13-mesh-http-deny-on-tcp", "AuthorizationPolicy amb/", "the DENY has no effect"),
        ("15-mesh-ambient-l7-allow", "AuthorizationPolicy ", "ztunnel sees TCP only"),
    ])
    func httpFieldsOnTCP(_ name: String, _ object: String, _ effect: String) throws {
        let found = try Self.findings(name).filter { $0.rule == "mesh-http-fields-on-tcp" && $0.object?.hasPrefix(object) == true }
        #expect(!found.isEmpty)
        #expect(found.allSatisfy { $0.message.contains(effect) })
    }

    /// An ambient DENY whose only condition is HTTP leaves ztunnel an empty clause: the model gives
    /// it no effect (R50), and lint says so instead of "matches more than written".
    @Test func ambientHTTPOnlyDenyHasNoEffect() throws {
        let text = MeshText.text(
            [MeshText.ap("amb", "no-post", "{action: DENY, rules: [{to: [{operation: {methods: [POST]}}]}]}")],
            probe: "{from: [legacy/client], to: [amb/db], ports: [TCP/5432]}")
        let timeline = try ScenarioLoader.parseTimeline(text, file: "m.yaml")
        let found = PolicyLinter.lint(timeline).filter { $0.rule == "mesh-http-fields-on-tcp" }
        // The loader's own warning (Istio's, 2.3) is said once, as `keycard model` prints it.
        #expect(timeline.warnings.filter { $0.message.contains("due to the use of only HTTP attributes in a DENY rule") }.count == 1)
        #expect(found.count == 1)
        #expect(found.first?.message.contains("the DENY has no effect") == true)
        #expect(found.first?.message.contains("matches more than written") == false)
    }

    /// An ambient DENY with methods and ports keeps the ports (R50): lint says it does not match as written.
    @Test func ambientMixedDenyKeepsItsL4Fields() throws {
        let found = try Self.findings("16-mesh-ambient-mixed-deny").filter { $0.rule == "mesh-http-fields-on-tcp" }
        #expect(!found.isEmpty)
        #expect(found.allSatisfy { $0.message.contains("ztunnel keeps only the L4 fields") })
    }

    /// 14 means its methods for the HTTP port 9090, but the rule names no port: on the pod's TCP
    /// port 8080 it cannot match, and only that port is named.
    @Test func onlyTheTCPPortsAreNamed() throws {
        let found = try Self.findings("14-mesh-http-methods").filter { $0.rule == "mesh-http-fields-on-tcp" }
        #expect(found.count == 1)
        #expect(found.first?.message.contains("prod/api port 8080 is TCP") == true)
        #expect(found.first?.message.contains("9090") == false)
    }

    /// istio/api `Operation.not_ports`: a port a rule's only `to` entry excludes is one it never
    /// matches on, so neither mesh check names it (prod/api serves TCP 8080 and HTTP 9090).
    @Test func notPortsAreSubtracted() throws {
        func found(_ rule: String, _ spec: String) throws -> [LintFinding] {
            let text = MeshText.text([MeshText.ap("prod", "a", spec)], probe: "{from: [prod/web], to: [prod/api], ports: [TCP/9090]}")
            return PolicyLinter.lint(try ScenarioLoader.parseTimeline(text, file: "m.yaml")).filter { $0.rule == rule }
        }
        #expect(try found("mesh-http-fields-on-tcp", "{rules: [{to: [{operation: {notPorts: [\"8080\"], methods: [GET]}}]}]}").isEmpty)
        // The same rule without notPorts is reported on 8080, as before.
        let tcp = try found("mesh-http-fields-on-tcp", "{rules: [{to: [{operation: {methods: [GET]}}]}]}")
        #expect(tcp.count == 1 && tcp.first?.message.contains("prod/api port 8080 is TCP") == true, "\(tcp.map(\.message))")
        // An entry without ports admits every served port; another entry's ports do not narrow it.
        let mixed = try found(
            "mesh-http-fields-on-tcp",
            "{rules: [{to: [{operation: {ports: [\"9090\"]}}, {operation: {notPorts: [\"9090\"], methods: [GET]}}]}]}")
        #expect(mixed.first?.message.contains("port 8080 is TCP") == true, "\(mixed.map(\.message))")
        // PERMISSIVE (no PeerAuthentication) on both ports: a rule excluding both concerns none.
        let principals = "{source: {principals: [cluster.local/ns/prod/sa/web]}}"
        #expect(
            try found(
                "mesh-principals-on-permissive", "{rules: [{from: [\(principals)], to: [{operation: {notPorts: [\"8080\", \"9090\"]}}]}]}"
            )
            .isEmpty)
        let one = try found(
            "mesh-principals-on-permissive", "{rules: [{from: [\(principals)], to: [{operation: {notPorts: [\"8080\"]}}]}]}")
        #expect(one.count == 1 && one.first?.message.contains("on port 9090 (PERMISSIVE)") == true, "\(one.map(\.message))")
    }

    @Test func principalsOnPermissive() throws {
        let found = try Self.findings("07-mesh-allow-principal").filter { $0.rule == "mesh-principals-on-permissive" }
        #expect(found.count == 1)
        #expect(found.first?.message.contains("(PERMISSIVE)") == true)
        #expect(
            try Self.findings("21-mesh-disable").contains { $0.rule == "mesh-principals-on-permissive" && $0.message.contains("DISABLE") })
    }
}

/// `egress-blocks-dns` where TCP/53 matters: a resolver with `use-vc` asks only over TCP, and a
/// name whose answer does not fit 512 bytes over UDP (30 endpoints of a headless Service) is
/// asked again over TCP after its truncated UDP answer; an egress rule allowing only UDP/53 then
/// breaks those lookups (it had been silent).
@Suite struct LintDNSOverTCPTests {
    @Test func udpOnlyEgressWithALargeAnswerIsReported() throws {
        let udpOnly = DNSTruncationScenario.text(lab: "lint-tc", ports: "{protocol: UDP, port: 53}")
        let findings = try LintTests.lint(udpOnly).findings.filter { $0.rule == "egress-blocks-dns" }
        // a/client: 521 bytes over 512; a/edns offers 1200, so its answer fits.
        #expect(findings.map { String($0.message.prefix { $0 != " " }) } == ["a/client"])
        #expect(findings.first?.message.contains("on TCP/53") == true)
        #expect(findings.first?.message.contains("big.a.svc.cluster.local (521 bytes)") == true)
        #expect(findings.first?.severity == .error)

        let both = DNSTruncationScenario.text(lab: "lint-tc", ports: "{protocol: UDP, port: 53}, {protocol: TCP, port: 53}")
        #expect(try LintTests.lint(both).findings.filter { $0.rule == "egress-blocks-dns" }.isEmpty)
    }

    @Test func useVCWithUDPOnlyEgressIsReported() throws {
        let text = DNSTruncationScenario.text(lab: "lint-vc", ports: "{protocol: UDP, port: 53}")
            .replacingOccurrences(of: "replicas: 30", with: "replicas: 1")
            .replacingOccurrences(of: "{name: edns0}", with: "{name: use-vc}")
        let findings = try LintTests.lint(text).findings.filter { $0.rule == "egress-blocks-dns" }
        #expect(findings.map { String($0.message.prefix { $0 != " " }) } == ["a/edns"])
        #expect(findings.first?.message.contains("on TCP/53: its name lookups fail") == true)
    }
}

/// `egress-blocks-dns` judges each pod against the nameservers its resolv.conf lists, by its
/// dnsPolicy (Pod's DNS Policy: Default asks the node's resolver, None only
/// `dnsConfig.nameservers`), not against cluster DNS for every pod: a None or Default pod allowed
/// its own nameserver is no finding (it had been an error), and a Default pod allowed only cluster
/// DNS is one (it had been none).
@Suite struct LintDNSPolicyTests {
    /// Lab DNS on, namespace a, pod a/p with `spec`, and an egress policy on every pod of a to `to`
    /// on UDP and TCP 53; linted with the node file `nameserver 192.0.2.10`.
    static func findings(spec: String, to: String) throws -> [LintFinding] {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: lintns}
            spec:
              lab: {dns: true}
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: a}}
                - {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: a}, spec: {\(spec), containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}}
                - apiVersion: networking.k8s.io/v1
                  kind: NetworkPolicy
                  metadata: {name: egress, namespace: a}
                  spec:
                    podSelector: {}
                    policyTypes: [Egress]
                    egress: [{to: [\(to)], ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]}]
              steps:
                - probe: {}
            """
        var timeline = try ScenarioLoader.parseTimeline(text, file: "lint-dns-policy.yaml")
        timeline.nodeResolvConf = ResolvConf(kubeletParsing: "nameserver 192.0.2.10\n")
        return PolicyLinter.lint(timeline).filter { $0.rule == "egress-blocks-dns" }
    }

    static let clusterDNS =
        "{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}"

    @Test func podsAreJudgedAgainstTheirOwnNameservers() throws {
        let none = "dnsPolicy: None, dnsConfig: {nameservers: [192.0.2.53]}"
        #expect(try Self.findings(spec: none, to: "{ipBlock: {cidr: 192.0.2.53/32}}").isEmpty)
        #expect(try Self.findings(spec: "dnsPolicy: Default", to: "{ipBlock: {cidr: 192.0.2.10/32}}").isEmpty)
        let blocked = try Self.findings(spec: "dnsPolicy: Default", to: Self.clusterDNS)
        #expect(blocked.count == 1)
        #expect(blocked.first?.message.contains("the nameservers of its resolv.conf (192.0.2.10, dnsPolicy Default)") == true)
        #expect(try Self.findings(spec: none, to: Self.clusterDNS).count == 1)
        // ClusterFirst is judged against cluster DNS, as before.
        #expect(try Self.findings(spec: "dnsPolicy: ClusterFirst", to: Self.clusterDNS).isEmpty)
        #expect(try Self.findings(spec: "dnsPolicy: ClusterFirst", to: "{ipBlock: {cidr: 192.0.2.10/32}}").count == 1)
        // A ClusterFirst pod's own extra nameserver does not stand in for cluster DNS, which it
        // asks first: cluster names fail when cluster DNS is denied.
        let extra = "dnsPolicy: ClusterFirst, dnsConfig: {nameservers: [192.0.2.53]}"
        #expect(try Self.findings(spec: extra, to: "{ipBlock: {cidr: 192.0.2.53/32}}").count == 1)
        #expect(try Self.findings(spec: extra, to: Self.clusterDNS).isEmpty)
    }
}
