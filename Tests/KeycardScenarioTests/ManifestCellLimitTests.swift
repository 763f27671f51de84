import Foundation
import KeycardModel
import KeycardTestSupport
import Testing

@testable import KeycardScenario

@Suite("Probe cell limit: commands that judge no cell load over it")
struct ManifestCellLimitTests {
    /// Model and run refuse the implicit step, and the message tells a manifests user what they
    /// can do: there is no probe step of theirs to name from, to or ports in.
    @Test func manifestsOverTheLimitAreRefusedWithWhatToDoInstead() throws {
        let folder = try OversizedManifests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        do {
            _ = try ManifestLoader.timeline([folder])
            Issue.record("the implicit probe step over the limit loaded")
        } catch {
            #expect(error.message.contains("1002 sources x 2004 destination cells"), "\(error)")
            #expect(error.message.contains("= 2008008 cells; keycard judges at most 1000000"), "\(error)")
            #expect(!error.message.contains("name from, to or ports"), "\(error)")
            #expect(error.message.contains("check, lint, graph, diff, explain and rules read these manifests"), "\(error)")
            #expect(error.message.contains("spec.resources: - file: PATH"), "\(error)")
        }
    }

    /// With `CellLimit.warn` the manifests load: the step is resolved, one warning says it is over
    /// the limit, and the graph draws its allowed edges but no denied one.
    @Test func manifestsOverTheLimitLoadWithAWarningForCommandsThatJudgeNoCell() throws {
        let folder = try OversizedManifests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let timeline = try ManifestLoader.timeline([folder], cellLimit: .warn)
        let probe = try #require(timeline.probes[1])
        #expect(probe.cellCount == 2_008_008)
        #expect(probe.isOverCellLimit)
        let warnings = timeline.cellLimitWarnings
        #expect(warnings.count == 1)
        #expect(warnings.first?.message.contains("= 2008008 cells") == true)
        #expect(warnings.first?.message.contains("graph draws no denied edge") == true)
        #expect(timeline.warnings.contains { $0.message.contains("2008008 cells") })
        let graph = ConnectivityGraph(timeline)
        #expect(graph.peers.map(\.name) == ["shop/client[Pod]", "shop/web[Deployment]"])
        // Ingress is denied everywhere: no allowed edge, and no dashed one for the oversized step.
        #expect(graph.edges.isEmpty)
    }

