import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

private typealias T = ScenarioText

/// Externals as probe and scan sources (issue 18): parsing, the model's verdicts, the file's rows.
@Suite("External sources")
struct ExternalSourceTests {
    static let externals = """
          externals:
            - {name: client, ip: 203.0.113.50}
            - {name: other, ip: 198.51.100.7}

        """

    static let service =
        "- {apiVersion: v1, kind: Service, metadata: {name: web, namespace: prod}, spec: {selector: {app: web}, ports: [{port: 80}]}}"

    /// Only an ipBlock selects an external source; a namespaceSelector {} (every pod) does not.
    static let ipBlockOnly = T.policy(
        """
        podSelector: {matchLabels: {app: web}}
        ingress:
          - from: [{ipBlock: {cidr: 203.0.113.0/24}}, {namespaceSelector: {}}]
        """)

    @Test func probeFromExternalsFollowsIngressIPBlock() throws {
        let t = try timeline(
            T.scenario(
                resources: Self.ipBlockOnly + "\n" + Self.service,
                steps: """
                    - probe: {from: [external/client, external/other], to: [prod/web, prod/api, svc/prod/web], ports: [TCP/80]}
                      expect:
                        TCP/80: |
                          -                prod/web  prod/api  svc/prod/web
                          external/client  .         .         X
                          external/other   X         .         X
                    """) + Self.externals)
        let probe = try #require(t.probes[1])
        #expect(probe.sources == [.external("client"), .external("other")])
        let cells = t.cells(ofProbeStep: 1)
        func decision(_ from: String, _ to: Endpoint) -> Decision? {
            cells.first { $0.from == .external(from) && $0.to == to }?.verdict.decision
        }
        #expect(decision("client", .pod(ObjectKey("prod", "web"))) == .allow)
        #expect(decision("other", .pod(ObjectKey("prod", "web"))) == .deny)
        // Not isolated for ingress: any external reaches api.
        #expect(decision("other", .pod(ObjectKey("prod", "api"))) == .allow)
        // The ClusterIP is cluster-internal: denied from outside, though web's rule admits client.
        #expect(decision("client", .service(ObjectKey("prod", "web"), backend: ObjectKey("prod", "web"))) == .deny)
        // The verdict names the external as its source, and the file's table agrees with the model.
        #expect(cells.allSatisfy { $0.verdict.from == .written($0.from) })
        #expect(ModelReport.build(t).passed)
    }

    /// A table that lets the unlisted external in disagrees with the model: the ipBlock decides.
    @Test func wrongTableForExternalFails() throws {
        let t = try timeline(
            T.scenario(
                resources: Self.ipBlockOnly,
                steps: """
                    - probe: {from: [external/other], to: [prod/web], ports: [TCP/80]}
                      expect:
                        TCP/80: |
                          -               prod/web
                          external/other  .
                    """) + Self.externals)
        #expect(!ModelReport.build(t).passed)
    }

    @Test func scanFromExternal() throws {
        let t = try timeline(
            T.scenario(
                resources: Self.ipBlockOnly,
                steps: """
                    - scan: {from: external/other, targets: pods, ports: [80, 8080]}
                      expect: {open: [prod/api:8080]}
                    """) + Self.externals)
        let scan = try #require(t.scans[1])
        #expect(scan.sources == [.external("other")])
        #expect(ModelReport.build(t).passed)
    }

    @Test func undeclaredExternalSourceIsRefused() throws {
        let text = T.scenario(steps: "- probe: {from: [external/nobody], to: [prod/web], ports: [TCP/80]}") + Self.externals
        #expect(throws: ScenarioError.self) { try Timeline(ScenarioLoader.parse(text, file: "bad.yaml")) }
        let scan = T.scenario(steps: "- scan: {from: external/nobody, targets: pods, ports: [80]}") + Self.externals
        #expect(throws: ScenarioError.self) { try Timeline(ScenarioLoader.parse(scan, file: "bad.yaml")) }
    }

    @Test func sourceKeys() {
        #expect(ObjectKey.external("client").description == "external/client")
        #expect(Endpoint.written(.external("client")) == .external("client"))
        #expect(Endpoint.written(ObjectKey("prod", "web")) == .pod(ObjectKey("prod", "web")))
    }
}
