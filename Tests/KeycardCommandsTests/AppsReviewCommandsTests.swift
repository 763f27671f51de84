import Foundation
import KeycardTestSupport
import Testing

/// The apps review (/tmp/rev-apps2) through the built binary: check loads manifests as one
/// cluster, diff and graph see the ports the lab serves and the mesh's decisions, lint reports
/// other CNIs' policies, and the why table of a denied hairpin.
@Suite("apps review on the command line")
struct AppsReviewCommandsTests {
    /// A fresh folder with `files` (relative path -> text), removed after `body`.
    private func withFolder(_ files: [String: String], _ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-apps-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        for (name, text) in files {
            let file = (path as NSString).appendingPathComponent(name)
            try FileManager.default.createDirectory(
                atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: file, atomically: true, encoding: .utf8)
        }
        try body(path)
    }

    static let web = """
        apiVersion: v1
        kind: Pod
        metadata: {name: web, labels: {app: web}}
        spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec: {clusterIP: 10.96.0.50, selector: {app: web}, ports: [{port: 80}]}

        """

    static let other = """
        apiVersion: v1
        kind: Service
        metadata: {name: other}
        spec: {clusterIP: 10.96.0.50, selector: {app: web}, ports: [{port: 81}]}

        """

    /// Two folders whose Services take one clusterIP: model refuses them together, and so does
    /// check now; a scenario file beside them is still checked on its own.
    @Test func checkLoadsManifestsAsOneCluster() throws {
        try withFolder(["app/app.yaml": Self.web, "extra/svc.yaml": Self.other]) { folder in
            let app = (folder as NSString).appendingPathComponent("app")
            let extra = (folder as NSString).appendingPathComponent("extra")
            let check = try KeycardBinary.run(["check", app, extra])
            #expect(check.status == 2, "\(check.stdout)")
            #expect(check.stderr.contains("clusterIP 10.96.0.50 is already allocated to Service default/web"), "\(check.stderr)")
            let blueprint = RepositoryFiles.absolute("scenarios/zero-trust-blueprint.yaml")
            let alone = try KeycardBinary.run(["check", app, blueprint])
            #expect(alone.status == 0, "\(alone.stderr)")
            #expect(alone.stdout.contains("\(app): ok") && alone.stdout.contains("\(blueprint): ok"), "\(alone.stdout)")
        }
    }

