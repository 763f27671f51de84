import Foundation
import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

/// A fresh file `name` holding `text` in a new folder; returns its path.
private func manifestFile(_ text: String, name: String = "app.yaml") throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kc-apps-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let path = (folder as NSString).appendingPathComponent(name)
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// The manifests timeline of `text`, or the error it is refused with.
private func load(_ text: String) throws -> Result<Timeline, ScenarioError> {
    let path = try manifestFile(text)
    defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
    do { return .success(try ManifestLoader.timeline([path])) } catch { return .failure(error) }
}

private func refusal(_ text: String) throws -> String? {
    if case .failure(let error) = try load(text) { return error.description }
    return nil
}

private let pod80 = """
    apiVersion: v1
    kind: Pod
    metadata: {name: web, labels: {app: web}}
    spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
    """

/// The apps review (/tmp/rev-apps2): manifests mode as `kubectl apply -f` and `kubectl get -o yaml`
/// make clusters, dnsPolicy, other CNIs' policies.
@Suite("apps review: manifests mode")
struct AppsReviewTests {
    /// An object repeated across the manifests is updated by the later copy, as a second `kubectl
    /// apply` is, under the update rules of an apply step (OBJ-21).
    @Test(arguments: [
        (
            pod80 + "\n---\n" + pod80.replacingOccurrences(of: "containerPort: 80", with: "containerPort: 81"),
            "app.yaml:6:1: Pod default/web: spec: Forbidden: pod updates may not change fields other than"
        ),
        (
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec: {containers: [{name: c, image: nginx}]}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              selector: {matchLabels: {app: web, tier: x}}
              template:
                metadata: {labels: {app: web, tier: x}}
                spec: {containers: [{name: c, image: nginx}]}
            """,
            "Deployment default/web: spec.selector is immutable"
        ),
        (
            pod80 + """

                ---
                apiVersion: v1
                kind: Service
                metadata: {name: web}
                spec: {clusterIP: 10.96.0.50, selector: {app: web}, ports: [{port: 80}]}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: web}
                spec: {clusterIP: 10.96.0.60, selector: {app: web}, ports: [{port: 80}]}
                """,
            "app.yaml:14:19: Service default/web: spec.clusterIP is immutable (was 10.96.0.50)"
        ),
    ])
    func repeatedObjectIsAnUpdate(_ text: String, _ message: String) throws {
        let refused = try #require(try refusal(text))
        #expect(refused.contains(message), "\(refused)")
    }

    /// A repeated object whose update is allowed (a new image, new labels) still configures the
    /// earlier one, with the warning.
    @Test func allowedUpdateStillConfigures() throws {
        let text = pod80 + "\n---\n" + pod80.replacingOccurrences(of: "{app: web}", with: "{app: web, v: b}")
        let timeline = try load(text).get()
        #expect(timeline.initial.pods[ObjectKey("default", "web")]?.labels["v"] == "b")
        #expect(timeline.warnings.contains { $0.message.hasPrefix("1 object is applied again") })
    }

    private static func service(_ ip: String) -> String {
        """

        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec: {clusterIP: \(ip), selector: {app: web}, ports: [{port: 80}]}
        """
    }

    /// A `kubectl get -o yaml` dump of a kubeadm or minikube cluster pins clusterIPs in
    /// 10.96.0.0/12: the lab takes that service CIDR; kind's /16 stays when every address fits
    /// it; outside both the refusal says how to set the CIDR (OBJ-22).
    @Test func serviceCIDRFitsTheDump() throws {
        let kind = try load(pod80 + Self.service("10.96.0.50")).get()
        #expect(kind.scenario.lab.serviceCIDR == ServiceAddresses.defaultCIDR)
        #expect(!kind.warnings.contains { $0.message.contains("service CIDR") })
        let kubeadm = try load(pod80 + Self.service("10.110.86.95")).get()
        #expect(kubeadm.scenario.lab.serviceCIDR.description == "10.96.0.0/12")
        #expect(kubeadm.initial.services[ObjectKey("default", "web")]?.clusterIP == IPv4("10.110.86.95"))
        #expect(kubeadm.warnings.contains { $0.message.contains("the lab's service CIDR is 10.96.0.0/12") })
        let refused = try #require(try refusal(pod80 + Self.service("172.20.0.9")))
        #expect(refused.contains("app.yaml:9:19: Service default/web: clusterIP 172.20.0.9 is inside neither 10.96.0.0/16"), "\(refused)")
        #expect(refused.contains("spec.lab.serviceCIDR and resources: [{file: PATH}, ...]"), "\(refused)")
    }

    /// In manifests mode a LoadBalancer without an address says how to give it one.
    @Test func loadBalancerLineSaysHowToSetTheCIDR() throws {
        let text =
            pod80
            + "\n---\napiVersion: v1\nkind: Service\nmetadata: {name: lb}\nspec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}\n"
        let timeline = try load(text).get()
        let report = Report(timeline, enforcement: .pod, steps: [])
        let line = try #require(report.services?.first)
        #expect(
            line.hasSuffix(
                "pending (no spec.lab.loadBalancerCIDR, which plain manifests cannot set: write a scenario with spec.lab.loadBalancerCIDR and resources: [{file: PATH}, ...] naming these files (a scenario runs their containers' commands, as root in the pods' namespaces, and a run fails on one that is no program of this machine; manifests mode drops them))"
            ), "\(line)")
    }

    private static let dnsPods =
        pod80 + """

            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec: {selector: {app: web}, ports: [{port: 80}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: nodedns}
            spec:
              dnsPolicy: Default
              containers: [{name: c, image: x}]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: customdns}
            spec:
              dnsPolicy: None
              dnsConfig: {nameservers: [1.1.1.1]}
              containers: [{name: c, image: x}]
            """

    /// Pods with dnsPolicy Default or None do not ask cluster DNS: manifests mode gives them no
    /// dns step (OBJ-23).
    @Test func dnsPolicyDefaultAndNoneAskNoClusterDNS() throws {
        let timeline = try load(Self.dnsPods).get()
        let askers = Set(
            timeline.scenario.steps.compactMap { step -> String? in
                if case .dns(let query) = step.action { return query.from.name }
                return nil
            })
        #expect(askers == ["web"])
        #expect(timeline.initial.pods[ObjectKey("default", "customdns")]?.dnsPolicy == Pod.DNSPolicy.none)
    }

    /// A dns step says why a pod cannot ask cluster DNS, by its dnsPolicy.
    @Test(arguments: [
        ("dnsPolicy: Default", false, "has dnsPolicy Default: it asks its node's resolver"),
        ("dnsPolicy: None, dnsConfig: {nameservers: [1.1.1.1]}", false, "has dnsPolicy None: it asks only the nameservers"),
        ("dnsPolicy: ClusterFirstWithHostNet", true, "uses the host network with dnsPolicy ClusterFirstWithHostNet: it asks cluster DNS"),
        ("dnsPolicy: ClusterFirst", true, "dnsPolicy ClusterFirst falls back to Default there"),
    ])
    func dnsStepFromAPodThatAsksElsewhere(_ policy: String, _ hostNetwork: Bool, _ message: String) throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: hndns}
            spec:
              lab: {dns: true}
              resources:
              - apiVersion: v1
                kind: Pod
                metadata: {name: agent, namespace: default}
                spec: {hostNetwork: \(hostNetwork), \(policy), containers: [{name: c, image: x, ports: [{containerPort: 9100}]}]}
              steps:
              - dns: {from: default/agent, name: kubernetes.default.svc.cluster.local}
            """
        do {
            _ = try Timeline(ScenarioLoader.parse(text, file: "ok.yaml"))
            Issue.record("the dns step was accepted")
        } catch {
            #expect(String(describing: error).contains(message), "\(error)")
        }
    }

    /// The cluster DNS pod has dnsPolicy Default, as kubeadm's CoreDNS Deployment
    /// (`CoreDNSDeployment`): a dns step from it is refused as from any Default pod (it had been
    /// taken as a ClusterFirst pod asking itself).
    @Test func dnsStepFromTheDNSPodIsRefusedAsDefault() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: selfdns}
            spec:
              lab: {dns: true}
              resources:
              - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: default}, spec: {containers: [{name: c, image: x}]}}
              steps:
              - dns: {from: kube-system/kube-dns-0, name: kubernetes.default}
            """
        #expect(throws: ScenarioError.self) { _ = try Timeline(ScenarioLoader.parse(text, file: "ok.yaml")) }
        do {
            _ = try Timeline(ScenarioLoader.parse(text, file: "ok.yaml"))
        } catch {
            #expect(String(describing: error).contains("pod kube-system/kube-dns-0 has dnsPolicy Default"), "\(error)")
        }
    }

    /// dnsPolicy None with cluster DNS's address as the first nameserver asks cluster DNS, through
    /// its own search list only (the kubelet writes `dnsConfig` alone): a FQDN resolves, a short
    /// name the cluster search path would complete does not.
    @Test func dnsPolicyNoneNamingClusterDNSAsksIt() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: nonedns}
            spec:
              lab: {dns: true}
              resources:
              - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: default, labels: {app: web}}, spec: {containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}}
              - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: default}, spec: {selector: {app: web}, ports: [{port: 80}]}}
              - apiVersion: v1
                kind: Pod
                metadata: {name: own, namespace: default}
                spec: {dnsPolicy: None, dnsConfig: {nameservers: [10.96.0.10], searches: [example.test]}, containers: [{name: c, image: x}]}
              steps:
              - dns: {from: default/own, name: web.default.svc.cluster.local}
              - dns: {from: default/own, name: web}
            """
        let timeline = try Timeline(ScenarioLoader.parse(text, file: "ok.yaml"))
        let service = try #require(timeline.initial.services[ObjectKey("default", "web")]?.clusterIP)
        let queries = timeline.scenario.steps.compactMap { step -> DNSStep? in
            if case .dns(let query) = step.action { return query }
            return nil
        }
        #expect(queries.count == 2)
        #expect(timeline.dnsModel(queries[0], atStep: 1) == .model(allowed: true, addresses: [service]))
        #expect(timeline.dnsModel(queries[1], atStep: 2) == .model(allowed: true, addresses: []))
        #expect(timeline.resolvConf(of: ObjectKey("default", "own"), atStep: 0).searches == ["example.test"])
    }

    /// dnsPolicy is validated as the API server validates it.
    @Test(arguments: [
        (
            "dnsPolicy: Cluster",
            "spec.dnsPolicy: Unsupported value: \"Cluster\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\""
        ),
        ("dnsPolicy: None", "spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"),
        ("dnsPolicy: None, dnsConfig: {searches: [a]}", "spec.dnsConfig.nameservers: Required value"),
        ("dnsPolicy: None, dnsConfig: {nameservers: [dns.example]}", "must be a valid IP address"),
        // dnsConfig is validated with every dnsPolicy (validatePodDNSConfig).
        ("dnsConfig: {nameservers: [1.1.1.1, 1.1.1.2, 1.1.1.3, 1.1.1.4]}", "must not have more than 3 nameservers"),
        ("dnsConfig: {searches: [Corp.Test]}", "spec.dnsConfig.searches: Invalid value: \"Corp.Test\""),
        // IsDNS1123SubdomainWithUnderscore: one leading underscore, never at a label's end.
        ("dnsConfig: {searches: [a_]}", "spec.dnsConfig.searches: Invalid value: \"a_\""),
        ("dnsConfig: {searches: [__a]}", "spec.dnsConfig.searches: Invalid value: \"__a\""),
        ("dnsConfig: {options: [{value: \"1\"}]}", "spec.dnsConfig.options.name: Required value"),
        (
            "dnsConfig: {searches: [\(Array(repeating: "a", count: 33).map { "s\($0)" }.joined(separator: ", "))]}",
            "more than 32 search paths"
        ),
    ])
    func dnsPolicyValidation(_ fields: String, _ message: String) throws {
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {\(fields), containers: [{name: c, image: x}]}\n"
        let refused = try #require(try refusal(text))
        #expect(refused.contains(message), "\(refused)")
    }

    /// dnsConfig the API server accepts: searches with a trailing dot, `_`, or a lone "."
    /// (RelaxedDNSSearchValidation), options with and without values, with any dnsPolicy.
    @Test func dnsConfigAccepted() throws {
        let text =
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {dnsConfig: {searches: [corp.test., _srv.corp.test, .], options: [{name: ndots, value: \"2\"}, {name: edns0}]}, containers: [{name: c, image: x}]}\n"
        #expect(try refusal(text) == nil)
    }

    /// A changed dnsPolicy is an update ValidatePodUpdate refuses.
    @Test func dnsPolicyIsImmutable() throws {
        let changed = pod80.replacingOccurrences(of: "spec: {", with: "spec: {dnsPolicy: Default, ")
        let refused = try #require(try refusal(pod80 + "\n---\n" + changed))
        #expect(refused.contains("(spec.dnsPolicy differs)"), "\(refused)")
    }

    /// Another CNI's network policy is skipped, reported by lint, and named by unselected-pod
    /// (OBJ-24); Calico's NetworkPolicy is not mistaken for Kubernetes' (it was refused).
    @Test func foreignNetworkPolicies() throws {
        let text =
            pod80 + """

                ---
                apiVersion: cilium.io/v2
                kind: CiliumNetworkPolicy
                metadata: {name: rule1}
                spec: {endpointSelector: {matchLabels: {app: web}}}
                ---
                apiVersion: projectcalico.org/v3
                kind: GlobalNetworkPolicy
                metadata: {name: deny}
                spec: {selector: all()}
                ---
                apiVersion: projectcalico.org/v3
                kind: NetworkPolicy
                metadata: {name: calico, namespace: other}
                spec: {selector: all()}
                """
        let timeline = try load(text).get()
        #expect(
            timeline.scenario.foreignPolicies.map(\.description) == [
                "CiliumNetworkPolicy default/rule1", "GlobalNetworkPolicy deny", "NetworkPolicy other/calico",
            ])
        let findings = PolicyLinter.lint(timeline)
        let foreign = findings.filter { $0.rule == "foreign-network-policy" }
        #expect(foreign.map(\.line) == [6, 11, 16])
        #expect(foreign.first?.message.contains("is Cilium's network policy, which keycard skips") == true)
        let unselected = try #require(findings.first { $0.rule == "unselected-pod" })
        #expect(
            unselected.message.hasSuffix(
                "(as far as keycard sees: CiliumNetworkPolicy default/rule1, GlobalNetworkPolicy deny, which keycard skips, may select it in a cluster running Calico, Cilium)"
            ), "\(unselected.message)")
    }
}
