import Foundation
import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

private typealias T = ScenarioText

/// A Service resource item in prod (written at column 1).
private func service(_ name: String, _ spec: String) -> String {
    """
    - apiVersion: v1
      kind: Service
      metadata: {name: \(name), namespace: prod}
      spec:
    \(T.indent(spec, 4))
    """
}

@Suite("Services: decoding, defaults, validation, ClusterIP allocation, endpoints")
struct ServiceDecodingTests {
    @Test func defaultsAsTheAPIServerSetsThem() throws {
        let t = try timeline(T.scenario(resources: service("web", "selector: {app: web}\nports: [{port: 80}]")))
        let web = try #require(t.initial.services[ObjectKey("prod", "web")])
        #expect(web.kind == .clusterIP)
        #expect(web.ports == [ServicePort(name: nil, proto: .tcp, port: 80, target: .number(80))])
        #expect(web.clusterIP == IPv4("10.96.1.1"), "the first allocation of 10.96.0.0/16 is above its static subrange")
        #expect(t.initial.backends(of: web, port: web.ports[0]).map(\.pod) == [ObjectKey("prod", "web")])
    }

    /// Helm renders an unset value as an empty string: `SetDefaults_Service` makes an empty
    /// protocol TCP and an empty targetPort the port.
    @Test func emptyProtocolAndTargetPortAreDefaulted() throws {
        let t = try timeline(
            T.scenario(resources: service("web", "selector: {app: web}\nports: [{port: 80, protocol: '', targetPort: ''}]")))
        let web = try #require(t.initial.services[ObjectKey("prod", "web")])
        #expect(web.ports == [ServicePort(name: nil, proto: .tcp, port: 80, target: .number(80))])
    }

    @Test func allocationIsDeterministicAndSkipsPinnedAndReserved() throws {
        let t = try timeline(
            T.scenario(
                resources: service("a", "clusterIP: 10.96.1.2\nselector: {app: web}\nports: [{port: 80}]") + "\n"
                    + service("b", "selector: {app: web}\nports: [{port: 80}]") + "\n"
                    + service("c", "selector: {app: api}\nports: [{port: 80}]")))
        #expect(t.initial.services[ObjectKey("prod", "a")]?.clusterIP == IPv4("10.96.1.2"))
        #expect(t.initial.services[ObjectKey("prod", "b")]?.clusterIP == IPv4("10.96.1.1"))
        #expect(t.initial.services[ObjectKey("prod", "c")]?.clusterIP == IPv4("10.96.1.3"))
        #expect(ServiceAddresses.allocate(in: ServiceAddresses.defaultCIDR, taken: []) == IPv4("10.96.1.1"))
        #expect(ServiceAddresses.reserved(in: ServiceAddresses.defaultCIDR).contains(IPv4(0x0A60_000A)), "10.96.0.10 is kube-dns's")
    }

    /// KEP-3070 (ServiceIPStaticSubrange, GA in 1.26): automatic ClusterIPs come from above the
    /// static subrange (`min(max(16, size/16), 256)` addresses: 10.96.0.1-10.96.1.0 of a /16), so
    /// a Service applied later, or later in one batch, may pin an address there; the lower part
    /// is used once the upper one is full, and a /28 has no static subrange.
    @Test func aLaterServiceMayPinAnAddressOfTheStaticSubrange() throws {
        let t = try timeline(
            T.scenario(
                resources: service("a", "selector: {app: web}\nports: [{port: 80}]") + "\n"
                    + service("b", "clusterIP: 10.96.0.11\nselector: {app: web}\nports: [{port: 80}]"),
                steps: """
                    - apply:
                        - {apiVersion: v1, kind: Service, metadata: {name: c, namespace: prod}, spec: {clusterIP: 10.96.0.12, selector: {app: web}, ports: [{port: 80}]}}
                    """))
        #expect(t.initial.services[ObjectKey("prod", "a")]?.clusterIP == IPv4("10.96.1.1"))
        #expect(t.initial.services[ObjectKey("prod", "b")]?.clusterIP == IPv4("10.96.0.11"))
        #expect(t.cluster(afterStep: 1).services[ObjectKey("prod", "c")]?.clusterIP == IPv4("10.96.0.12"))
        let cidr = ServiceAddresses.defaultCIDR
        #expect(ServiceAddresses.staticOffset(of: cidr) == 256)
        let upper = Set((0x0A60_0101...0x0A60_FFFE).map { IPv4(UInt32($0)) })
        #expect(ServiceAddresses.allocate(in: cidr, taken: upper) == IPv4("10.96.0.2"))
        let small = try #require(CIDR.parseExact("10.96.0.0/28"))
        #expect(ServiceAddresses.staticOffset(of: small) == 0)
        #expect(ServiceAddresses.allocate(in: small, taken: []) == IPv4("10.96.0.2"))
    }

