import Foundation
import KeycardModel
import KeycardProbe
import KeycardScenario
import KeycardValues
import Testing

/// Services, workloads and cluster DNS together in a real lab, as root: a Deployment's replicas are
/// the backends of a Service probed through its ClusterIP (`svc/ns/name`) from another Deployment,
/// and a `dns` step resolves the Service's name to its ClusterIP through the `kube-dns` Service
/// (10.96.0.10, translated to the DNS pod), blocked by default-deny egress until an egress rule to
/// the DNS pod — the ClusterIP's backend — allows it again.
@Suite("Services, workloads and cluster DNS in a real lab", .serialized, .enabled(if: geteuid() == 0, "needs root"))
struct ServiceWorkloadDNSLabTests {
    /// Namespace shop: Deployment web (2 replicas, `http` 8080) behind Service web (80 → http),
    /// Deployment client, pod other; web admits only app=client on 8080; web then scales to 3.
    static func serviceScenario(_ name: String) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: \(name)}
        spec:
          lab: {nodes: 2}
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
            - apiVersion: apps/v1
              kind: Deployment
              metadata: {name: web, namespace: shop}
              spec:
                replicas: 2
                selector: {matchLabels: {app: web}}
                template:
                  metadata: {labels: {app: web}}
                  spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 8080, name: http}]}]}
            - apiVersion: apps/v1
              kind: Deployment
              metadata: {name: client, namespace: shop}
              spec:
                selector: {matchLabels: {app: client}}
                template:
                  metadata: {labels: {app: client}}
                  spec: {containers: [{name: c, image: busybox}]}
            - {apiVersion: v1, kind: Pod, metadata: {name: other, namespace: shop, labels: {app: other}}, spec: {containers: [{name: c}]}}
            - apiVersion: v1
              kind: Service
              metadata: {name: web, namespace: shop}
              spec:
                selector: {app: web}
                ports: [{name: http, port: 80, targetPort: http}]
            - apiVersion: networking.k8s.io/v1
              kind: NetworkPolicy
              metadata: {name: web-from-client, namespace: shop}
              spec:
                podSelector: {matchLabels: {app: web}}
                ingress: [{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{port: 8080}]}]
          steps:
            - probe: {from: [shop/deployment/client, shop/other], to: [svc/shop/web], ports: [TCP/80]}
              expect:
                TCP/80: |
                  -                       svc/shop/web
                  shop/deployment/client  .
                  shop/other              X
            - scale: {workload: shop/deployment/web, replicas: 3}
            - probe: {from: [shop/deployment/client], to: [svc/shop/web], ports: [TCP/80]}
              expect:
                TCP/80: |
                  -                       svc/shop/web
                  shop/deployment/client  .
        """
    }

    static func probeResults(_ report: Report, step: Int) -> [ProbeResult] {
        (report.steps[step].results ?? []).compactMap { record in
            if case .probe(let result) = record { return result }
            return nil
        }
    }

    @Test(arguments: Enforcement.allCases)
    func deploymentBehindAServiceProbedThroughItsClusterIP(_ enforcement: Enforcement) throws {
        let name = ScenarioLibrary.uniqueLabName()
        let timeline = try ScenarioLoader.parseTimeline(Self.serviceScenario(name), file: "svc-workload.yaml")
        let service = ObjectKey("shop", "web")
        let web = WorkloadKey(.deployment, "shop", "web")
        let replicas = Set(timeline.initial.pods(of: web).map(\.key))
        let scaled = Set(timeline.cluster(afterStep: 2).pods(of: web).map(\.key))
        #expect(replicas.count == 2 && scaled.count == 3 && replicas.isSubset(of: scaled))
        let client = try #require(timeline.initial.pods(of: WorkloadKey(.deployment, "shop", "client")).first?.key)

        let run = ScenarioRun(timeline: timeline, options: .init(enforcement: enforcement, labName: name))
        defer { run.tearDown() }
        let report = try run.execute()
        #expect(report.passed, "\(ScenarioLibrary.failures(report).joined(separator: "\n"))")

        // One cell per source replica and backend, each through the ClusterIP to a workload pod.
        let first = Self.probeResults(report, step: 0)
        #expect(first.count == 4)
        #expect(Set(first.map(\.to)) == Set(replicas.map { Endpoint.service(service, backend: $0) }))
        let fromClient = first.filter { $0.from == client }
        #expect(fromClient.count == 2 && fromClient.allSatisfy { $0.fromWorkload == WorkloadKey(.deployment, "shop", "client") })
        #expect(fromClient.allSatisfy { $0.observed == .allow && $0.model == .allow })
        #expect(first.filter { $0.from == ObjectKey("shop", "other") }.allSatisfy { $0.observed == .deny && $0.model == .deny })
        // After the scale, the new replica is an endpoint too and is reached.
        let third = Self.probeResults(report, step: 2)
        #expect(Set(third.map(\.to)) == Set(scaled.map { Endpoint.service(service, backend: $0) }))
        #expect(third.allSatisfy { $0.observed == .allow })

        run.tearDown()
        #expect(ScenarioLibrary.leftoverNamespaces(lab: name).isEmpty)
    }

    /// Namespace shop with cluster DNS: Deployment web behind the ClusterIP Service web, pod
    /// frontend. The Service's name resolves to its ClusterIP; default-deny egress blocks the query;
    /// an egress rule to the kube-dns ClusterIP as an ipBlock does not help (policy sees the DNS pod
    /// after translation); one to the DNS pod (`k8s-app: kube-dns` in kube-system, port 53) does.
    static func dnsScenario(_ name: String) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: \(name)}
        spec:
          lab: {dns: true}
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
            - apiVersion: apps/v1
              kind: Deployment
              metadata: {name: web, namespace: shop}
              spec:
                replicas: 2
                selector: {matchLabels: {app: web}}
                template:
                  metadata: {labels: {app: web}}
                  spec: {containers: [{name: web, ports: [{containerPort: 8080}]}]}
            - {apiVersion: v1, kind: Pod, metadata: {name: frontend, namespace: shop, labels: {app: frontend}}, spec: {containers: [{name: c}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: shop}, spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}}
          steps:
            - dns: {from: shop/frontend, name: web.shop.svc.cluster.local}
              expect: [10.96.1.1]
            - dns: {from: shop/frontend, name: web}
              expect: [10.96.1.1]
            - apply:
                - apiVersion: networking.k8s.io/v1
                  kind: NetworkPolicy
                  metadata: {name: default-deny-egress, namespace: shop}
                  spec: {podSelector: {}, policyTypes: [Egress]}
            - dns: {from: shop/frontend, name: web.shop.svc.cluster.local}
              expect: blocked
            - apply:
                - apiVersion: networking.k8s.io/v1
                  kind: NetworkPolicy
                  metadata: {name: dns-by-clusterip, namespace: shop}
                  spec:
                    podSelector: {}
                    policyTypes: [Egress]
                    egress: [{to: [{ipBlock: {cidr: 10.96.0.10/32}}], ports: [{protocol: UDP, port: 53}]}]
            - dns: {from: shop/frontend, name: web.shop.svc.cluster.local}
              expect: blocked
            - apply:
                - apiVersion: networking.k8s.io/v1
                  kind: NetworkPolicy
                  metadata: {name: allow-dns, namespace: shop}
                  spec:
                    podSelector: {}
                    policyTypes: [Egress]
                    egress:
                      - to:
                          - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
                            podSelector: {matchLabels: {k8s-app: kube-dns}}
                        ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
            - dns: {from: shop/frontend, name: web.shop.svc.cluster.local}
              expect: [10.96.1.1]
        """
    }

    @Test(arguments: Enforcement.allCases)
    func serviceNameResolvesThroughKubeDNSAndDefaultDenyBlocksIt(_ enforcement: Enforcement) throws {
        let name = ScenarioLibrary.uniqueLabName()
        let timeline = try ScenarioLoader.parseTimeline(Self.dnsScenario(name), file: "svc-dns.yaml")
        #expect(timeline.initial.services[ObjectKey("shop", "web")]?.clusterIP == IPv4("10.96.1.1"))
        let dnsPod = try #require(timeline.initial.addresses[ClusterDNS.podKey])
        #expect(dnsPod != IPv4("10.96.0.10"))

        let run = ScenarioRun(timeline: timeline, options: .init(enforcement: enforcement, keep: true, labName: name))
        defer { run.tearDown() }
        let report = try run.execute()
        #expect(report.passed, "\(ScenarioLibrary.failures(report).joined(separator: "\n"))")
        // The lab's resolver is the kube-dns ClusterIP, reached through the Service proxy.
        #expect(run.lab?.plan.dns?.nameserver == IPv4("10.96.0.10"))
        let queries: [DNSResult] = report.steps.flatMap { $0.results ?? [] }.compactMap { record in
            if case .dns(let result) = record { return result }
            return nil
        }
        #expect(queries.count == 5)
        #expect(queries.allSatisfy { $0.server == IPv4("10.96.0.10") })
        let web = DNSAnswer.addresses([IPv4("10.96.1.1")])
        #expect(queries.map(\.observed) == [web, web, .blocked, .blocked, web])

        run.tearDown()
        #expect(ScenarioLibrary.leftoverNamespaces(lab: name).isEmpty)
    }
}
