import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

/// The mesh with issue 13's Services: R37 reads Service ports (`appProtocol`, then the port name),
/// a `svc/` probe is judged on each backend and its target port as Service traffic (R15), a pod
/// probe `via: service` names the Service that selects it, and the kube-dns Service stays outside
/// the mesh.
@Suite struct MeshServiceTests {
    /// prod/api (sidecar, sa api) with container ports 8080 (unnamed), 9090 (named `http-alt`) and
    /// 7070 (`metrics`); legacy/client outside the mesh; prod/web (sidecar, sa web).
    static func scenario(_ resources: String = "", steps: String, dns: Bool = false) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: mesh-services}
        spec:
        \(dns ? "  lab: {dns: true}\n" : "")  resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: prod, labels: {istio-injection: enabled}}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: legacy}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: legacy}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: prod, labels: {app: web}}, spec: {serviceAccountName: web, containers: [{name: c, image: i}]}}
            - apiVersion: v1
              kind: Pod
              metadata: {name: api, namespace: prod, labels: {app: api}}
              spec:
                serviceAccountName: api
                containers: [{name: c, image: i, ports: [{containerPort: 8080}, {name: http-alt, containerPort: 9090}, {name: metrics, containerPort: 7070}]}]
        \(resources)
          steps:
        \(steps)
        """
    }

    static func service(_ name: String, ports: String, selector: String = "app: api") -> String {
        "    - {apiVersion: v1, kind: Service, metadata: {name: \(name), namespace: prod}, spec: {selector: {\(selector)}, ports: [\(ports)]}}"
    }

    static func timeline(_ text: String) throws -> Timeline { try ScenarioLoader.parseTimeline(text, file: "mesh-services.yaml") }

    static let api = ObjectKey("prod", "api")

    @Test("R37: a Service port's name or appProtocol makes the pod's port HTTP; appProtocol decides alone")
    func servicePortDecides() throws {
        let resources = [
            Self.service("named", ports: "{name: http-web, port: 80, targetPort: 8080}"),
            // appProtocol tcp overrides an HTTP-looking name; the container name http-alt does not count.
            Self.service("declared", ports: "{name: http, port: 90, targetPort: http-alt, appProtocol: tcp}"),
            Self.service("grpc", ports: "{name: tcp, port: 70, targetPort: 7070, appProtocol: kubernetes.io/h2c}"),
        ].joined(separator: "\n")
        let cluster = try Self.timeline(Self.scenario(resources, steps: "    - probe: {from: [prod/web], to: [prod/api]}"))
            .cluster(afterStep: 0)
        #expect(cluster.isHTTPPort(pod: Self.api, port: 8080))
        #expect(!cluster.isHTTPPort(pod: Self.api, port: 9090))
        #expect(cluster.isHTTPPort(pod: Self.api, port: 7070))
        // Without Services the container port name stands in (keycard's documented fallback).
        let bare = try Self.timeline(Self.scenario(steps: "    - probe: {from: [prod/web], to: [prod/api]}")).cluster(afterStep: 0)
        #expect(!bare.isHTTPPort(pod: Self.api, port: 8080))
        #expect(bare.isHTTPPort(pod: Self.api, port: 9090))
    }

    @Test(
        "R37: Istio's prefixes, case-insensitive; appProtocol first",
        arguments: [
            ("http", nil, true), ("HTTP-api", nil, true), ("http2", nil, true), ("grpc", nil, true), ("grpc-web", nil, true),
            ("grpc-x", nil, true), ("https", nil, false), ("tcp-http", nil, false), ("httpx", nil, false), ("mongo", nil, false),
            (nil, "http", true), ("tcp", "HTTP", true), ("http", "tcp", false), ("http", "kubernetes.io/ws", true),
            (nil, "kubernetes.io/h2c", true), (nil, "example.com/custom", false), (nil, nil, false), (nil, "http_proxy", true),
            ("HTTP_PROXY-x", nil, true),
        ] as [(String?, String?, Bool)])
    func prefixes(name: String?, appProtocol: String?, http: Bool) {
        #expect(ServicePort(name: name, port: 80, appProtocol: appProtocol).isHTTP == http)
        #expect(!ServicePort(name: name, proto: .udp, port: 80, appProtocol: appProtocol).isHTTP, "UDP is never proxied")
    }

    @Test("R37: when two Services disagree about a port, the oldest decides (one step counts as one second, ties by name)")
    func oldestServiceDecides() throws {
        let text = Self.scenario(
            Self.service("b-tcp", ports: "{name: tcp, port: 80, targetPort: 8080}"),
            steps: """
                    - apply:
                      - {apiVersion: v1, kind: Service, metadata: {name: a-http, namespace: prod}, spec: {selector: {app: api}, ports: [{name: http, port: 80, targetPort: 8080}]}}
                    - delete: [{kind: Service, namespace: prod, name: b-tcp}]
                """)
        let timeline = try Self.timeline(text)
        // b-tcp is older than a-http although a-http sorts first.
        #expect(!timeline.cluster(afterStep: 1).isHTTPPort(pod: Self.api, port: 8080))
        #expect(
            timeline.cluster(afterStep: 1).protocolService(of: try #require(timeline.cluster(afterStep: 1).pods[Self.api]), port: 8080)?
                .service.name == "b-tcp")
        #expect(timeline.cluster(afterStep: 2).isHTTPPort(pod: Self.api, port: 8080))
        // Created together: the alphabetically first name wins.
        let together = try Self.timeline(
            Self.scenario(
                [
                    Self.service("b-tcp", ports: "{name: tcp, port: 80, targetPort: 8080}"),
                    Self.service("a-http", ports: "{name: http, port: 80, targetPort: 8080}"),
                ]
                .joined(separator: "\n"), steps: "    - probe: {from: [prod/web], to: [prod/api]}"))
        #expect(together.cluster(afterStep: 0).isHTTPPort(pod: Self.api, port: 8080))
    }

    @Test("an http probe follows the Service: refused towards a port a Service declares TCP, accepted where a Service declares HTTP")
    func httpProbeFollowsService() throws {
        let tcp = Self.service("api", ports: "{name: tcp-alt, port: 90, targetPort: 9090}")
        #expect(throws: ScenarioError.self) {
            try Self.timeline(Self.scenario(tcp, steps: "    - probe: {from: [prod/web], to: [prod/api], ports: [TCP/9090], http: {}}"))
        }
        #expect(throws: ScenarioError.self) {
            try Self.timeline(Self.scenario(tcp, steps: "    - probe: {from: [prod/web], to: [svc/prod/api], ports: [TCP/90], http: {}}"))
        }
        let http = Self.service("api", ports: "{name: web, port: 80, targetPort: 8080, appProtocol: http}")
        let timeline = try Self.timeline(Self.scenario(http, steps: "    - probe: {from: [prod/web], to: [svc/prod/api], http: {}}"))
        // Without ports, an http probe covers the Service's HTTP ports.
        #expect(timeline.probes[1]?.ports == [ProtocolPort(.tcp, 80)])
    }

    @Test(
        "a svc/ probe is judged on the backend's target port as Service traffic: STRICT, portLevelMtls and ports rules use the workload port"
    )
    func serviceProbeJudgedOnBackend() throws {
        let resources = [
            Self.service("api", ports: "{name: http, port: 80, targetPort: 8080}"),
            "    - {apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: api, namespace: prod}, spec: {selector: {matchLabels: {app: api}}, mtls: {mode: STRICT}}}",
            "    - {apiVersion: security.istio.io/v1, kind: AuthorizationPolicy, metadata: {name: api, namespace: prod}, spec: {selector: {matchLabels: {app: api}}, rules: [{from: [{source: {principals: [cluster.local/ns/prod/sa/web]}}], to: [{operation: {ports: [\"8080\"], methods: [GET], hosts: [api.prod]}}]}]}}",
        ].joined(separator: "\n")
        let text = Self.scenario(
            resources,
            steps: """
                    - probe: {from: [prod/web, legacy/client], to: [svc/prod/api], ports: [TCP/80]}
                      expect:
                        TCP/80: |
                          -             svc/prod/api
                          prod/web      .
                          legacy/client M
                    - probe: {from: [prod/web], to: [svc/prod/api], ports: [TCP/80], http: {method: POST}}
                      expect: {default: deny-rbac}
                    - probe: {from: [prod/web], to: [svc/prod/api], ports: [TCP/80], http: {host: "api.prod:80"}}
                      expect: {default: deny-rbac}
                    - probe: {from: [prod/web], to: [prod/api], ports: [TCP/8080], via: pod-ip}
                      expect: {default: deny-mtls}
                """)
        let timeline = try Self.timeline(text)
        let cells = timeline.cells(ofProbeStep: 1)
        try #require(cells.count == 2)
        for cell in cells {
            #expect(cell.to == .service(ObjectKey("prod", "api"), backend: Self.api))
            #expect(cell.result().passed, "\(cell.from)")
            let mesh = try #require(cell.mesh)
            #expect(mesh.destinationPlane == .sidecar, "the backend's data plane, not outside the mesh")
            #expect(mesh.service == ObjectKey("prod", "api"))
            #expect(cell.result().mesh?.service == "prod/api")
        }
        let web = try #require(cells.first { $0.from == ObjectKey("prod", "web") })
        #expect(web.mesh?.presented == .mutualTLS(principal: "cluster.local/ns/prod/sa/web"))
        #expect(web.mesh?.outcome == .allow, "ports: [\"8080\"] matches the target port; the Host is the Service's, api.prod on port 80")
        // POST is not allowed (HTTP port by the Service's port name: 403).
        let post = try #require(timeline.cells(ofProbeStep: 2).first)
        #expect(post.outcome == .denyRBAC && post.mesh?.detail == "http-403" && post.result().passed)
        #expect(timeline.cells(ofProbeStep: 3).allSatisfy { $0.outcome == .denyRBAC && $0.result().passed })
        // The same pod called by its address from a sidecar: plaintext, refused by STRICT (R15).
        #expect(timeline.cells(ofProbeStep: 4).allSatisfy { $0.outcome == .denyMTLS && $0.result().passed })
    }

    @Test("a pod probe via service names the Service that selects it; none exists: nil (keycard models one); via pod-ip: nil")
    func podProbeNamesItsService() throws {
        let text = Self.scenario(
            Self.service("api", ports: "{name: http, port: 80, targetPort: 8080}"),
            steps: """
                    - probe: {from: [prod/web], to: [prod/api], ports: [TCP/8080, TCP/7070]}
                    - probe: {from: [prod/web], to: [prod/api], ports: [TCP/8080], via: pod-ip}
                """)
        let timeline = try Self.timeline(text)
        let cells = timeline.cells(ofProbeStep: 1)
        #expect(cells.first { $0.port.port == 8080 }?.mesh?.service == ObjectKey("prod", "api"))
        #expect(cells.first { $0.port.port == 8080 }?.mesh?.presented == .mutualTLS(principal: "cluster.local/ns/prod/sa/web"))
        let unserved = try #require(cells.first { $0.port.port == 7070 })
        #expect(unserved.mesh?.service == nil)
        #expect(unserved.mesh?.presented == .mutualTLS(principal: "cluster.local/ns/prod/sa/web"), "the implicit Service of R15")
        let direct = try #require(timeline.cells(ofProbeStep: 2).first)
        #expect(direct.mesh?.service == nil && direct.mesh?.presented == .plaintext)
    }

    @Test("via: pod-ip towards a Service is refused with file:line")
    func podIPToServiceRefused() throws {
        let text = Self.scenario(
            Self.service("api", ports: "{name: http, port: 80, targetPort: 8080}"),
            steps: "    - probe: {from: [prod/web], to: [svc/prod/api], ports: [TCP/80], via: pod-ip}")
        let error = try #require(throws: ScenarioError.self) { try Self.timeline(text) }
        #expect(error.message.contains("via: pod-ip"))
        #expect(error.location.line > 1)
    }

    @Test("appProtocol is validated as a qualified name")
    func appProtocolValidated() throws {
        let text = Self.scenario(
            Self.service("api", ports: "{name: web, port: 80, targetPort: 8080, appProtocol: 'not a name'}"),
            steps: "    - probe: {from: [prod/web], to: [prod/api]}")
        let error = try #require(throws: ScenarioError.self) { try Self.timeline(text) }
        #expect(error.message.contains("appProtocol"))
    }

    @Test("the kube-dns Service and its pod stay outside the mesh under mesh-wide STRICT and a root DENY-all")
    func kubeDNSOutsideMesh() throws {
        let resources = [
            "    - {apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: default, namespace: istio-system}, spec: {mtls: {mode: STRICT}}}",
            "    - {apiVersion: security.istio.io/v1, kind: AuthorizationPolicy, metadata: {name: deny-all, namespace: istio-system}, spec: {action: DENY, rules: [{}]}}",
        ].joined(separator: "\n")
        let text = Self.scenario(
            resources,
            steps: """
                    - label: {kind: Namespace, name: kube-system, labels: {istio-injection: enabled, istio.io/dataplane-mode: ambient}}
                    - probe: {from: [prod/web, legacy/client], to: [svc/kube-system/kube-dns], ports: [TCP/53, UDP/53]}
                      expect: {default: allow}
                    - probe: {from: [legacy/client], to: [prod/api], ports: [TCP/8080]}
                      expect: {default: deny-mtls}
                """, dns: true)
        let timeline = try Self.timeline(text)
        let cells = timeline.cells(ofProbeStep: 2)
        #expect(cells.count == 4)
        for cell in cells {
            #expect(cell.to == .service(ClusterDNS.serviceKey, backend: ClusterDNS.podKey))
            #expect(cell.mesh?.destinationPlane == DataPlane.none)
            #expect(cell.outcome == .allow && cell.result().passed, "\(cell.from) \(cell.port)")
        }
        #expect(timeline.cells(ofProbeStep: 3).allSatisfy { $0.outcome == .denyMTLS })
    }
}

/// `serviceEnforcement: pre-dnat` with meshed clients: a sidecar (or ztunnel) captures the call to
/// the ClusterIP and opens its own connection to the backend pod, so the network never sees the
/// ClusterIP and egress judges the pod and target port; a client outside the mesh is judged on the
/// ClusterIP as before (review of the mesh, finding 1).
@Suite struct MeshPreDNATTests {
    static let scenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: mesh-pre-dnat}
        spec:
          lab: {serviceEnforcement: pre-dnat}
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: shop, labels: {istio-injection: enabled}}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: amb, labels: {istio.io/dataplane-mode: ambient}}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: plain}}
            - {apiVersion: v1, kind: Pod, metadata: {name: db, namespace: shop, labels: {app: db}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 5432}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: shop, labels: {role: client}}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: job, namespace: amb, labels: {role: client}}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: cli, namespace: plain, labels: {role: client}}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: db, namespace: shop}, spec: {selector: {app: db}, ports: [{port: 80, targetPort: 5432}]}}
            # Every client's egress allows the database pod on its target port, not the ClusterIP.
            - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: to-db, namespace: shop}, spec: {podSelector: {}, policyTypes: [Egress], egress: [{to: [{namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}], ports: [{port: 5432}]}, {ports: [{port: 15008}]}]}}
            - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: to-db, namespace: amb}, spec: {podSelector: {}, policyTypes: [Egress], egress: [{to: [{namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}], ports: [{port: 5432}, {port: 15008}]}]}}
            - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: to-db, namespace: plain}, spec: {podSelector: {}, policyTypes: [Egress], egress: [{to: [{namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}], ports: [{port: 5432}]}]}}
          steps:
            - probe: {from: [shop/web, amb/job, plain/cli], to: [svc/shop/db], ports: [TCP/80]}
              expect:
                TCP/80: |
                  - svc/shop/db
                  shop/web .
                  amb/job .
                  plain/cli X
        """

    @Test func meshedClientsAreJudgedOnTheBackendPod() throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario, file: "mesh-pre-dnat.yaml")
        let report = ModelReport.build(timeline)
        #expect(report.passed, "\(report.steps.map(\.passed))")
        // A probe escaping its sidecar sends the application's own packet: the ClusterIP is judged.
        let cluster = timeline.cluster(afterStep: 0)
        let destination = Endpoint.service(ObjectKey("shop", "db"), backend: ObjectKey("shop", "db"))
        let port = ProtocolPort(.tcp, 80)
        let escaped = MeshEngine(cluster).evaluate(
            from: ObjectKey("shop", "web"), to: destination, port: port, request: MeshRequest(identity: .none))
        #expect(!escaped.sourceProxied)
        let verdict = PolicyEngine(cluster).evaluate(fromSource: ObjectKey("shop", "web"), to: destination, port: port, mesh: escaped)
        #expect(verdict.decision == .deny)
    }
}