    static let deathstar = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: deathstar}
        spec:
          replicas: 1
          selector: {matchLabels: {org: empire, class: deathstar}}
          template:
            metadata: {labels: {org: empire, class: deathstar}}
            spec: {containers: [{name: deathstar, image: quay.io/cilium/starwars:v2.1}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: deathstar}
        spec: {selector: {org: empire, class: deathstar}, ports: [{port: 80}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: xwing, labels: {org: alliance, class: xwing}}
        spec: {containers: [{name: spaceship, image: quay.io/cilium/json-mock:v1.3.8}]}

        """

    static let rule1 = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: rule1}
        spec:
          podSelector: {matchLabels: {org: empire, class: deathstar}}
          ingress:
          - from: [{podSelector: {matchLabels: {org: empire}}}]
            ports: [{port: 80}]

        """

    /// A backend that declares no container port still serves its Service's target port: the
    /// policy that closes it to the xwing is a removed row, and the graph draws the edge before.
    @Test func diffAndGraphSeeServiceTargetPorts() throws {
        try withFolder(["old/app.yaml": Self.deathstar, "new/app.yaml": Self.deathstar, "new/policy.yaml": Self.rule1]) { folder in
            let old = (folder as NSString).appendingPathComponent("old")
            let new = (folder as NSString).appendingPathComponent("new")
            let diff = try KeycardBinary.run(["diff", old, new, "--fail-on", "removed"])
            #expect(diff.status == 1, "\(diff.stdout)\(diff.stderr)")
            #expect(
                diff.stdout.contains(
                    "diff-type: removed, source: default/xwing[Pod], destination: default/deathstar[Deployment], dir1: TCP 80, dir2: No Connections"
                ), "\(diff.stdout)")
            let graph = try KeycardBinary.run(["graph", old])
            #expect(graph.status == 0, "\(graph.stderr)")
            #expect(graph.stdout.contains("TCP 80"), "\(graph.stdout)")
        }
    }

    static func meshScenario(denyAll: Bool) -> String {
        let head = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: dm}
            spec:
              resources:
              - {apiVersion: v1, kind: Namespace, metadata: {name: shop, labels: {istio-injection: enabled}}}
              - apiVersion: v1
                kind: Pod
                metadata: {name: web, namespace: shop, labels: {app: web}}
                spec: {containers: [{name: c, image: x, ports: [{containerPort: 8080, name: http}]}]}
              - apiVersion: v1
                kind: Pod
                metadata: {name: client, namespace: shop, labels: {app: client}}
                spec: {containers: [{name: c, image: x}]}

            """
        let deny = """
              - apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: deny-all, namespace: shop}
                spec: {action: DENY, rules: [{}]}

            """
        return head + (denyAll ? deny : "") + "  steps: []\n"
    }

    /// A DENY-all AuthorizationPolicy closes what NetworkPolicy leaves open: diff says so, as
    /// model does; --prove, whose labs run no mesh proxy, is refused.
    @Test func diffIncludesTheMesh() throws {
        try withFolder(["old.yaml": Self.meshScenario(denyAll: false), "new.yaml": Self.meshScenario(denyAll: true)]) { folder in
            let old = (folder as NSString).appendingPathComponent("old.yaml")
            let new = (folder as NSString).appendingPathComponent("new.yaml")
            let diff = try KeycardBinary.run(["diff", old, new, "--fail-on", "removed"])
            #expect(diff.status == 1, "\(diff.stdout)\(diff.stderr)")
            #expect(
                diff.stdout.contains(
                    "diff-type: removed, source: shop/client[Pod], destination: shop/web[Pod], dir1: TCP 8080, dir2: No Connections"),
                "\(diff.stdout)")
            let prove = try KeycardBinary.run(["diff", old, new, "--prove"])
            #expect(prove.status == 2 && prove.stderr.contains("the proof's labs run no mesh proxy"), "\(prove.stderr)")
        }
    }

    /// The starwars demo's CiliumNetworkPolicy is a lint finding, in SARIF too.
    @Test func lintReportsAnotherCNIsPolicy() throws {
        let cilium = """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: rule1}
            spec:
              endpointSelector: {matchLabels: {org: empire, class: deathstar}}

            """
        try withFolder(["app.yaml": Self.deathstar, "policy.yaml": cilium]) { folder in
            let table = try KeycardBinary.run(["lint", folder, "--fail-on", "none"])
            #expect(table.status == 0, "\(table.stderr)")
            #expect(
                table.stdout.contains(
                    "policy.yaml:1:1: warning: [foreign-network-policy] CiliumNetworkPolicy default/rule1 (cilium.io/v2) is Cilium's network policy"
                ), "\(table.stdout)")
            #expect(table.stdout.contains("which keycard skips, may select it in a cluster running Cilium"), "\(table.stdout)")
            let sarif = try KeycardBinary.run(["lint", folder, "-o", "sarif", "--fail-on", "none"])
            #expect(
                sarif.stdout.contains("\"ruleId\" : \"foreign-network-policy\"")
                    || sarif.stdout.contains("\"ruleId\":\"foreign-network-policy\""), "\(sarif.stdout)")
        }
    }

    /// A pod reaching itself through its Service, denied by a ClusterNetworkPolicy: X, and the
    /// why table says I (the destination's ingress), not # (self).
    @Test func deniedHairpinWhyIsIngress() throws {
        let text = """
            apiVersion: v1
            kind: Pod
            metadata: {name: a, labels: {app: a}}
            spec: {containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: a}
            spec: {selector: {app: a}, ports: [{port: 80}]}
            ---
            apiVersion: policy.networking.k8s.io/v1alpha2
            kind: ClusterNetworkPolicy
            metadata: {name: deny-all}
            spec:
              tier: Admin
              priority: 1
              subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: default}}}
              ingress:
              - action: Deny
                from: [{namespaces: {}}]

            """
        try withFolder(["a.yaml": text]) { folder in
            let model = try KeycardBinary.run(["model", (folder as NSString).appendingPathComponent("a.yaml")])
            #expect(model.status == 0, "\(model.stderr)")
            #expect(
                model.stdout.contains("  TCP/80     svc/default/a\n  default/a  X\n  why        svc/default/a\n  default/a  I\n"),
                "\(model.stdout)")
        }
    }
}
