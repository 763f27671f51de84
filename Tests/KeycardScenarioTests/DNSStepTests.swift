import Foundation
import KeycardModel
import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardScenario

private typealias T = ScenarioText

/// The head with `spec.lab.dns: true`.
private let dnsHead = T.head.replacingOccurrences(of: "\nspec:\n", with: "\nspec:\n  lab: {dns: true}\n")

private func timeline(_ text: String) throws -> Timeline { try ScenarioLoader.parseTimeline(text, file: "dns.yaml") }

@Suite("dns steps and the cluster DNS pod")
struct DNSStepTests {
    @Test func parsesEveryExpectation() throws {
        let t = try timeline(
            T.scenario(
                steps: """
                    - dns: {from: prod/web, name: 10-244-0-2.prod.pod.cluster.local}
                      expect: [10.244.0.2]
                    - dns: {from: prod/web, name: nothing.prod.svc.cluster.local}
                      expect: nxdomain
                    - dns: {from: prod/web, name: api}
                      expect: blocked
                    - dns: {from: prod/api, name: web.prod}
                    """, head: dnsHead))
        let steps = t.scenario.steps.compactMap { step -> DNSStep? in
            if case .dns(let dns) = step.action { return dns }
            return nil
        }
        #expect(steps.map(\.expect) == [.addresses([IPv4("10.244.0.2")]), .notFound, .blocked, nil])
        #expect(steps.map(\.name) == ["10-244-0-2.prod.pod.cluster.local", "nothing.prod.svc.cluster.local", "api", "web.prod"])
        #expect(t.scenario.steps.map(\.kind) == [.dns, .dns, .dns, .dns])
    }