    @Test func targetPortByNameResolvesPerBackendPod() throws {
        let t = try timeline(
            T.scenario(
                resources: service("web", "selector: {app: web}\nports: [{port: 8000, targetPort: http}]") + "\n"
                    + service("api", "selector: {app: api}\nports: [{port: 8000, targetPort: http}]")))
        let web = try #require(t.initial.services[ObjectKey("prod", "web")])
        #expect(t.initial.backends(of: web, port: web.ports[0]).map(\.target) == [ProtocolPort(.tcp, 80)])
        let api = try #require(t.initial.services[ObjectKey("prod", "api")])
        #expect(t.initial.backends(of: api, port: api.ports[0]).isEmpty, "prod/api declares no port named http")
        // A backend serves a target port it does not declare.
        let numbered = try timeline(T.scenario(resources: service("api", "selector: {app: api}\nports: [{port: 80, targetPort: 9090}]")))
        #expect(
            numbered.initial.servedPortsIncludingServices(of: ObjectKey("prod", "api")) == [
                ProtocolPort(.tcp, 8080), ProtocolPort(.tcp, 9090),
            ])
    }

    @Test func headlessExternalNameAndNodePort() throws {
        let text = T.scenario(
            resources: service("h", "clusterIP: None\nselector: {app: web}") + "\n"
                + service("x", "type: ExternalName\nexternalName: example.com") + "\n"
                + service("n", "type: NodePort\nselector: {app: web}\nports: [{port: 80, nodePort: 30080}]"))
        let scenario = try ScenarioLoader.parse(text, file: "ok.yaml")
        // NodePort is built now (node ports on every node): no warning any more.
        #expect(!scenario.warnings.contains { $0.message.contains("NodePort") })
        let t = try Timeline(scenario)
        #expect(t.initial.services[ObjectKey("prod", "h")]?.address == .headless)
        #expect(t.initial.services[ObjectKey("prod", "x")]?.address == Service.Address.none)
        #expect(t.initial.services[ObjectKey("prod", "n")]?.clusterIP == IPv4("10.96.1.1"))
        #expect(t.initial.services[ObjectKey("prod", "n")]?.ports.first?.nodePort == 30080)
    }

    @Test(arguments: [
        ("ports: [{port: 80}, {port: 81}]", "needs a name on each port"),
        ("ports: [{name: a, port: 80}, {name: a, port: 81}]", "port name \"a\" is used twice"),
        ("ports: [{name: a, port: 80}, {name: b, port: 80}]", "TCP/80 is listed twice"),
        ("ports: [{port: 0}]", "port must be an integer from 1 to 65535"),
        ("ports: [{port: 80, protocol: tcp}]", "protocol \"tcp\" is not one of TCP, UDP, SCTP"),
        ("ports: [{port: 80, targetPort: Not_A_Name}]", "targetPort \"Not_A_Name\""),
        ("selector: {app: web}", "needs spec.ports"),
        ("clusterIP: 10.97.0.1\nports: [{port: 80}]", "is not inside the service CIDR 10.96.0.0/16"),
        ("clusterIP: nope\nports: [{port: 80}]", "is not an IPv4 address or None"),
        ("type: Ingress\nports: [{port: 80}]", "spec.type must be one of"),
        ("type: ExternalName", "needs spec.externalName"),
    ])
    func invalidServicesAreRefusedWhereWritten(spec: String, message: String) throws {
        let error = try #require(parseErrorOrTimelineError(T.scenario(resources: service("s", spec))))
        #expect(error.message.contains(message), "\(error.message)")
        #expect(error.location.line > 1)
    }

    @Test func clusterIPCollisionAndImmutability() throws {
        let twice = T.scenario(
            resources: service("a", "clusterIP: 10.96.0.20\nports: [{port: 80}]") + "\n"
                + service("b", "clusterIP: 10.96.0.20\nports: [{port: 80}]"))
        #expect(parseErrorOrTimelineError(twice)?.message.contains("already allocated to Service prod/a") == true)
        let changed = T.scenario(
            resources: service("a", "clusterIP: 10.96.0.20\nports: [{port: 80}]"),
            steps: """
                - apply:
                    - {apiVersion: v1, kind: Service, metadata: {name: a, namespace: prod}, spec: {clusterIP: 10.96.0.21, ports: [{port: 80}]}}
                """)
        #expect(parseErrorOrTimelineError(changed)?.message.contains("spec.clusterIP is immutable") == true)
    }

    /// `apply` keeps one record of the ClusterIPs held as it stores a batch's Services: an address
    /// allocated earlier in the batch is taken for a later pin or allocation, one an ExternalName
    /// update released is free again.
    @Test func clusterIPsHeldAreTrackedThroughABatchAndAcrossSteps() throws {
        let sameBatch = T.scenario(
            resources: service("a", "ports: [{port: 80}]") + "\n" + service("b", "clusterIP: 10.96.1.1\nports: [{port: 80}]"))
        #expect(
            parseErrorOrTimelineError(sameBatch)?.message.contains("clusterIP 10.96.1.1 is already allocated to Service prod/a") == true)
        let t = try timeline(
            T.scenario(
                resources: service("a", "ports: [{port: 80}]"),
                steps: """
                    - apply:
                        - {apiVersion: v1, kind: Service, metadata: {name: a, namespace: prod}, spec: {type: ExternalName, externalName: a.example}}
                        - {apiVersion: v1, kind: Service, metadata: {name: b, namespace: prod}, spec: {clusterIP: 10.96.1.1, ports: [{port: 80}]}}
                        - {apiVersion: v1, kind: Service, metadata: {name: c, namespace: prod}, spec: {ports: [{port: 80}]}}
                    """))
        #expect(t.initial.services[ObjectKey("prod", "a")]?.clusterIP == IPv4("10.96.1.1"))
        let after = t.cluster(afterStep: 1)
        #expect(after.services[ObjectKey("prod", "a")]?.clusterIP == nil)
        #expect(after.services[ObjectKey("prod", "b")]?.clusterIP == IPv4("10.96.1.1"))
        #expect(after.services[ObjectKey("prod", "c")]?.clusterIP == IPv4("10.96.1.2"))
    }

    @Test func labServiceSettings() throws {
        let head = T.head.replacingOccurrences(
            of: "\nspec:\n  resources:", with: "\nspec:\n  lab: {serviceCIDR: 10.100.0.0/16, serviceEnforcement: pre-dnat}\n  resources:")
        let scenario = try ScenarioLoader.parse(T.scenario(head: head), file: "ok.yaml")
        #expect(scenario.lab.serviceCIDR == CIDR.parse("10.100.0.0/16"))
        #expect(scenario.lab.serviceEnforcement == .preDNAT)
        for (lab, message) in [
            ("{serviceCIDR: 10.244.0.0/20}", "overlaps the pod CIDR"),
            ("{serviceCIDR: 100.64.0.0/24}", "which the lab reserves"),
            ("{serviceCIDR: 10.96.0.1/16}", "has host bits set"),
            ("{serviceEnforcement: before}", "must be post-dnat or pre-dnat"),
        ] {
            let bad = T.head.replacingOccurrences(of: "\nspec:\n  resources:", with: "\nspec:\n  lab: \(lab)\n  resources:")
            #expect(parseError(T.scenario(head: bad))?.message.contains(message) == true, "\(lab)")
        }
    }

    @Test func endpointsFollowThePodsAtEveryStep() throws {
        let t = try timeline(
            T.scenario(
                resources: service("web", "selector: {tier: front}\nports: [{port: 80}]"),
                steps: """
                    - label: {kind: Pod, namespace: prod, name: web, labels: {tier: front}}
                    - label: {kind: Pod, namespace: prod, name: api, labels: {tier: front}}
                    - delete: [{kind: Pod, namespace: prod, name: web}]
                    """))
        let key = ObjectKey("prod", "web")
        func backends(_ step: Int) -> [String] {
            let cluster = t.cluster(afterStep: step)
            guard let service = cluster.services[key] else { return [] }
            return cluster.backends(of: service, port: service.ports[0]).map(\.pod.description)
        }
        #expect(t.initial.backendPods(of: t.initial.services[key]!).isEmpty)
        #expect(backends(1) == ["prod/web"])
        #expect(backends(2) == ["prod/api", "prod/web"])
        #expect(backends(3) == ["prod/api"])
    }
}

