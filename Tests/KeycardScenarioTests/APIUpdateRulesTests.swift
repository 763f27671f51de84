import Foundation
import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

private typealias T = ScenarioText

private func timeline(_ text: String) throws -> Timeline { try ScenarioLoader.parseTimeline(text, file: "rules.yaml") }

/// The 1-based line of the first `- apply:` step.
private func applyLine(_ text: String) -> Int {
    (text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("- apply:") } ?? -1) + 1
}

/// What the API server refuses or keeps on update and delete, and the defaults it puts in place of
/// empty strings: each case once changed a verdict or refused a valid manifest.
@Suite("API rules: pod updates, immortal namespaces, headless updates, manual Job selectors, sidecar ports, empty defaults")
struct APIUpdateRulesTests {
    static let webWith8080 = """
        - apply:
            - apiVersion: v1
              kind: Pod
              metadata: {name: web, namespace: prod, labels: {app: web}}
              spec:
                containers: [{name: web, image: nginx, ports: [{containerPort: 8080, name: http}]}]
        """

    /// `ValidatePodUpdate`: a pod's ports (and command, node, service account...) are fixed at
    /// creation; re-applying it with other ports is refused at the object.
    @Test func aPodUpdateThatChangesItsPortsIsRefused() throws {
        let text = T.scenario(steps: Self.webWith8080)
        #expect {
            try timeline(text)
        } throws: { error in
            guard let error = error as? ScenarioError else { return false }
            return error.message.contains("pod updates may not change fields other than") && error.message.contains("container ports")
                && error.location.line == applyLine(text) + 1
        }
    }

    /// Labels and images may change: the same pod with new labels and image is configured.
    @Test func aPodUpdateOfLabelsAndImageIsAccepted() throws {
        let update = Self.webWith8080.replacingOccurrences(of: "containerPort: 8080", with: "containerPort: 80")
            .replacingOccurrences(of: "labels: {app: web}", with: "labels: {app: web, tier: front}")
            .replacingOccurrences(of: "image: nginx", with: "image: nginx:2")
        let t = try timeline(T.scenario(steps: update))
        #expect(t.cluster(afterStep: 1).pods[ObjectKey("prod", "web")]?.labels["tier"] == "front")
    }

    /// `kubectl apply` says `unchanged` for an object whose stored form would not change, and
    /// `configured` only when it does: applying the head's objects again, one of them relabelled.
    @Test func reapplyingAnObjectAsStoredSaysUnchanged() throws {
        let objects = """
            - {apiVersion: v1, kind: Namespace, metadata: {name: prod}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: prod, labels: {app: web}}, spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80, name: http}]}]}}
            - apiVersion: v1
              kind: Service
              metadata: {name: web, namespace: prod}
              spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}
            - apiVersion: apps/v1
              kind: Deployment
              metadata: {name: db, namespace: prod}
              spec:
                replicas: 2
                selector: {matchLabels: {app: db}}
                template:
                  metadata: {labels: {app: db}}
                  spec: {containers: [{name: db, image: postgres, ports: [{containerPort: 5432}]}]}
            """
        let policy = T.policy("podSelector: {}\npolicyTypes: [Ingress]", name: "deny")
        let relabelled = objects.replacingOccurrences(of: "labels: {app: web}}, spec", with: "labels: {app: web, tier: front}}, spec")
        let head = "apiVersion: keycard/v1\nkind: Scenario\nmetadata: {name: again}\nspec:\n  resources:"
        let t = try timeline(
            T.scenario(resources: objects + "\n" + policy, steps: "- apply:\n" + T.indent(relabelled + "\n" + policy, 4), head: head))
        guard case .apply(let again) = t.scenario.steps.first?.action else { throw ScenarioError(.start(of: "rules.yaml"), "no step") }
        var cluster = t.cluster(afterStep: 0)
        let lines = try ClusterChange(scope: "at this step", batch: "this apply step").apply(again, to: &cluster) { _ in IPv4(0x0AF4_0105) }
        #expect(
            lines == [
                "Namespace prod unchanged", "Pod prod/web configured", "Service prod/web unchanged", "Deployment prod/db unchanged",
                "NetworkPolicy prod/deny unchanged",
            ], "\(lines)")
    }

    /// A pod the user applied: its last applied manifest had the ports, so leaving them out
    /// removes them (apply's three-way merge), which is refused like any other change; so is a
    /// changed hostPort. The node it was bound to, written back (a `kubectl get -o yaml` dump),
    /// is no change.
    @Test func aUserAppliedPodsOmittedOrHostPortFieldsAreChangesItsBoundNodeIsNot() throws {
        for (what, update) in [
            ("the container ports", Self.webWith8080.replacingOccurrences(of: ", ports: [{containerPort: 8080, name: http}]", with: "")),
            (
                "a hostPort",
                Self.webWith8080.replacingOccurrences(of: "containerPort: 8080", with: "containerPort: 80, hostPort: 9090")
            ),
        ] {
            let error = try #require(throws: ScenarioError.self, "\(what)") { try timeline(T.scenario(steps: update)) }
            #expect(error.message.contains("(\(what) differs)"), "\(error.message)")
        }
        let bound = Self.webWith8080.replacingOccurrences(of: "containerPort: 8080", with: "containerPort: 80")
            .replacingOccurrences(of: "spec:\n", with: "spec:\n        nodeName: node-0\n")
        let t = try timeline(T.scenario(steps: bound))
        #expect(t.cluster(afterStep: 1).pods[ObjectKey("prod", "web")] != nil)
    }

    /// The None an update keeps is validated as if written: no headless NodePort Service.
    @Test func aHeadlessServiceCannotBecomeANodePortByLeavingClusterIPOut() throws {
        let resources = """
            - apiVersion: v1
              kind: Service
              metadata: {name: s, namespace: prod}
              spec: {clusterIP: None, selector: {app: web}, ports: [{port: 80}]}
            """
        let update = """
            - apply:
                - apiVersion: v1
                  kind: Service
                  metadata: {name: s, namespace: prod}
                  spec: {type: NodePort, selector: {app: web}, ports: [{port: 80}]}
            """
        #expect {
            try timeline(T.scenario(resources: resources, steps: update))
        } throws: { error in
            (error as? ScenarioError)?.message.contains("may not be set to 'None' for NodePort services") == true
        }
    }

    @Test(arguments: ["default", "kube-system", "kube-public"])
    func immortalNamespacesAreNotDeleted(_ name: String) throws {
        let text = T.scenario(steps: "- delete: [{kind: Namespace, name: \(name)}]")
        #expect {
            try timeline(text)
        } throws: { error in
            (error as? ScenarioError)?.message == "namespaces \"\(name)\" is forbidden: this namespace may not be deleted"
        }
    }

    /// `patchAllocatedValues`: an update without clusterIP keeps None; the Service stays headless.
    @Test func aHeadlessServiceReappliedWithoutClusterIPStaysHeadless() throws {
        let service = """
            - apiVersion: v1
              kind: Service
              metadata: {name: s, namespace: prod}
              spec: {CLUSTERIP selector: {app: web}, ports: [{port: 80}]}
            """
        let t = try timeline(
            T.scenario(
                resources: service.replacingOccurrences(of: "CLUSTERIP", with: "clusterIP: None,"),
                steps: "- apply:\n" + T.indent(service.replacingOccurrences(of: "CLUSTERIP ", with: ""), 4)))
        #expect(t.cluster(afterStep: 1).services[ObjectKey("prod", "s")]?.address == .headless)
    }

    /// `generateSelectorIfNeeded`: with manualSelector the pods carry only the template's labels,
    /// so a policy selecting `job-name` selects none of them; the 63-character name limit (from
    /// that label) does not apply either.
    @Test func aManualSelectorJobsPodsCarryNoGeneratedLabels() throws {
        let name = String(repeating: "j", count: 70)
        let job = """
            - apiVersion: batch/v1
              kind: Job
              metadata: {name: \(name), namespace: prod}
              spec:
                manualSelector: true
                selector: {matchLabels: {app: j}}
                template:
                  metadata: {labels: {app: j}}
                  spec: {restartPolicy: Never, containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}
            """
        let t = try timeline(T.scenario(resources: job))
        let pods = t.initial.pods.values.filter { $0.labels["app"] == "j" }
        #expect(pods.count == 1)
        #expect(pods.allSatisfy { $0.labels == ["app": "j"] }, "\(pods.map(\.labels))")
        // A label its selector does not name leaves the pod its Job's (no controller-uid to keep).
        let pod = try #require(pods.first)
        let relabelled = try timeline(
            T.scenario(resources: job, steps: "- label: {kind: Pod, namespace: prod, name: \(pod.name), labels: {app: j, extra: x}}"))
        #expect(relabelled.cluster(afterStep: 1).pods[pod.key]?.owner != nil)
    }

    /// `FindPort`: a named targetPort resolves to the containers' port before a sidecar's.
    @Test func aNamedTargetPortPrefersTheAppContainerToASidecar() throws {
        let resources = """
            - apiVersion: v1
              kind: Pod
              metadata: {name: server, namespace: prod, labels: {app: server}}
              spec:
                initContainers: [{name: proxy, image: envoy, restartPolicy: Always, ports: [{containerPort: 9000, name: http}]}]
                containers: [{name: app, image: nginx, ports: [{containerPort: 8080, name: http}]}]
            - apiVersion: v1
              kind: Service
              metadata: {name: web, namespace: prod}
              spec: {selector: {app: server}, ports: [{port: 80, targetPort: http}]}
            """
        let t = try timeline(T.scenario(resources: resources))
        let service = try #require(t.initial.services[ObjectKey("prod", "web")])
        #expect(t.initial.backends(of: service, port: service.ports[0]).map(\.target.port) == [8080])
    }

    /// `SetDefaults_*` replace empty strings (Helm renders unset values so) before validation.
    @Test func emptyStringsTakeTheAPIServersDefaults() throws {
        let resources = """
            - apiVersion: v1
              kind: Pod
              metadata: {name: p, namespace: prod}
              spec: {restartPolicy: '', containers: [{name: c, image: i}]}
            - apiVersion: v1
              kind: Service
              metadata: {name: s, namespace: prod}
              spec: {type: '', sessionAffinity: '', externalTrafficPolicy: '', selector: {app: web}, ports: [{port: 80}]}
            - apiVersion: apps/v1
              kind: Deployment
              metadata: {name: d, namespace: prod}
              spec:
                strategy: {type: ''}
                selector: {matchLabels: {app: d}}
                template: {metadata: {labels: {app: d}}, spec: {restartPolicy: '', containers: [{name: c, image: i}]}}
            - apiVersion: apps/v1
              kind: StatefulSet
              metadata: {name: st, namespace: prod}
              spec:
                updateStrategy: {type: ''}
                selector: {matchLabels: {app: st}}
                template: {metadata: {labels: {app: st}}, spec: {containers: [{name: c, image: i}]}}
            """
        let t = try timeline(T.scenario(resources: resources))
        #expect(t.initial.services[ObjectKey("prod", "s")]?.kind == .clusterIP)
        #expect(t.initial.workloads[WorkloadKey(.statefulSet, "prod", "st")]?.workload.replacesOnUpdate == true)
    }
}
