import Foundation
import KeycardModel
import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardScenario

/// ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2): decoding and the CRD's validation,
/// v1alpha1 conversion, and the conformance scenarios of scenarios/conformance/cnp (tables written
/// from the network-policy-api documentation) against the model.
@Suite("ClusterNetworkPolicy")
struct ClusterNetworkPolicyTests {
    typealias T = ScenarioText

    static func cnp(
        _ spec: String, name: String = "guard", apiVersion: String = "policy.networking.k8s.io/v1alpha2",
        kind: String = "ClusterNetworkPolicy"
    ) -> String {
        """
        - apiVersion: \(apiVersion)
          kind: \(kind)
          metadata: {name: \(name)}
          spec: \(spec)
        """
    }

    static let valid = "{tier: Admin, priority: 10, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{namespaces: {}}]}]}"

    @Test func decodesEveryField() throws {
        let spec = """
            {tier: Baseline, priority: 1000, subject: {pods: {namespaceSelector: {matchLabels: {a: b}}, podSelector: {}}},
             ingress: [{name: first, action: Pass, from: [{pods: {podSelector: {matchLabels: {app: web}}}}], protocols: [{tcp: {destinationPort: {number: 80}}}, {udp: {destinationPort: {range: {start: 10, end: 20}}}}, {destinationNamedPort: http}]}],
             egress: [{action: Accept, to: [{networks: [10.0.0.0/8, "fd00::/8"]}, {domainNames: ["*.example.com", kubernetes.io]}], protocols: [{sctp: {destinationPort: {number: 9}}}]}]}
            """
        let t = try timeline(T.scenario(resources: Self.cnp(spec)))
        let policy = try #require(t.initial.clusterPolicies[ClusterPolicyKey(name: "guard")])
        #expect(policy.tier == .baseline && policy.priority == 1000)
        #expect(policy.subject == .pods(namespaces: LabelSelector(matchLabels: ["a": "b"]), pods: .everything))
        #expect(policy.ingress.first?.name == "first")
        #expect(policy.ingress.first?.action == .pass)
        #expect(policy.ingress.first?.peers == [.pods(namespaces: .everything, pods: LabelSelector(matchLabels: ["app": "web"]))])
        #expect(policy.ingress.first?.protocols == [.port(.tcp, 80...80), .port(.udp, 10...20), .namedPort("http")])
        #expect(policy.egress.first?.peers.count == 2)
        #expect(policy.egress.first?.protocols == [.port(.sctp, 9...9)])
        // IPv6 networks are valid, and said to match nothing in the IPv4 lab.
        #expect(t.warnings.contains { $0.message.contains("fd00::/8 is IPv6") })
    }