/// The error of parsing `text` or of building its timeline (ClusterIPs are checked when applied).
private func parseErrorOrTimelineError(_ text: String) -> ScenarioError? {
    do throws(ScenarioError) {
        _ = try Timeline(ScenarioLoader.parse(text, file: "bad.yaml"))
        return nil
    } catch {
        return error
    }
}

@Suite("Service probes: svc/ns/name cells, one per backend")
struct ServiceProbeCellTests {
    static let text = T.scenario(
        resources: service("web", "selector: {app: web}\nports: [{name: http, port: 8000, targetPort: http}]") + "\n"
            + T.policy(
                """
                podSelector: {matchLabels: {app: web}}
                ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: http}]}]
                """),
        steps: """
            - probe: {from: [prod/api, prod/web], to: [svc/prod/web], ports: [TCP/8000]}
              expect:
                TCP/8000: |
                  -         svc/prod/web
                  prod/api  .
                  prod/web  #
            """)

    @Test func endpointsParseAndPrint() {
        #expect(Endpoint.parse("svc/prod/web") == .service(ObjectKey("prod", "web")))
        #expect(Endpoint.parse("svc/prod/web>prod/web-1") == .service(ObjectKey("prod", "web"), backend: ObjectKey("prod", "web-1")))
        #expect(Endpoint.service(ObjectKey("prod", "web"), backend: ObjectKey("prod", "w")).description == "svc/prod/web>prod/w")
        #expect(Endpoint.parse("svc/prod") == nil)
        #expect(Endpoint.parse("svc/prod/web>nope") == nil)
    }

