import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

/// The mesh with issue 13's workloads and cluster DNS: pod templates carry what the injector reads
/// (spec mesh.md R1), each pod a controller creates meets the injector then (R2), probes name
/// workloads with mesh outcomes, and the cluster DNS pod stays outside the mesh.
@Suite struct MeshWorkloadTests {
    /// A Deployment in prod (1 replica unless said) selecting `app: <name>`, with the template's
    /// extra labels and annotations (flow-style maps' contents).
    static func deployment(_ name: String, replicas: Int = 1, labels: String = "", annotations: String = "", containers: String = "")
        -> String
    {
        let extraLabels = labels.isEmpty ? "" : ", " + labels
        let annotationsText = annotations.isEmpty ? "" : ", annotations: {\(annotations)}"
        let extraContainers = containers.isEmpty ? "" : ", " + containers
        return """
                - apiVersion: apps/v1
                  kind: Deployment
                  metadata: {name: \(name), namespace: prod}
                  spec:
                    replicas: \(replicas)
                    selector: {matchLabels: {app: \(name)}}
                    template:
                      metadata: {labels: {app: \(name)\(extraLabels)}\(annotationsText)}
                      spec: {serviceAccountName: \(name), containers: [{name: c, image: i, ports: [{containerPort: 8080}]}\(extraContainers)]}
            """
    }

