import Foundation
import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

/// A fresh temporary folder with `files` (name → text) written in it (manifests-mode tests).
func manifestsFolder(_ files: [String: String]) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("kc-manifests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    for (name, text) in files { try text.write(toFile: (path as NSString).appendingPathComponent(name), atomically: true, encoding: .utf8) }
    return path
}

private let deployment = """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: web}
    spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
    """

private let list = """
    apiVersion: v1
    kind: List
    items:
      - {apiVersion: v1, kind: Pod, metadata: {name: client, labels: {app: client}}, spec: {containers: [{name: c, image: i}]}}
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: settings}, data: {a: b}}
      - apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: web}
        spec:
          podSelector: {matchLabels: {app: web}}
          ingress: [{from: [{podSelector: {matchLabels: {app: client}}}]}]
    """

private let crd = """
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata: {name: widgets.example.com}
    ---
    apiVersion: example.com/v1
    kind: Widget
    metadata: {name: w}
    """

@Suite("Manifests mode")
struct ManifestModeTests {
    /// A folder's .yaml and .yml files (multi-document, a List) make one cluster in the namespace
    /// given; unknown kinds make one warning; the probe goes from every workload and bare pod to
    /// every pod on every served port, against the model.
    @Test func folderBecomesOneLabWithOneProbe() throws {
        let path = try manifestsFolder(["a.yaml": deployment, "b.yml": list, "c.yaml": crd, "notes.txt": "not yaml"])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let t = try ManifestLoader.timeline([path], namespace: "shop")
        #expect(t.scenario.name.hasPrefix("kc-manifests-"))
        let skipped = t.warnings.filter { $0.message.contains("keycard does not run") }
        #expect(skipped.count == 1)
        #expect(
            skipped.first?.message
                == "skipped 3 objects keycard does not run: ConfigMap (v1) ×1, CustomResourceDefinition (apiextensions.k8s.io/v1) ×1, Widget (example.com/v1) ×1"
        )
        #expect(t.initial.namespaces["shop"] != nil)
        #expect(t.initial.pods(of: WorkloadKey(.deployment, "shop", "web")).count == 2)
        #expect(t.initial.pods[ObjectKey("shop", "client")] != nil)
        #expect(t.initial.policies[ObjectKey("shop", "web")] != nil)
        let probe = try #require(t.probes[1])
        #expect(probe.sourceRefs.map(\.description) == ["shop/deployment/web", "shop/client"])
        #expect(probe.destinations.count == 3)
        #expect(probe.ports == [ProtocolPort(.tcp, 8080)])
        let cells = t.cells(ofProbeStep: 1)
        let fromClient = cells.filter { $0.from.name == "client" && $0.to != .pod(ObjectKey("shop", "client")) }
        #expect(fromClient.count == 2 && fromClient.allSatisfy { $0.verdict.decision == .allow })
        let toWeb = cells.filter { $0.fromWorkload != nil && $0.to != .pod($0.from) && $0.to != .pod(ObjectKey("shop", "client")) }
        #expect(toWeb.count == 2 && toWeb.allSatisfy { $0.verdict.decision == .deny })
    }

    /// A folder's files go in kubectl's order, byte by byte of their UTF-8 names (`filepath.Walk`,
    /// `sort.Strings`): a decomposed `é-deny.yaml` (e + U+0301) comes before `f-allow.yaml`, so the
    /// allowing policy `p` is applied last and wins. Swift's canonical `String` order had put é
    /// after f: the deny replaced the allow and the verdict flipped.
    @Test func folderFilesGoInByteOrderOfTheirNames() throws {
        let pods = """
            apiVersion: v1
            kind: Pod
            metadata: {name: a}
            spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: b}
            spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}
            """
        let policy =
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec: {podSelector: {}, policyTypes: [Ingress]"
        let decomposed = "e\u{301}-deny.yaml"
        let path = try manifestsFolder(["0pods.yaml": pods, decomposed: policy + "}\n", "f-allow.yaml": policy + ", ingress: [{}]}\n"])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let names = try ManifestLoader.files([path]).map { Array(($0 as NSString).lastPathComponent.utf8) }
        #expect(names == [Array("0pods.yaml".utf8), Array(decomposed.utf8), Array("f-allow.yaml".utf8)])
        let t = try ManifestLoader.timeline([path])
        let cells = t.cells(ofProbeStep: 1).filter { $0.to != .pod($0.from) }
        #expect(cells.count == 2 && cells.allSatisfy { $0.verdict.decision == .allow }, "f-allow.yaml is applied last")
    }

    /// The plan after the pod probe: every source to every Service port through its ClusterIP (one
    /// cell per backend, naming the Service, the backend and its target port in JSON), then a DNS
    /// query per source pod and Service name; a pod whose DNS the model blocks asks one name only.
    /// Cluster DNS is on, its pod and Service neither source nor destination.
    @Test func planCoversServicesAndDNS() throws {
        let second = """
            apiVersion: v1
            kind: Service
            metadata: {name: web-alt}
            spec: {selector: {app: web}, ports: [{name: http, port: 8081, targetPort: 8080}]}
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: client-egress}
            spec: {podSelector: {matchLabels: {app: client}}, policyTypes: [Egress], egress: [{to: [{podSelector: {matchLabels: {app: web}}}]}]}
            """
        let path = try manifestsFolder(["a.yaml": deployment, "b.yml": list, "d.yaml": second])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let t = try ManifestLoader.timeline([path], namespace: "shop")
        #expect(t.scenario.lab.dns)
        #expect(t.initial.services[ClusterDNS.serviceKey] != nil)
        let services = try #require(t.probes[2])
        #expect(services.destinationRefs.map(\.description) == ["svc/shop/web", "svc/shop/web-alt"])
        #expect(services.ports == [ProtocolPort(.tcp, 80), ProtocolPort(.tcp, 8081)])
        let cells = t.cells(ofProbeStep: 2)
        // 3 source pods x 2 Services x 2 backends, each Service on its own port only.
        #expect(cells.count == 12)
        #expect(cells.allSatisfy { $0.targetPort == 8080 })
        let fromClient = cells.filter { $0.from.name == "client" }
        #expect(fromClient.count == 4 && fromClient.allSatisfy { $0.verdict.decision == .allow })
        let betweenReplicas = cells.filter { $0.fromWorkload != nil && $0.expected != .ignored }
        #expect(betweenReplicas.count == 4 && betweenReplicas.allSatisfy { $0.verdict.decision == .deny })
        let json = String(decoding: try JSONEncoder().encode(try #require(fromClient.first).result()), as: UTF8.self)
        #expect(json.contains("\"service\":\"svc\\/shop\\/web\""))
        #expect(json.contains("\"backend\":\"shop\\/web-"))
        #expect(json.contains("\"targetPort\":8080"))
        #expect(json.contains("\"fromWorkload\"") == false)
        let dns = t.scenario.steps.compactMap { step -> DNSStep? in
            if case .dns(let query) = step.action { return query }
            return nil
        }
        let web = t.initial.pods(of: WorkloadKey(.deployment, "shop", "web")).map(\.key)
        #expect(dns.filter { web.contains($0.from) }.map(\.name).count == 4)
        // The client's egress reaches web only: its DNS is blocked, one name shows it.
        let client = dns.filter { $0.from == ObjectKey("shop", "client") }
        #expect(client.map(\.name) == ["web.shop.svc.cluster.local"])
        #expect(t.dnsModel(try #require(client.first), atStep: 0) == .blocked)
        #expect(
            t.dnsModel(try #require(dns.first), atStep: 0)
                == .addresses([try #require(t.initial.services[ObjectKey("shop", "web")]?.clusterIP)]))
        let off = try ManifestLoader.timeline([path], namespace: "shop", dns: false)
        #expect(!off.scenario.lab.dns && off.scenario.steps.count == 2)
    }

    /// A host-network DaemonSet beside a Service (kube-prometheus' node-exporter, MetalLB's
    /// speaker): its pods connect from the node's namespace, where the lab runs no Service proxy,
    /// so the Service step leaves them out with a warning (the folder had been refused).
    @Test func hostNetworkWorkloadsAreNotProbedThroughServices() throws {
        let agent = """
            apiVersion: apps/v1
            kind: DaemonSet
            metadata: {name: agent}
            spec:
              selector: {matchLabels: {app: agent}}
              template:
                metadata: {labels: {app: agent}}
                spec: {hostNetwork: true, containers: [{name: a, image: x, ports: [{containerPort: 9100}]}]}
            """
        let path = try manifestsFolder(["a.yaml": deployment, "b.yaml": agent])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let t = try ManifestLoader.timeline([path], namespace: "shop")
        let services = try #require(t.probes[2])
        #expect(services.destinationRefs.map(\.description) == ["svc/shop/web"])
        #expect(!services.sourceRefs.contains(.workload(WorkloadKey(.daemonSet, "shop", "agent"))))
        #expect(t.warnings.contains { $0.message.contains("not probed through Services: shop/daemonset/agent") }, "\(t.warnings)")
        #expect(t.cells(ofProbeStep: 1).contains { $0.fromWorkload == WorkloadKey(.daemonSet, "shop", "agent") })
        // It asks its node's resolver (dnsPolicy ClusterFirst), not cluster DNS: no dns step.
        let agentPods = Set(t.initial.pods(of: WorkloadKey(.daemonSet, "shop", "agent")).map(\.key))
        let askers = t.scenario.steps.compactMap { step -> ObjectKey? in
            if case .dns(let query) = step.action { return query.from }
            return nil
        }
        #expect(!askers.isEmpty && askers.allSatisfy { !agentPods.contains($0) }, "\(askers)")
    }

    /// A pod the scheduler keeps Pending (a host-network pod whose port another one holds on the
    /// only node; the API server accepts both) runs nowhere: it is no probe source and no cell,
    /// and a warning says why. The folder loads (it had been refused for naming a missing source).
    @Test func aPendingPodIsNoSource() throws {
        let exporter = { (name: String) in
            "apiVersion: v1\nkind: Pod\nmetadata: {name: \(name), labels: {app: \(name)}}\n"
                + "spec: {hostNetwork: true, containers: [{name: c, image: i, ports: [{containerPort: 9100}]}]}\n"
        }
        let path = try manifestsFolder(["a.yaml": exporter("exporter-a") + "---\n" + exporter("exporter-b"), "b.yaml": deployment])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let t = try ManifestLoader.timeline([path], namespace: "shop")
        let pending = ObjectKey("shop", "exporter-b")
        #expect(t.initial.pods[pending] == nil && t.initial.pods[ObjectKey("shop", "exporter-a")] != nil)
        #expect(t.warnings.contains { $0.message.contains("pod shop/exporter-b stays Pending") }, "\(t.warnings)")
        let cells = t.cells(ofProbeStep: 1)
        #expect(!cells.isEmpty)
        #expect(!cells.contains { $0.from == pending || $0.to == .pod(pending) })
        #expect(cells.contains { $0.from == ObjectKey("shop", "exporter-a") })
    }

    /// ExternalName Services in the DNS steps: one whose CNAME leads to a Service of the lab is
    /// asked (and the model answers that Service's ClusterIP); one pointing outside the cluster is
    /// left out, as the lab (no upstream) cannot answer what the cluster would.
    @Test func externalNamesLeadingIntoTheLabAreAsked() throws {
        let aliases = """
            apiVersion: v1
            kind: Service
            metadata: {name: web-alias}
            spec: {type: ExternalName, externalName: web.shop.svc.cluster.local}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: stripe}
            spec: {type: ExternalName, externalName: api.stripe.com}
            """
        let path = try manifestsFolder(["a.yaml": deployment, "b.yaml": aliases])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let t = try ManifestLoader.timeline([path], namespace: "shop")
        let dns = t.scenario.steps.compactMap { step -> (Int, DNSStep)? in
            if case .dns(let query) = step.action { return (step.index, query) }
            return nil
        }
        let names = Set(dns.map(\.1.name))
        #expect(names == ["web.shop.svc.cluster.local", "web-alias.shop.svc.cluster.local"])
        let web = try #require(t.initial.services[ObjectKey("shop", "web")]?.clusterIP)
        let alias = try #require(dns.first { $0.1.name == "web-alias.shop.svc.cluster.local" })
        #expect(t.dnsModel(alias.1, atStep: alias.0) == .addresses([web]))
    }

    /// A later document of the same object configures it (kubectl apply): no duplicate error.
    @Test func objectAppliedAgain() throws {
        let namespace = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"
        let path = try manifestsFolder([
            "a.yaml": namespace, "b.yaml": namespace.replacingOccurrences(of: "{name: shop}", with: "{name: shop, labels: {team: a}}"),
            "c.yaml": deployment,
        ])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let t = try ManifestLoader.timeline([path], namespace: "shop")
        #expect(t.initial.namespaces["shop"]?.labels["team"] == "a")
        #expect(t.warnings.contains { $0.message.hasPrefix("1 object is applied again") })
    }

    /// Without -n objects go to `default`; -n with an object naming another namespace is refused
    /// at that field, as kubectl refuses it.
    @Test func namespaceOption() throws {
        let path = try manifestsFolder(["a.yaml": deployment])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let t = try ManifestLoader.timeline([path])
        #expect(t.initial.pods(of: WorkloadKey(.deployment, "default", "web")).count == 2)
        let other = try manifestsFolder([
            "a.yaml": deployment.replacingOccurrences(
                of: "metadata: {name: web}\nspec:\n  replicas", with: "metadata: {name: web, namespace: prod}\nspec:\n  replicas")
        ])
        defer { try? FileManager.default.removeItem(atPath: other) }
        do {
            _ = try ManifestLoader.timeline([other], namespace: "shop")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("the namespace from the object, \"prod\", does not match the namespace \"shop\""))
            #expect(error.location.line == 3)
        }
    }

    /// `--mesh`: the namespaces the manifests' pods live in are labelled as Istio's tasks label
    /// them (R1, R3), `default` included; an explicit opt-out stays, kube-system is never meshed.
    @Test func meshOptionEnrolsTheManifestsNamespaces() throws {
        let optedOut = """
            apiVersion: v1
            kind: Namespace
            metadata: {name: legacy, labels: {istio-injection: disabled}}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: old, namespace: legacy}
            spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}
            """
        let path = try manifestsFolder(["a.yaml": deployment, "b.yaml": optedOut])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sidecar = try ManifestLoader.timeline([path], mesh: .sidecar)
        let web = try #require(sidecar.initial.pods(of: WorkloadKey(.deployment, "default", "web")).first)
        #expect(sidecar.initial.namespaces["default"]?.labels["istio-injection"] == "enabled")
        #expect(sidecar.initial.dataPlane(of: web.key) == .sidecar)
        #expect(sidecar.initial.dataPlane(of: ObjectKey("legacy", "old")) == .none)
        #expect(sidecar.initial.dataPlane(of: ClusterDNS.podKey) == .none)

        let ambient = try ManifestLoader.timeline([path], mesh: .ambient)
        #expect(ambient.initial.dataPlane(of: web.key) == .ambient)
        #expect(ambient.initial.namespaces["default"]?.labels["istio.io/dataplane-mode"] == "ambient")

        let plain = try ManifestLoader.timeline([path])
        #expect(plain.initial.dataPlane(of: web.key) == .none)
        #expect(!plain.usesMesh)
    }

    /// A scenario file's `{file: ..., namespace: ...}` item applies the manifest there.
    @Test func scenarioFileItemWithNamespace() throws {
        let path = try manifestsFolder(["web.yaml": deployment])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let scenario = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: ns-file}
            spec:
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: a}}
                - {apiVersion: v1, kind: Namespace, metadata: {name: b}}
                - {file: web.yaml, namespace: a}
                - {file: web.yaml, namespace: b}
            """
        let file = (path as NSString).appendingPathComponent("scenario.yaml")
        try scenario.write(toFile: file, atomically: true, encoding: .utf8)
        let t = try ScenarioLoader.timeline(file)
        #expect(t.initial.pods(of: WorkloadKey(.deployment, "a", "web")).count == 2)
        #expect(t.initial.pods(of: WorkloadKey(.deployment, "b", "web")).count == 2)
        #expect(ManifestLoader.isManifests(path))
        #expect(!ManifestLoader.isManifests(file))
        #expect(ManifestLoader.isManifests((path as NSString).appendingPathComponent("web.yaml")))
    }

    /// Images are not run: commands are dropped with one warning; without a declared port there is
    /// no probe step (a warning says why) instead of an error.
    @Test func commandsDroppedAndNoPortNoProbe() throws {
        let pod = "{apiVersion: v1, kind: Pod, metadata: {name: app}, spec: {containers: [{name: c, image: i, command: [/app]}]}}"
        let path = try manifestsFolder(["a.yaml": pod])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let t = try ManifestLoader.timeline([path])
        #expect(t.initial.pods[ObjectKey("default", "app")]?.commands == [])
        #expect(t.warnings.contains { $0.message.hasPrefix("1 pod or template names container commands") })
        #expect(t.scenario.steps.isEmpty)
        #expect(t.warnings.contains { $0.message.contains("no pod declares a container port") })
    }

    @Test func labNames() {
        #expect(ManifestLoader.labName(for: "../shared/conformance/apps/online-boutique/") == "online-boutique")
        #expect(ManifestLoader.labName(for: "k8s/kubernetes-manifests.yaml") == "kubernetes-manifests")
        #expect(ManifestLoader.labName(for: "/x/My_App.v2.yml") == "my-app-v2")
        #expect(ManifestLoader.labName(for: "/x/---.yaml") == "manifests")
        // `.` and `..` are the folders they name (a lab named `manifests` for every `run .` collided).
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        #expect(ManifestLoader.labName(for: ".") == ManifestLoader.labName(for: here.path))
        #expect(ManifestLoader.labName(for: "./") == ManifestLoader.labName(for: here.path))
        #expect(ManifestLoader.labName(for: "..") == ManifestLoader.labName(for: here.deletingLastPathComponent().path))
        #expect(ManifestLoader.labName(for: "/srv/shop/.") == "shop")
    }
}

/// A `Scenario` of a misspelt keycard version is a scenario refused for its apiVersion, not a
/// manifest whose unknown kind is skipped (which ran no step and passed); kubectl refuses a kind
/// no server serves (the RESTMapper's NoKindMatchError).
@Suite("Wrongly versioned scenarios")
struct WronglyVersionedScenarioTests {
    static func scenario(apiVersion: String, kind: String) -> String {
        """
        apiVersion: \(apiVersion)
        kind: \(kind)
        metadata: {name: fxi2}
        spec:
          resources:
            - {apiVersion: v1, kind: Pod, metadata: {name: web, labels: {app: web}}, spec: {containers: [{name: web, image: x, ports: [{containerPort: 80}]}]}}
          steps:
            - probe: {ports: [TCP/80]}
        """
    }

    @Test(arguments: [
        ("keycard/v2", "Scenario"), ("keycard/V1", "Scenario"), ("Keycard/v1", "Scenario"), ("keycard.io/v1", "Scenario"),
        ("keycard/v1beta1", "Scenario"), ("KEYCARD.example.com/v1", "scenario"),
    ])
    func aScenarioOfAnotherKeycardVersionIsRefusedAtItsApiVersion(apiVersion: String, kind: String) throws {
        let path = try manifestsFolder(["s.yaml": Self.scenario(apiVersion: apiVersion, kind: kind)])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = (path as NSString).appendingPathComponent("s.yaml")
        #expect(!ManifestLoader.isManifests(file))
        #expect {
            _ = try ScenarioLoader.timeline(file)
        } throws: { error in
            guard let error = error as? ScenarioError else { return false }
            return error.location.line == 1 && error.message == "apiVersion must be keycard/v1, found \(apiVersion)"
        }
        // Among manifests (a folder), it is refused too, not skipped as an unknown kind.
        #expect {
            _ = try ManifestLoader.timeline([path])
        } throws: { error in
            guard let error = error as? ScenarioError else { return false }
            return error.location.line == 1
                && error.message.hasPrefix("apiVersion must be keycard/v1, found \(apiVersion); a keycard Scenario")
        }
    }

    /// Another group's `Scenario` (a custom resource) stays a manifest whose kind is skipped.
    @Test func aScenarioOfAnotherGroupIsAManifest() throws {
        let path = try manifestsFolder(["s.yaml": Self.scenario(apiVersion: "keycards.example.com/v1", kind: "Scenario")])
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(ManifestLoader.isManifests((path as NSString).appendingPathComponent("s.yaml")))
        _ = try ManifestLoader.timeline([path])
    }
}