    /// The CRD's schema and CEL rules, each refused at its place (`file:line:col`).
    @Test(
        arguments: [
            ("{priority: 1, subject: {namespaces: {}}}", "ClusterNetworkPolicy spec needs the field \"tier\""),
            ("{tier: Middle, priority: 1, subject: {namespaces: {}}}", "spec.tier must be Admin or Baseline, found Middle"),
            ("{tier: Admin, priority: 1001, subject: {namespaces: {}}}", "spec.priority must be an integer from 0 to 1000, found 1001"),
            ("{tier: Admin, priority: 1, subject: {}}", "spec.subject must have exactly one of namespaces, pods"),
            (
                "{tier: Admin, priority: 1, subject: {namespaces: {}, pods: {podSelector: {}}}}",
                "spec.subject must have exactly one of namespaces, pods (found namespaces and pods)"
            ),
            ("{tier: Admin, priority: 1, subject: {pods: {namespaceSelector: {}}}}", "spec.subject.pods needs the field \"podSelector\""),
            (
                "{tier: Admin, priority: 1, subject: {namespaces: {}}, ingress: [{action: Allow, from: [{namespaces: {}}]}]}",
                "action must be one of Accept, Deny, Pass, found Allow"
            ),
            (
                "{tier: Admin, priority: 1, subject: {namespaces: {}}, ingress: [{action: Deny, from: []}]}",
                "from must list from 1 to 25 peers, found 0"
            ),
            (
                "{tier: Admin, priority: 1, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{networks: [10.0.0.0/8]}]}]}",
                "unknown field \"networks\" in a peer (expected one of: namespaces, pods)"
            ),
            (
                "{tier: Admin, priority: 1, subject: {namespaces: {}}, egress: [{action: Deny, to: [{}]}]}",
                "a peer must have exactly one of namespaces, pods, nodes, networks, domainNames"
            ),
            (
                "{tier: Admin, priority: 1, subject: {namespaces: {}}, egress: [{action: Deny, to: [{networks: [10.0.0.0/33]}]}]}",
                "Invalid CIDR format provided: \"10.0.0.0/33\""
            ),
            (
                "{tier: Admin, priority: 1, subject: {namespaces: {}}, egress: [{action: Deny, to: [{networks: [10.0.0.0/8, 10.0.0.0/8]}]}]}",
                "Duplicate value: \"10.0.0.0/8\" in networks"
            ),
            (
                "{tier: Admin, priority: 1, subject: {namespaces: {}}, egress: [{action: Accept, to: [{domainNames: [\"*\"]}]}]}",
                "domainNames[0] \"*\" must be a domain name, optionally starting with \"*.\" (like kubernetes.io or *.kubernetes.io)"
            ),
            (
                "{tier: Admin, priority: 1, subject: {namespaces: {}}, egress: [{action: Deny, to: [{networks: [10.0.0.0/8]}], protocols: [{destinationNamedPort: http}]}]}",
                "networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames"
            ),
            (
                "{tier: Admin, priority: 1, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{namespaces: {}}], protocols: []}]}",
                "protocols must list from 1 to 25 entries, found 0"
            ),
            (
                "{tier: Admin, priority: 1, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {}}]}]}",
                "tcp needs the field \"destinationPort\""
            ),
            (
                "{tier: Admin, priority: 1, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: 80}}, udp: {destinationPort: {number: 80}}}]}]}",
                "a protocols entry must have exactly one of tcp, udp, sctp, destinationNamedPort (found tcp and udp)"
            ),
            (
                "{tier: Admin, priority: 1, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {range: {start: 80, end: 80}}}}]}]}",
                "Start port must be less than End port (start 80, end 80)"
            ),
            (
                "{tier: Admin, priority: 1, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: 0}}}]}]}",
                "destinationPort.number must be an integer from 1 to 65535, found 0"
            ),
        ])
    func refusesWhatTheCRDRefuses(_ spec: String, _ message: String) throws {
        let error = try #require(parseError(T.scenario(resources: Self.cnp(spec))))
        #expect(error.message == message)
        #expect(error.location.line > 1)
    }

    /// docs/cluster-network-policy.md "Stricter than the CRDs": objects the CRDs store but no
    /// implementation can enforce as written (kube-network-policies matches nothing with them) are
    /// refused at the field, and a networks entry `isCIDR` refuses (IPv4-mapped IPv6) too.
    @Test(
        arguments: [
            (
                "policy.networking.k8s.io/v1alpha2", "ClusterNetworkPolicy",
                "{tier: Admin, priority: 1, subject: {namespaces: {matchExpressions: [{key: team, operator: in, values: [x]}]}}}",
                "operator \"in\" is not one of In, NotIn, Exists, DoesNotExist"
            ),
            (
                "policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy",
                "{priority: 1, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{namespaces: {}}], ports: [{portNumber: {port: 80, protocol: tcp}}]}]}",
                "protocol \"tcp\" is not one of TCP, UDP, SCTP"
            ),
            (
                "policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy",
                "{priority: 1, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{namespaces: {}}], ports: [{portRange: {start: 90, end: 80}}]}]}",
                "portRange end 80 must not be less than start 90 (the CRD stores such a range, but it matches no port)"
            ),
            (
                "policy.networking.k8s.io/v1alpha2", "ClusterNetworkPolicy",
                "{tier: Admin, priority: 1, subject: {namespaces: {}}, egress: [{action: Deny, to: [{networks: [\"::ffff:10.244.0.0/112\"]}]}]}",
                "Invalid CIDR format provided: \"::ffff:10.244.0.0/112\" (an IPv4-mapped IPv6 address is not allowed)"
            ),
        ])
    func refusesWhatNoImplementationEnforces(_ apiVersion: String, _ kind: String, _ spec: String, _ message: String) throws {
        let error = try #require(parseError(T.scenario(resources: Self.cnp(spec, apiVersion: apiVersion, kind: kind))))
        #expect(error.message == message)
        #expect(error.location.line > 1)
    }