    static func scenario(_ resources: [String], steps: String, dns: Bool = false) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: mesh-workloads}
        spec:
        \(dns ? "  lab: {dns: true}\n" : "")  resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: prod}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: legacy}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: legacy}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: default, namespace: istio-system}, spec: {mtls: {mode: STRICT}}}
        \(resources.joined(separator: "\n"))
          steps:
        \(steps)
        """
    }

    static func pods(_ cluster: Cluster, _ workload: String) throws -> [Pod] {
        let key = try #require(WorkloadKey.parse(workload))
        return cluster.pods(of: key)
    }

    @Test("R1: a Deployment's template labels and annotations mesh its pods; a probe to the workload meets STRICT per replica")
    func templateMembership() throws {
        let text = Self.scenario(
            [
                Self.deployment("web", replicas: 2, labels: "sidecar.istio.io/inject: \"true\""),
                Self.deployment("dump", annotations: "sidecar.istio.io/status: '{\"containers\":[\"istio-proxy\"]}'"),
                Self.deployment("proxied", containers: "{name: istio-proxy, image: proxyv2}"),
                Self.deployment("plain"),
            ],
            steps: """
                    - probe: {from: [legacy/client], to: [prod/deployment/web, prod/deployment/dump, prod/deployment/proxied, prod/deployment/plain], ports: [TCP/8080]}
                      expect:
                        TCP/8080: |
                          - prod/deployment/web prod/deployment/dump prod/deployment/proxied prod/deployment/plain
                          legacy/client M M M .
                """)
        let timeline = try ScenarioLoader.parseTimeline(text, file: "mesh-workloads.yaml")
        let cluster = timeline.cluster(afterStep: 0)
        for name in ["web", "dump", "proxied"] {
            let replicas = try Self.pods(cluster, "prod/deployment/\(name)")
            #expect(!replicas.isEmpty)
            for pod in replicas { #expect(cluster.dataPlane(of: pod.key) == .sidecar, "\(pod.key)") }
        }
        #expect(try Self.pods(cluster, "prod/deployment/dump").allSatisfy { $0.annotations["sidecar.istio.io/status"] != nil })
        for pod in try Self.pods(cluster, "prod/deployment/plain") { #expect(cluster.dataPlane(of: pod.key) == .none) }

        let cells = timeline.cells(ofProbeStep: 1)
        #expect(cells.count == 5)
        for cell in cells {
            let workload = try #require(cell.toWorkload)
            #expect(cell.outcome == (workload.name == "plain" ? .allow : .denyMTLS), "\(cell.to)")
            // The table written per workload is each replica's expectation, and the model agrees.
            #expect(cell.result().passed, "\(cell.to)")
            #expect(cell.result().toWorkload == workload)
        }
        #expect(cells.filter { $0.toWorkload?.name == "web" }.count == 2)
    }

    @Test("R2: relabelling the namespace meshes only the pods its controllers create afterwards")
    func injectionAtCreation() throws {
        let text = Self.scenario(
            [Self.deployment("web", replicas: 1)],
            steps: """
                    - label: {kind: Namespace, name: prod, labels: {istio-injection: enabled}}
                    - scale: {workload: prod/deployment/web, replicas: 2}
                    - probe: {from: [legacy/client], to: [prod/deployment/web], ports: [TCP/8080]}
                """)
        let timeline = try ScenarioLoader.parseTimeline(text, file: "mesh-workloads.yaml")
        let before = try Self.pods(timeline.cluster(afterStep: 1), "prod/deployment/web")
        try #require(before.count == 1)
        #expect(timeline.cluster(afterStep: 1).dataPlane(of: before[0].key) == .none)

        let after = timeline.cluster(afterStep: 2)
        let replicas = try Self.pods(after, "prod/deployment/web")
        try #require(replicas.count == 2)
        let old = try #require(replicas.first { $0.key == before[0].key })
        let new = try #require(replicas.first { $0.key != before[0].key })
        #expect(after.dataPlane(of: old.key) == .none)
        #expect(after.dataPlane(of: new.key) == .sidecar)

        let outcomes = Dictionary(uniqueKeysWithValues: timeline.cells(ofProbeStep: 3).map { ($0.to, $0.outcome) })
        #expect(outcomes[.pod(old.key)] == .allow)
        #expect(outcomes[.pod(new.key)] == .denyMTLS)
    }

    @Test("R2: a rollout's new pods meet the injector; changing the template's injection label rolls out")
    func rolloutReinjects() throws {
        let text = Self.scenario(
            [Self.deployment("web", replicas: 1)],
            steps: "    - apply:\n" + MeshText.indent(Self.deployment("web", replicas: 1, labels: "sidecar.istio.io/inject: \"true\""), 4))
        let timeline = try ScenarioLoader.parseTimeline(text, file: "mesh-workloads.yaml")
        let before = try Self.pods(timeline.cluster(afterStep: 0), "prod/deployment/web")
        let after = try Self.pods(timeline.cluster(afterStep: 1), "prod/deployment/web")
        try #require(before.count == 1 && after.count == 1)
        #expect(before[0].key != after[0].key, "a new template is a new ReplicaSet")
        #expect(timeline.cluster(afterStep: 1).dataPlane(of: after[0].key) == .sidecar)
        #expect(!timeline.cluster(afterStep: 1).sidecars.contains(before[0].key))
    }

    @Test("the template hash covers what the injector reads: annotations and an istio-proxy container")
    func templateHashCoversMesh() {
        let plain = Pod(namespace: "prod", name: "", labels: ["app": "web"])
        var annotated = plain
        annotated.annotations = ["sidecar.istio.io/status": "{}"]
        var proxied = plain
        proxied.containerNames = ["c", "istio-proxy"]
        var named = plain
        named.containerNames = ["c"]
        let hash = WorkloadController.templateHash(plain)
        #expect(WorkloadController.templateHash(annotated) != hash)
        #expect(WorkloadController.templateHash(proxied) != hash)
        // The whole template is hashed (`controller.ComputeHash`): any container name counts.
        #expect(WorkloadController.templateHash(named) != hash)
        #expect(WorkloadController.templateHash(named) != WorkloadController.templateHash(proxied))
        #expect(WorkloadController.templateHash(plain) == hash, "the same template, the same hash")
    }

    @Test("deleting a workload forgets its pods' sidecars; deleting the namespace forgets everything in it")
    func deleteForgetsSidecars() throws {
        let text = Self.scenario(
            [Self.deployment("web", replicas: 2, labels: "sidecar.istio.io/inject: \"true\"")],
            steps: """
                    - delete: [{kind: Deployment, namespace: prod, name: web}]
                """)
        let timeline = try ScenarioLoader.parseTimeline(text, file: "mesh-workloads.yaml")
        #expect(timeline.cluster(afterStep: 0).sidecars.count == 2)
        #expect(timeline.cluster(afterStep: 1).sidecars.isEmpty)
        #expect(!timeline.cluster(afterStep: 1).hasMeshedPods)
    }

    @Test("the cluster DNS pod stays outside the mesh whatever kube-system's labels; dns steps sit beside mesh steps")
    func dnsPodOutsideMesh() throws {
        let text = Self.scenario(
            [Self.deployment("web", labels: "sidecar.istio.io/inject: \"true\"")],
            steps: """
                    - label: {kind: Namespace, name: kube-system, labels: {istio-injection: enabled, istio.io/dataplane-mode: ambient}}
                    - apply:
                      - {apiVersion: security.istio.io/v1, kind: AuthorizationPolicy, metadata: {name: deny-all, namespace: kube-system}, spec: {action: DENY, rules: [{}]}}
                    - dns: {from: legacy/client, name: kube-dns.kube-system}
                    - probe: {from: [legacy/client], to: [kube-system/kube-dns-0], ports: [UDP/53]}
                      expect: {default: allow}
                    - probe: {from: [legacy/client], to: [prod/deployment/web], ports: [TCP/8080]}
                      expect: {default: deny-mtls}
                """, dns: true)
        let timeline = try ScenarioLoader.parseTimeline(text, file: "mesh-workloads.yaml")
        let cluster = timeline.cluster(afterStep: 2)
        #expect(cluster.dataPlane(of: ClusterDNS.podKey) == .none)
        #expect(cluster.namespaces["kube-system"]?.labels["istio.io/dataplane-mode"] == "ambient")
        #expect(timeline.usesMesh)
        // The DNS pod is hidden from default probes and only NetworkPolicy judges dns steps.
        guard case .dns(let dns) = timeline.scenario.steps[2].action else {
            Issue.record("step 3 is a dns step")
            return
        }
        #expect(timeline.dnsModel(dns, atStep: 3) != .blocked)
        // Were the DNS pod meshed (ambient kube-system, DENY everything) the mesh would refuse it.
        let dnsCells = timeline.cells(ofProbeStep: 4)
        #expect(dnsCells.count == 1)
        #expect(dnsCells.allSatisfy { $0.outcome == .allow && $0.result().passed })
        let cells = timeline.cells(ofProbeStep: 5)
        #expect(cells.count == 1)
        #expect(cells.allSatisfy { $0.outcome == .denyMTLS && $0.result().passed })
    }

    @Test("R1 (injector code): a template's sidecar.istio.io/inject annotation \"false\" keeps its pods out of an injected namespace")
    func templateInjectAnnotation() throws {
        let text = Self.scenario(
            [
                Self.deployment("annodep", annotations: "sidecar.istio.io/inject: \"false\""),
                Self.deployment("meshed"),
            ],
            steps:
                "    - label: {kind: Namespace, name: prod, labels: {istio-injection: enabled}}\n    - scale: {workload: prod/deployment/annodep, replicas: 2}\n    - scale: {workload: prod/deployment/meshed, replicas: 2}"
        )
        let timeline = try ScenarioLoader.parseTimeline(text, file: "w.yaml")
        let cluster = timeline.cluster(afterStep: 3)
        let annodep = try Self.pods(cluster, "prod/deployment/annodep")
        let meshed = try Self.pods(cluster, "prod/deployment/meshed")
        #expect(annodep.count == 2 && meshed.count == 2)
        #expect(annodep.allSatisfy { cluster.dataPlane(of: $0.key) == DataPlane.none })
        // The replica created after the namespace was labelled gets a sidecar; the first did not (R2).
        #expect(meshed.filter { cluster.dataPlane(of: $0.key) == .sidecar }.count == 1)
    }

    @Test(
        "system namespaces: the injector skips kube-system, kube-public, kube-node-lease, local-path-storage; istio-cni keeps only kube-system out of ambient",
        arguments: ["kube-system", "kube-public", "kube-node-lease", "local-path-storage"])
    func systemNamespaces(_ name: String) {
        let namespace = Namespace(name: name, labels: ["istio-injection": "enabled", "istio.io/dataplane-mode": "ambient"])
        let pod = Pod(namespace: name, name: "p", labels: ["sidecar.istio.io/inject": "true"])
        #expect(!pod.injectsSidecar(in: namespace))
        #expect(pod.enrolledInAmbient(in: namespace) == (name != "kube-system"))
    }

    @Test("Istio objects among plain manifests are decoded with the -n namespace")
    func manifestNamespace() throws {
        var decoder = ObjectDecoder()
        decoder.namespace = "shop"
        let documents = try YAMLDocuments.parse(
            "{apiVersion: security.istio.io/v1beta1, kind: AuthorizationPolicy, metadata: {name: p}, spec: {}}", file: "m.yaml")
        let objects = try decoder.decode(try #require(documents.first))
        #expect(objects.map(\.object.ref) == [ObjectRef(kind: .authorizationPolicy, namespace: "shop", name: "p")])
        #expect(decoder.sawMeshObject)
    }
}