    @Test func aServiceCellPerBackendJudgedOnTheTargetPort() throws {
        let t = try timeline(Self.text)
        let cells = t.cells(ofProbeStep: 1)
        #expect(cells.map(\.to.description) == ["svc/prod/web>prod/web", "svc/prod/web>prod/web"])
        #expect(cells.map(\.from.name) == ["api", "web"])
        // api -> web through the Service: 8000 becomes 80 (the port named http on prod/web).
        #expect(cells[0].verdict.decision == .allow)
        #expect(cells[0].verdict.ingress.allowingRules.count == 1)
        #expect(cells[0].expected == .explicit(.allow))
        #expect(cells[1].expected == .ignored, "the table marks web reaching itself through its Service (hairpin) #")
        #expect(cells[1].isHairpin && !cells[0].isHairpin)
        // Written as a mark, a hairpin cell's expectation stands (and is checked against the model).
        let marked = try timeline(Self.text.replacingOccurrences(of: "prod/web  #", with: "prod/web  ."))
        #expect(marked.cells(ofProbeStep: 1)[1].expected == .explicit(.allow))
    }

    @Test func serviceProbesAreCheckedWhereWritten() {
        let missing = T.scenario(steps: "- probe: {from: [prod/api], to: [svc/prod/nope], ports: [TCP/80]}")
        #expect(parseError(missing)?.message.contains("Service prod/nope does not exist") == true)
        let wrongPort = T.scenario(
            resources: service("web", "selector: {app: web}\nports: [{port: 8000}]"),
            steps: "- probe: {from: [prod/api], to: [svc/prod/web], ports: [TCP/80]}")
        #expect(parseError(wrongPort)?.message.contains("has no port TCP/80") == true)
        let headless = T.scenario(
            resources: service("web", "clusterIP: None\nselector: {app: web}"),
            steps: "- probe: {from: [prod/api], to: [svc/prod/web], ports: [TCP/80]}")
        #expect(parseError(headless)?.message.contains("has no ClusterIP") == true)
    }
}