    /// The same manifests within the limit (one replica) draw the denied pairs dashed, so the
    /// oversized case above is left out for its size, not for want of denied pairs.
    @Test func withinTheLimitTheGraphDrawsDeniedEdges() throws {
        let folder = try OversizedManifests.folder(OversizedManifests.text.replacingOccurrences(of: "replicas: 1001", with: "replicas: 1"))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let timeline = try ManifestLoader.timeline([folder])
        #expect(timeline.cellLimitWarnings.isEmpty)
        let denied = ConnectivityGraph(timeline).edges.filter { !$0.allowed }
        #expect(
            denied.map { "\($0.source) -> \($0.destination)" }.sorted() == [
                "shop/client[Pod] -> shop/web[Deployment]", "shop/web[Deployment] -> shop/client[Pod]",
            ])
    }

    /// A scenario file's own step over the limit: refused by default with "name from, to or ports"
    /// (the step is its author's), loaded with a warning under `CellLimit.warn`.
    @Test func aScenarioStepOverTheLimit() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: big}
            spec:
              resources:
                - {apiVersion: apps/v1, kind: Deployment, metadata: {name: web}, spec: {replicas: 1001, selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}}}}
              steps:
                - probe: {}

            """
        #expect(throws: ScenarioError.self) { try ScenarioLoader.parseTimeline(text, file: "big.yaml") }
        do {
            _ = try ScenarioLoader.parseTimeline(text, file: "big.yaml")
        } catch {
            #expect(error.description.hasPrefix("big.yaml:8:7: probe has 1001 sources x 1001 destination cells"), "\(error)")
            #expect(error.message.hasSuffix("name from, to or ports"), "\(error)")
        }
        let timeline = try ScenarioLoader.parseTimeline(text, file: "big.yaml", cellLimit: .warn)
        #expect(timeline.cellLimitWarnings.map(\.location.line) == [8])
        #expect(timeline.cellLimitWarnings.first?.message.contains("name from, to or ports") == true)
    }
}

/// keycard's cluster DNS pod in manifests mode is no peer of the diff or the graph, as it is no
/// probe source or destination of `keycard model` (docs/scenario-format.md, Manifests mode).
@Suite("Manifests mode leaves keycard's DNS pod out of the diff and the graph")
struct ManifestDNSPeerTests {
    static let old = """
        apiVersion: v1
        kind: Pod
        metadata: {name: web, namespace: shop, labels: {app: web}}
        spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: client, namespace: shop, labels: {app: client}}
        spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: web, namespace: shop}
        spec:
          podSelector: {matchLabels: {app: web}}
          ingress: [{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{port: 80}]}]

        """
    /// A policy isolates the client's ingress (the DNS pod's connection to it is closed too).
    static let new =
        old
        + "---\n{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: client, namespace: shop}, spec: {podSelector: {matchLabels: {app: client}}, policyTypes: [Ingress]}}\n"

    @Test func diffAndGraphNameNoDNSPod() throws {
        let oldFolder = try OversizedManifests.folder(Self.old)
        let newFolder = try OversizedManifests.folder(Self.new)
        defer {
            try? FileManager.default.removeItem(atPath: oldFolder)
            try? FileManager.default.removeItem(atPath: newFolder)
        }
        let before = try ManifestLoader.timeline([oldFolder])
        let after = try ManifestLoader.timeline([newFolder])
        // The DNS pod is in the cluster (policies select it, pods query it) ...
        #expect(before.cluster(afterStep: 0).pods[ClusterDNS.podKey] != nil)
        #expect(before.unpairedPods == [ClusterDNS.podKey])
        // ... but no row or peer names it: the only change is the web's access to the client.
        let rows = ConnectivityDiff.compare(old: before, afterStep: 0, new: after, afterStep: 0)
        #expect(
            rows.map { "\($0.diffType) \($0.source) -> \($0.destination)" } == [
                "removed 0.0.0.0-255.255.255.255[External] -> shop/client[Pod]", "removed shop/web[Pod] -> shop/client[Pod]",
            ])
        let graph = ConnectivityGraph(before)
        #expect(graph.peers.map(\.name) == ["shop/client[Pod]", "shop/web[Pod]"])
        #expect(!graph.edges.contains { $0.source.name.contains("kube-dns") || $0.destination.name.contains("kube-dns") })
    }

    /// A scenario that turns cluster DNS on keeps the DNS pod in its diff: its egress rules towards
    /// it are what it reviews (the blueprint's DNS rows, `DiffTests`).
    @Test func aScenarioKeepsIt() throws {
        let timeline = try timeline(
            """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: dns}
            spec:
              lab: {dns: true}
              resources:
                - {apiVersion: v1, kind: Pod, metadata: {name: a, labels: {app: a}}, spec: {containers: [{name: c, image: i}]}}
              steps:
                - apply:
                    - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny}, spec: {podSelector: {}, policyTypes: [Egress]}}
            """)
        #expect(timeline.keycardPods == [ClusterDNS.podKey] && timeline.unpairedPods.isEmpty)
        let rows = ConnectivityDiff.compare(old: timeline, afterStep: 0, new: timeline, afterStep: 1)
        // The default deny of egress also takes 0.0.0.0/0 (np-guard's IP-block peer) from the pod.
        #expect(rows.map(\.destination) == ["0.0.0.0-255.255.255.255[External]", "kube-system/kube-dns-0[Pod]"])
    }
}

/// A file whose first document is a scalar or a list is no scenario: it is read as manifests, and
/// refused for what it is (kubectl: "cannot unmarshal string into Go value of type unstructured.detector").
@Suite("A manifest document that is not an object")
struct ManifestNotAnObjectTests {
    @Test(arguments: [
        ("hello\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n", "a scalar", "string"), ("- a\n- b\n", "a list", "array"),
        ("[{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"shop\"}}]\n", "a list", "array"),
    ])
    func scalarOrListFirstDocument(text: String, found: String, goType: String) throws {
        let folder = try OversizedManifests.folder(text, name: "odd.yaml")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = (folder as NSString).appendingPathComponent("odd.yaml")
        #expect(ManifestLoader.isManifests(file))
        do {
            _ = try ManifestLoader.timeline([file])
            Issue.record("a \(found) document loaded")
        } catch {
            #expect(
                error.description
                    == "\(file):1:1: a manifest document must be a Kubernetes object, a mapping with apiVersion and kind, found \(found) (kubectl: cannot unmarshal \(goType) into Go value of type unstructured.detector); a list of objects is written as kind: List with items, or as documents separated by ---"
            )
        }
    }
}