    /// A custom resource's null `matchLabels` value is pruned with its key before validation
    /// (apiextensions `PruneNonNullableNullsWithoutDefaults`): `{tenant: null}` is `{}`, every
    /// namespace, where a NetworkPolicy's would be `tenant=""`. A null `values` entry is refused.
    @Test func aNullMatchLabelsValueIsPrunedWithItsKey() throws {
        let spec =
            "{tier: Admin, priority: 10, subject: {namespaces: {matchLabels: {tenant: null, team: a}}}, "
            + "ingress: [{action: Deny, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: null}}}}]}]}"
        let t = try timeline(T.scenario(resources: Self.cnp(spec)))
        let policy = try #require(t.initial.clusterPolicies[ClusterPolicyKey(name: "guard")])
        #expect(policy.subject == .namespaces(LabelSelector(matchLabels: ["team": "a"])))
        #expect(policy.ingress.first?.peers == [.pods(namespaces: .everything, pods: .everything)])
        let values =
            "{tier: Admin, priority: 10, subject: {namespaces: {matchExpressions: [{key: a, operator: In, values: [x, null]}]}}, "
            + "ingress: [{action: Deny, from: [{namespaces: {}}]}]}"
        #expect(
            parseError(T.scenario(resources: Self.cnp(values)))?.message.hasPrefix("each entry of values must be a string, found null")
                == true)
    }

    @Test func atMost25RulesAndRuleNamesOf100() throws {
        let rule = "{action: Deny, from: [{namespaces: {}}]}"
        let many =
            "{tier: Admin, priority: 1, subject: {namespaces: {}}, ingress: [\(Array(repeating: rule, count: 26).joined(separator: ", "))]}"
        #expect(
            try #require(parseError(T.scenario(resources: Self.cnp(many)))).message == "spec.ingress may have at most 25 rules, found 26")
        let long =
            "{tier: Admin, priority: 1, subject: {namespaces: {}}, ingress: [{name: \(String(repeating: "n", count: 101)), action: Deny, from: [{namespaces: {}}]}]}"
        #expect(
            try #require(parseError(T.scenario(resources: Self.cnp(long)))).message
                == "a rule name may be at most 100 characters, found 101")
        // maxLength counts code points: 51 decomposed "é" are 51 characters on screen and 102 runes.
        let combining =
            "{tier: Admin, priority: 1, subject: {namespaces: {}}, ingress: [{name: \(String(repeating: "e\u{301}", count: 51)), action: Deny, from: [{namespaces: {}}]}]}"
        #expect(
            try #require(parseError(T.scenario(resources: Self.cnp(combining)))).message
                == "a rule name may be at most 100 characters, found 102")
    }

    /// A pre-dnat lab judges a pod's egress before Service translation, cluster tiers included,
    /// so a Service would lead around an Admin Deny: refused, in the resources and in a later
    /// apply step alike (review of cluster tiers, findings 1 and 2).
    @Test func refusedInPreDNATLabs() throws {
        let head = T.head.replacingOccurrences(
            of: "spec:\n  resources:", with: "spec:\n  lab: {serviceEnforcement: pre-dnat}\n  resources:")
        #expect(head != T.head)
        for text in [
            T.scenario(resources: Self.cnp(Self.valid), head: head),
            T.scenario(steps: "- apply:\n" + T.indent(Self.cnp(Self.valid), 4), head: head),
        ] {
            let error = try #require(throws: ScenarioError.self) { try ScenarioLoader.parseTimeline(text, file: "pre.yaml") }
            #expect(
                error.message.contains("ClusterNetworkPolicy guard in a lab with spec.lab.serviceEnforcement: pre-dnat"), "\(error.message)"
            )
            #expect(
                error.location.line
                    == (text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("policy.networking.k8s.io") }
                        ?? 0) + 1)
        }
        // The same policy in a post-dnat lab loads.
        _ = try ScenarioLoader.parseTimeline(T.scenario(resources: Self.cnp(Self.valid)), file: "post.yaml")
    }

    @Test func clusterScopedAndDeletable() throws {
        let steps = """
            - delete:
                - {kind: ClusterNetworkPolicy, name: guard}
            """
        let t = try timeline(T.scenario(resources: Self.cnp(Self.valid), steps: steps))
        #expect(t.initial.clusterPolicies.count == 1)
        #expect(t.cluster(afterStep: 1).clusterPolicies.isEmpty)
        #expect(t.usesClusterPolicies)
    }

    @Test func v1alpha1IsConvertedWithAWarning() throws {
        let anp = Self.cnp(
            "{priority: 7, subject: {namespaces: {}}, ingress: [{action: Allow, from: [{namespaces: {}}], ports: [{portNumber: {port: 80}}, {portRange: {protocol: UDP, start: 1, end: 9}}, {namedPort: http}]}]}",
            name: "old", apiVersion: "policy.networking.k8s.io/v1alpha1", kind: "AdminNetworkPolicy")
        let banp = Self.cnp(
            "{subject: {namespaces: {}}, egress: [{action: Deny, to: [{networks: [10.0.0.0/8]}]}]}", name: "default",
            apiVersion: "policy.networking.k8s.io/v1alpha1", kind: "BaselineAdminNetworkPolicy")
        let t = try timeline(T.scenario(resources: anp + "\n" + banp))
        let admin = try #require(t.initial.clusterPolicies[ClusterPolicyKey(origin: .adminNetworkPolicy, name: "old")])
        #expect(admin.tier == .admin && admin.priority == 7)
        #expect(admin.ingress.first?.action == .accept)
        #expect(admin.ingress.first?.protocols == [.port(.tcp, 80...80), .port(.udp, 1...9), .namedPort("http")])
        let baseline = try #require(t.initial.clusterPolicies[ClusterPolicyKey(origin: .baselineAdminNetworkPolicy, name: "default")])
        #expect(baseline.tier == .baseline && baseline.priority == 1000)
        #expect(t.warnings.filter { $0.message.contains("is policy.networking.k8s.io/v1alpha1") }.count == 2)
        // A v1alpha2 Baseline policy at priority 1000 comes before the BANP (docs: "any v1alpha2
        // Baseline policy comes first"), whatever their kinds' names sort as.
        let accept = Self.cnp(
            "{tier: Baseline, priority: 1000, subject: {namespaces: {}}, egress: [{action: Accept, to: [{networks: [10.0.0.0/8]}]}]}",
            name: "zzz")
        let both = try timeline(T.scenario(resources: banp + "\n" + accept))
        let api = try #require(both.initial.pods[ObjectKey("prod", "api")])
        #expect(
            PolicyEngine(both.initial).tierRules(.baseline, .egress, for: api).map(\.policy.key.description) == [
                "zzz", "BaselineAdminNetworkPolicy/default",
            ])
        // BANP is a singleton named default; v1alpha1 knows no Accept, BANP no Pass.
        let named = Self.cnp(
            "{subject: {namespaces: {}}}", name: "other", apiVersion: "policy.networking.k8s.io/v1alpha1",
            kind: "BaselineAdminNetworkPolicy")
        #expect(try #require(parseError(T.scenario(resources: named))).message.hasPrefix("Only one baseline admin network policy"))
        let pass = Self.cnp(
            "{subject: {namespaces: {}}, ingress: [{action: Pass, from: [{namespaces: {}}]}]}", name: "default",
            apiVersion: "policy.networking.k8s.io/v1alpha1", kind: "BaselineAdminNetworkPolicy")
        #expect(try #require(parseError(T.scenario(resources: pass))).message == "action must be one of Allow, Deny, found Pass")
    }

    /// A v1alpha1 policy set behaves exactly as its v1alpha2 conversion, cell by cell.
    @Test func v1alpha1BehavesAsItsConversion() throws {
        let old = try timeline(
            T.scenario(
                resources: Self.cnp(
                    "{priority: 3, subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: api}}}}, ingress: [{action: Allow, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}], ports: [{portNumber: {port: 8080}}]}, {action: Deny, from: [{namespaces: {}}]}]}",
                    apiVersion: "policy.networking.k8s.io/v1alpha1", kind: "AdminNetworkPolicy")))
        let new = try timeline(
            T.scenario(
                resources: Self.cnp(
                    "{tier: Admin, priority: 3, subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: api}}}}, ingress: [{action: Accept, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}], protocols: [{tcp: {destinationPort: {number: 8080}}}]}, {action: Deny, from: [{namespaces: {}}]}]}"
                )))
        let pods = old.initial.sortedPods.map { Endpoint.pod($0.key) }
        var denied = 0
        for from in pods {
            for to in pods {
                for port in [ProtocolPort(.tcp, 8080), ProtocolPort(.tcp, 80), ProtocolPort(.udp, 8080)] {
                    let a = PolicyEngine(old.initial).evaluate(from: from, to: to, port: port).decision
                    let b = PolicyEngine(new.initial).evaluate(from: from, to: to, port: port).decision
                    #expect(a == b, "\(from) -> \(to) \(port)")
                    if b == .deny { denied += 1 }
                }
            }
        }
        // web -> api on TCP/80 and UDP/8080 hit the Deny; TCP/8080 the Accept.
        #expect(denied == 2)
    }

    /// `domainNames` in a Pass rule (the API supports them for Accept only): failing closed is "a
    /// 'Deny all' rule", so the rule denies every destination; it had passed everything to the
    /// next tier, past the Deny after it (review finding 1: it failed open).
    @Test func aPassRuleWithDomainNamesFailsClosedAsDenyAll() throws {
        let spec =
            "{tier: Admin, priority: 1, subject: {namespaces: {}}, egress: [{name: partner, action: Pass, to: [{domainNames: [partner.example.com]}]}]}"
        let timeline = try ScenarioLoader.parseTimeline(T.scenario(resources: Self.cnp(spec)), file: "pass.yaml")
        #expect(
            timeline.warnings.contains {
                $0.message.contains("this Pass rule fails closed: it is read as a Deny rule that matches every destination")
            })
        let verdict = PolicyEngine(timeline.cluster(afterStep: 0)).evaluate(
            from: .pod(ObjectKey("prod", "web")), to: .pod(ObjectKey("prod", "api")), port: ProtocolPort(.tcp, 8080))
        #expect(verdict.decision == .deny)
        #expect(verdict.egress.tiers.walkthrough == "[Admin] Deny (guard/partner)")
    }

    /// NPEP-133: "ClusterIP Services can not be selected using their generated DNS record". The
    /// endpoint names CoreDNS answers under a ClusterIP Service (`api-0.api.prod.svc...`) no longer
    /// let `*.prod.svc.cluster.local` select its backend; a headless Service's name, which answers
    /// the pods' addresses, still does (review finding 2), and so does an exact entry naming an
    /// endpoint (whoever wrote it asks that name).
    @Test(arguments: ["\"*.prod.svc.cluster.local\"", "api-0.api.prod.svc.cluster.local"])
    func domainNamesDoNotSelectAClusterIPServiceByItsEndpointNames(_ pattern: String) throws {
        let spec =
            "{tier: Admin, priority: 1, subject: {namespaces: {}}, egress: [{action: Accept, to: [{domainNames: [\(pattern)]}]}, {action: Deny, to: [{namespaces: {}}]}]}"
        let exact = !pattern.hasPrefix("\"*.")
        func verdict(_ service: String) throws -> Decision {
            let timeline = try ScenarioLoader.parseTimeline(T.scenario(resources: Self.cnp(spec) + "\n" + service), file: "fqdn.yaml")
            let cluster = timeline.cluster(afterStep: 0)
            return PolicyEngine(cluster).evaluate(
                from: .pod(ObjectKey("prod", "web")), to: .pod(ObjectKey("prod", "api-0")), port: ProtocolPort(.tcp, 8080)
            ).decision
        }
        // The pod of hostname api-0 under subdomain api is the endpoint api-0 of Service api.
        let pod =
            "- {apiVersion: v1, kind: Pod, metadata: {name: api-0, namespace: prod, labels: {app: api}}, spec: {hostname: api-0, subdomain: api, containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}}"
        let clusterIP =
            "- {apiVersion: v1, kind: Service, metadata: {name: api, namespace: prod}, spec: {selector: {app: api}, ports: [{port: 8080}]}}"
        let headless =
            "- {apiVersion: v1, kind: Service, metadata: {name: api, namespace: prod}, spec: {clusterIP: None, selector: {app: api}, ports: [{port: 8080}]}}"
        #expect(try verdict(pod + "\n" + clusterIP) == (exact ? .allow : .deny))
        #expect(try verdict(pod + "\n" + headless) == .allow)
    }

    /// The CRDs' DomainName pattern: a label starts with `[a-zA-z0-9]` (the range `A-z` takes in
    /// `[\]^_` and backquote), ends with a letter or digit, `-` and `_` inside.
    @Test(arguments: [
        ("a_b.example.com", true), ("*.example.com", true), ("x.example.com.", true), ("a.b-c.io", true),
        ("_a.example.com", true), ("_http._tcp.example.com", true), ("[a.example.com", true), ("_.example.com", true),
        ("a_.example.com", false), ("example.com_", false), ("a^.example.com", false), ("-a.example.com", false),
        ("a-.example.com", false), ("example", false), ("*.*.example.com", false), ("a..example.com", false),
    ])
    func domainNamePattern(_ name: String, _ valid: Bool) {
        #expect(ObjectDecoder.isDomainName(name) == valid, "\(name)")
    }

    @Test func walkthroughOfAnAdminPassThenNetworkPolicyAllow() throws {
        let t = try ScenarioLoader.timeline(RepositoryFiles.absolute("scenarios/conformance/cnp/04-pass-delegates-to-networkpolicy.yaml"))
        let verdict = PolicyEngine(t.cluster(afterStep: 1)).evaluate(
            from: .pod(ObjectKey("a", "web")), to: .pod(ObjectKey("a", "db")), port: ProtocolPort(.tcp, 80))
        #expect(verdict.decision == .allow)
        #expect(verdict.ingress.tiers.walkthrough == "[Admin] Pass (delegate/same-tenant) -> [NetworkPolicy] Allowed (a/from-web)")
        let denied = PolicyEngine(t.cluster(afterStep: 1)).evaluate(
            from: .pod(ObjectKey("b", "web")), to: .pod(ObjectKey("a", "db")), port: ProtocolPort(.tcp, 80))
        #expect(denied.ingress.tiers.walkthrough == "[Admin] Deny (deny-rest/everyone)")
    }

    static var scenarios: [String] { RepositoryFiles.yamlFiles(in: "scenarios/conformance/cnp").map(RepositoryFiles.absolute) }

    /// The model checks them in `RealScenarioTests`, the lab in both placements in the library test.
    @Test func atLeastTwentyConformanceScenarios() {
        #expect(Self.scenarios.count >= 21)
        #expect(RepositoryFiles.scenarios.contains("scenarios/conformance/cnp/00-multi-tenant-guardrails.yaml"))
    }
}