    /// The DNS pod is a model pod (policies select it), comes after every scenario pod in address
    /// order, and is left out of default probe sources and destinations.
    @Test func dnsPodInTheModelButNotInDefaultTables() throws {
        let t = try timeline(T.scenario(steps: "- probe: {}", head: dnsHead))
        let pod = try #require(t.initial.pods[ClusterDNS.podKey])
        #expect(pod.labels["k8s-app"] == "kube-dns")
        #expect(
            pod.ports.map { "\($0.proto)/\($0.port)/\($0.name ?? "")" }.sorted() == ["tcp/53/dns-tcp", "tcp/9153/metrics", "udp/53/dns"])
        #expect(t.plan.addresses[ClusterDNS.podKey] == IPv4("10.244.0.3"))
        #expect(t.plan.addresses[ObjectKey("prod", "web")] == IPv4("10.244.0.1"))
        let probe = try #require(t.probes[1])
        #expect(probe.sources == [ObjectKey("prod", "api"), ObjectKey("prod", "web")])
        #expect(!probe.destinations.contains(.pod(ClusterDNS.podKey)))
        #expect(probe.ports == [ProtocolPort(.tcp, 80), ProtocolPort(.tcp, 8080)])
    }

    /// kubeadm's CoreDNS declares `metrics` TCP/9153 and its `kube-dns` Service has the port
    /// (targetPort 9153): a policy letting a scraper reach it is judged on the DNS pod, directly
    /// and through the Service (neither had the port: nothing served 9153).
    @Test func theDNSPodAndServiceDeclareMetrics() throws {
        let scrape = T.policy(
            """
            podSelector: {matchLabels: {k8s-app: kube-dns}}
            policyTypes: [Ingress]
            ingress:
              - ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
              - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: prod}}, podSelector: {matchLabels: {app: web}}}]
                ports: [{protocol: TCP, port: metrics}]
            """, name: "dns-and-scrape"
        ).replacingOccurrences(of: "namespace: prod}", with: "namespace: kube-system}")
        let t = try timeline(T.scenario(resources: scrape, steps: "- probe: {}", head: dnsHead))
        let cluster = t.initial
        let service = try #require(cluster.services[ClusterDNS.serviceKey])
        #expect(service.ports.map { "\($0.name ?? "")/\($0.proto)/\($0.port)" } == ["dns/udp/53", "dns-tcp/tcp/53", "metrics/tcp/9153"])
        #expect(cluster.servedPorts(of: .pod(ClusterDNS.podKey)).contains(ProtocolPort(.tcp, 9153)))
        let engine = PolicyEngine(cluster)
        let metrics = ProtocolPort(.tcp, 9153)
        #expect(engine.evaluate(from: .pod(ObjectKey("prod", "web")), to: .pod(ClusterDNS.podKey), port: metrics).decision == .allow)
        #expect(
            engine.evaluate(
                from: .pod(ObjectKey("prod", "web")), to: .service(ClusterDNS.serviceKey, backend: ClusterDNS.podKey), port: metrics
            )
            .decision == .allow)
        #expect(engine.evaluate(from: .pod(ObjectKey("prod", "api")), to: .pod(ClusterDNS.podKey), port: metrics).decision == .deny)
    }

    /// Without DNS nothing changes: no kube-system pod, same addresses, same tables.
    @Test func withoutDNSNothingChanges() throws {
        let t = try timeline(T.scenario(steps: "- probe: {}"))
        #expect(t.initial.pods[ClusterDNS.podKey] == nil)
        #expect(t.initial.pods.count == 2)
        #expect(t.probes[1]?.destinations.count == 2)
    }

    /// The model: blocked by default-deny egress, answered once an egress rule allows UDP/53 to
    /// kube-system k8s-app=kube-dns; search path applies.
    @Test func modelAnswers() throws {
        let denyEgress = T.policy("podSelector: {}\npolicyTypes: [Egress]", name: "deny")
        let allowDNS = T.policy(
            """
            podSelector: {}
            policyTypes: [Egress]
            egress:
              - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
                ports: [{protocol: UDP, port: 53}]
            """, name: "dns")
        let t = try timeline(
            T.scenario(
                resources: denyEgress,
                steps: "- dns: {from: prod/web, name: 10-244-0-2.prod.pod}\n- apply:\n" + T.indent(allowDNS, 4)
                    + "\n- dns: {from: prod/web, name: 10-244-0-2.prod.pod}\n- dns: {from: prod/web, name: example.com}",
                head: dnsHead))
        let models = t.scenario.steps.compactMap { step -> DNSAnswer? in
            if case .dns(let dns) = step.action { return t.dnsModel(dns, atStep: step.index) }
            return nil
        }
        #expect(models == [.blocked, .addresses([IPv4("10.244.0.2")]), .notFound])
        let report = ModelReport.build(t)
        #expect(report.passed)
        #expect(report.steps.first?.results?.count == 1)
    }

    /// A ClusterFirst pod's search list holds its node's search domains after the cluster's
    /// (`generateSearchesForDNSClusterFirst`): with a node searching `other.svc.cluster.local`, a
    /// short name no cluster domain completes answers through it, as in the lab's file (the model
    /// had left the node's domains out: nxdomain).
    @Test func theNodesSearchDomainsFollowTheClusters() throws {
        let service =
            "- {apiVersion: v1, kind: Namespace, metadata: {name: other}}\n"
            + "- {apiVersion: v1, kind: Service, metadata: {name: cache, namespace: other}, spec: {clusterIP: 10.96.0.44, ports: [{port: 80}]}}"
        var t = try timeline(T.scenario(resources: service, steps: "- dns: {from: prod/web, name: cache}", head: dnsHead))
        t.nodeResolvConf = ResolvConf(kubeletParsing: "nameserver 192.0.2.53\nsearch other.svc.cluster.local corp.test\n")
        #expect(
            t.resolvConf(of: ObjectKey("prod", "web"), atStep: 1).searches == [
                "prod.svc.cluster.local", "svc.cluster.local", "cluster.local", "other.svc.cluster.local", "corp.test",
            ])
        guard case .dns(let step) = try #require(t.scenario.steps.first).action else {
            Issue.record("not a dns step")
            return
        }
        #expect(t.dnsModel(step, atStep: 1) == .addresses([IPv4("10.96.0.44")]))
        t.nodeResolvConf = ResolvConf()
        #expect(t.dnsModel(step, atStep: 1) == .notFound)
    }

    /// ExternalName Services in a scenario (Kubernetes DNS specification 2.4): the name follows its
    /// CNAME to the target Service's ClusterIP, also through another ExternalName and with a short
    /// name; a target outside the cluster answers no address (`nxdomain`: the lab has no upstream);
    /// deleting the target Service leaves the alias answering nothing. Each step's records are the
    /// step's cluster.
    @Test func externalNameModelAnswers() throws {
        let services = """
            - {apiVersion: v1, kind: Service, metadata: {name: db, namespace: prod}, spec: {selector: {app: api}, ports: [{port: 5432}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: orders, namespace: prod}, spec: {type: ExternalName, externalName: db.prod.svc.cluster.local.}}
            - {apiVersion: v1, kind: Service, metadata: {name: legacy, namespace: prod}, spec: {type: ExternalName, externalName: orders.prod.svc.cluster.local}}
            - {apiVersion: v1, kind: Service, metadata: {name: stripe, namespace: prod}, spec: {type: ExternalName, externalName: api.stripe.com}}
            """
        let t = try timeline(
            T.scenario(
                resources: services,
                steps: """
                    - dns: {from: prod/web, name: orders.prod.svc.cluster.local}
                    - dns: {from: prod/web, name: legacy}
                    - dns: {from: prod/web, name: stripe}
                    - delete: [{kind: Service, namespace: prod, name: db}]
                    - dns: {from: prod/web, name: orders}
                      expect: nxdomain
                    """, head: dnsHead))
        let db = try #require(t.initial.services[ObjectKey("prod", "db")]?.clusterIP)
        let models = t.scenario.steps.compactMap { step -> DNSAnswer? in
            if case .dns(let dns) = step.action { return t.dnsModel(dns, atStep: step.index) }
            return nil
        }
        #expect(models == [.addresses([db]), .addresses([db]), .notFound, .notFound])
        let records = DNSRecords(t.initial)
        #expect(
            records.cnames == [
                "orders.prod.svc.cluster.local": "db.prod.svc.cluster.local",
                "legacy.prod.svc.cluster.local": "orders.prod.svc.cluster.local",
                "stripe.prod.svc.cluster.local": "api.stripe.com",
            ])
        #expect(DNSRecords(t.cluster(afterStep: 4)).cnames == ["stripe.prod.svc.cluster.local": "api.stripe.com"])
        #expect(ModelReport.build(t).passed)
    }

    /// An explicit expectation that disagrees with the model fails `keycard model`.
    /// A pod whose resolv.conf has `use-vc` asks over TCP (resolv.conf(5)): the model judges its
    /// query as TCP/53 to the DNS pod, so an egress rule allowing only UDP/53 blocks it (it had
    /// been judged as UDP/53 and answered), and its result says so (`overTCP`).
    @Test func useVCIsJudgedOnTCP() throws {
        func scenario(_ ports: String) -> String {
            """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: usevc}
            spec:
              lab: {dns: true}
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: a}}
                - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: a, labels: {app: web}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: a}, spec: {selector: {app: web}, ports: [{port: 80}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: vc, namespace: a, labels: {app: client}}, spec: {dnsConfig: {options: [{name: use-vc}]}, containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: udp, namespace: a, labels: {app: client}}, spec: {containers: [{name: c, image: i}]}}
                - apiVersion: networking.k8s.io/v1
                  kind: NetworkPolicy
                  metadata: {name: dns-only, namespace: a}
                  spec:
                    podSelector: {matchLabels: {app: client}}
                    policyTypes: [Egress]
                    egress: [{to: [{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}], ports: [\(ports)]}]
              steps:
                - dns: {from: a/vc, name: web}
                - dns: {from: a/udp, name: web}
            """
        }
        for (ports, vc, udp) in [("{protocol: UDP, port: 53}", false, true), ("{protocol: TCP, port: 53}", true, false)] {
            let t = try timeline(scenario(ports))
            let service = try #require(t.initial.services[ObjectKey("a", "web")]?.clusterIP)
            let report = ModelReport.build(t)
            let results = report.steps.compactMap { step -> DNSResult? in
                if case .dns(let result) = step.results?.first { return result }
                return nil
            }
            #expect(results.map(\.model) == [vc ? .addresses([service]) : .blocked, udp ? .addresses([service]) : .blocked], "\(ports)")
            #expect(results.map(\.overTCP) == [true, nil])
        }
    }

    /// A headless Service with 30 ready pods: the A answer for `big.a.svc.cluster.local` is 521
    /// bytes, over UDP's 512, so CoreDNS sends it truncated (TC) and glibc asks again over TCP/53.
    /// The model judges such a query on UDP/53 and TCP/53: with an egress rule allowing only UDP/53
    /// the name gets no answer (it had been answered), and glibc's search, stopped there, asks the
    /// name as written: `big` ends NXDOMAIN, `big.a.svc.cluster.local.` `blocked`; a small answer
    /// (`one`) and an `edns0` resolver (1200 bytes) still need only UDP; the result says
    /// `truncated`.
    @Test func aTruncatedAnswerIsJudgedOnTCPToo() throws {
        let t = try timeline(DNSTruncationScenario.text(lab: "truncation", ports: "{protocol: UDP, port: 53}"))
        let results = ModelReport.build(t).steps.compactMap { step -> DNSResult? in
            if case .dns(let result) = step.results?.first { return result }
            return nil
        }
        let big = try #require(results.first)
        #expect(big.model == .notFound)
        #expect(big.truncated == true)
        #expect(results.last?.model == .blocked)
        #expect(results.dropFirst().dropLast().map(\.model).allSatisfy { if case .addresses = $0 { true } else { false } })
        #expect(results.map(\.truncated) == [true, nil, nil, true])
        #expect(
            t.dnsPorts(DNSStep(from: ObjectKey("a", "client"), name: "big", expect: nil), atStep: 1) == [
                ProtocolPort(.udp, 53), ProtocolPort(.tcp, 53),
            ])

        let both = try timeline(
            DNSTruncationScenario.text(lab: "truncation", ports: "{protocol: UDP, port: 53}, {protocol: TCP, port: 53}"))
        let answered = ModelReport.build(both).steps.compactMap { step -> DNSAnswer? in
            if case .dns(let result) = step.results?.first { return result.model }
            return nil
        }
        guard case .addresses(let list) = answered.first else {
            Issue.record("expected addresses, got \(answered)")
            return
        }
        #expect(list.count == 30)
    }

    @Test func explicitExpectationMustAgreeWithTheModel() throws {
        let t = try timeline(
            T.scenario(
                steps: """
                    - dns: {from: prod/web, name: 10-244-0-2.prod.pod.cluster.local}
                      expect: blocked
                    """, head: dnsHead))
        #expect(!ModelReport.build(t).passed)
    }

    /// A dns step's JSON result round-trips (addresses as a list, the rest as words).
    @Test func resultRoundTrips() throws {
        let result = DNSResult(
            from: ObjectKey("x", "a"), name: "web", server: IPv4("10.244.0.3"), expected: .blocked, model: .blocked,
            observed: .addresses([IPv4("10.244.0.2")]), milliseconds: 3)
        let data = try JSONEncoder().encode([ResultRecord.dns(result)])
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"expected\":\"blocked\""))
        #expect(text.contains("\"observed\":[\"10.244.0.2\"]"))
        let decoded = try JSONDecoder().decode([ResultRecord].self, from: data)
        guard case .dns(let back) = decoded.first else {
            Issue.record("decoded as \(decoded)")
            return
        }
        #expect(back == result)
        #expect(!back.passed)
    }

    @Test(
        "malformed dns steps",
        arguments: [
            ("- dns: {from: prod/web, name: api}", "a dns step needs cluster DNS: set spec.lab.dns: true", false),
            ("- dns: {from: prod/web}", "name", true),
            ("- dns: {from: web, name: api}", "must be a pod as namespace/name", true),
            ("- dns: {from: prod/nobody, name: api}", "does not exist at this step", true),
            ("- dns: {from: prod/web, name: 'a..b'}", "has an empty label", true),
            ("- dns: {from: prod/web, name: 'a b'}", "may hold only letters", true),
            ("- dns: {from: prod/web, name: api}\n  expect: maybe", "must be a list of IPv4 addresses", true),
            ("- dns: {from: prod/web, name: api}\n  expect: [1.2.3]", "is not an IPv4 address", true),
            ("- dns: {from: prod/web, name: api}\n  expect: []", "write nxdomain", true),
            ("- delete: [{kind: Pod, namespace: kube-system, name: kube-dns-0}]", "cannot be deleted", true),
        ])
    func malformed(_ steps: String, _ message: String, _ dns: Bool) {
        let text = T.scenario(steps: steps, head: dns ? dnsHead : T.head)
        do {
            _ = try timeline(text)
            Issue.record("accepted: \(steps)")
        } catch {
            let text = "\(error)"
            #expect(text.contains(message), "\(text)")
            #expect(text.hasPrefix("dns.yaml:"), "\(text)")
        }
    }

    @Test func dnsPodNameIsReserved() {
        let pod =
            "- {apiVersion: v1, kind: Pod, metadata: {name: kube-dns-0, namespace: kube-system}, spec: {containers: [{name: c, image: i}]}}"
        #expect(throws: ScenarioError.self) { try timeline(T.scenario(resources: pod, steps: "- probe: {}", head: dnsHead)) }
        #expect((try? timeline(T.scenario(resources: pod, steps: "- probe: {}"))) != nil)
    }
}
