import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

/// Updates that change what a controller selects: a ReplicationController's `spec.selector`
/// (mutable in v1: `ClaimPods` releases the pods it no longer matches), a ReplicaSet's (immutable
/// in apps/v1), and a Service's selector removed (the EndpointSlice controller stops syncing its
/// slices, which stay).
/// The error a scenario gives, parsing or playing its timeline.
private func timelineError(_ text: String) -> ScenarioError? {
    do {
        _ = try Timeline(ScenarioLoader.parse(text, file: "bad.yaml"))
        Issue.record("expected an error")
        return nil
    } catch {
        return error
    }
}

/// The 1-based column of `fragment` on line `line` of `text`.
private func column(of fragment: String, line: Int, in text: String) -> Int? {
    let row = text.split(separator: "\n", omittingEmptySubsequences: false)[line - 1]
    return row.range(of: fragment).map { row.distance(from: row.startIndex, to: $0.lowerBound) + 1 }
}

@Suite("Controllers: selectors changed by an update")
struct ControllerSelectorUpdateTests {
    /// A scenario whose resources are `resources` and whose steps apply each of `updates`, one a step.
    static func scenario(_ resources: [String], updates: [String]) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: selector-updates}
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
        \(resources.map { "    - \($0)" }.joined(separator: "\n"))
          steps:
        \(updates.map { "    - apply: [\($0)]" }.joined(separator: "\n"))
        """
    }

    /// A ReplicationController x/cache: `selector` (a flow mapping, or nil for none) over a template labelled `labels`.
    static func controller(selector: String?, labels: String, kind: String = "ReplicationController", api: String = "v1") -> String {
        let written = selector.map { "selector: \($0), " } ?? ""
        return
            "{apiVersion: \(api), kind: \(kind), metadata: {name: cache, namespace: x}, spec: {replicas: 2, \(written)"
            + "template: {metadata: {labels: \(labels)}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 6379}]}]}}}}"
    }

    static let key = WorkloadKey(.replicationController, "x", "cache")

    /// The selector changed by an apply: the controller releases the pods the new selector misses
    /// (they run on as bare pods, outside its replicas) and makes two new ones from its template.
    @Test func aChangedSelectorReleasesThePodsItMisses() throws {
        let t = try timeline(
            Self.scenario(
                [Self.controller(selector: "{app: cache}", labels: "{app: cache}")],
                updates: [Self.controller(selector: "{app: cache, v: two}", labels: "{app: cache, v: two}")]))
        let before = t.cluster(afterStep: 0).pods(of: Self.key)
        #expect(before.count == 2)
        let after = t.cluster(afterStep: 1)
        let owned = after.pods(of: Self.key)
        #expect(owned.count == 2)
        #expect(owned.allSatisfy { $0.labels["v"] == "two" })
        #expect(Set(owned.map(\.key)).isDisjoint(with: before.map(\.key)))
        // The released pods still run, owned by nobody, with their old labels.
        for pod in before {
            #expect(after.pods[pod.key]?.owner == nil)
            #expect(after.pods[pod.key]?.labels == ["app": "cache"])
        }
        #expect(after.pods.values.filter { $0.labels["app"] == "cache" }.count == 4)
    }

    /// A released pod another ReplicationController's selector matches is adopted by it.
    @Test func aReleasedPodIsAdoptedByAnotherController() throws {
        let other =
            "{apiVersion: v1, kind: ReplicationController, metadata: {name: legacy, namespace: x}, spec: {replicas: 3, selector: {app: cache}, "
            + "template: {metadata: {labels: {app: cache}}, spec: {containers: [{name: c, image: i}]}}}}"
        let t = try timeline(
            Self.scenario(
                [Self.controller(selector: "{app: cache, v: one}", labels: "{app: cache, v: one}")],
                updates: [
                    Self.controller(selector: "{app: cache, v: two}", labels: "{app: cache, v: two}"), other,
                ]))
        let legacy = WorkloadKey(.replicationController, "x", "legacy")
        let released = Set(t.cluster(afterStep: 0).pods(of: Self.key).map(\.key))
        let after = t.cluster(afterStep: 2)
        #expect(Set(after.pods(of: legacy).map(\.key)).isSuperset(of: released))
        #expect(after.pods(of: legacy).count == 3)
        #expect(after.pods(of: Self.key).count == 2)
    }

    /// Without a written selector the API server defaulted it from the template's labels when
    /// created; an apply that writes none keeps it, so a template whose labels it no longer
    /// matches is refused at the labels; writing the selector changes it.
    @Test func aDefaultedSelectorIsKept() throws {
        let text = Self.scenario(
            [Self.controller(selector: nil, labels: "{app: cache}")], updates: [Self.controller(selector: nil, labels: "{app: store}")])
        let error = try #require(timelineError(text))
        #expect(error.message.contains("`selector` does not match template `labels`"))
        #expect(error.message.contains("map[app:store]"))
        #expect(error.location.line == 9)
        #expect(error.location.column == column(of: "{app: store}", line: 9, in: text))
        // More labels still match the kept selector: the pods stay.
        let kept = try timeline(
            Self.scenario(
                [Self.controller(selector: nil, labels: "{app: cache}")],
                updates: [Self.controller(selector: nil, labels: "{app: cache, v: two}")]))
        #expect(kept.cluster(afterStep: 1).workloads[Self.key]?.workload.selector.matchLabels == ["app": "cache"])
        #expect(
            Set(kept.cluster(afterStep: 1).pods(of: Self.key).map(\.key)) == Set(kept.cluster(afterStep: 0).pods(of: Self.key).map(\.key)))
        // Written, it changes, and the old pods are released.
        let written = try timeline(
            Self.scenario(
                [Self.controller(selector: nil, labels: "{app: cache}")],
                updates: [Self.controller(selector: "{app: store}", labels: "{app: store}")]))
        #expect(written.cluster(afterStep: 1).pods(of: Self.key).allSatisfy { $0.labels["app"] == "store" })
        #expect(written.cluster(afterStep: 1).pods.count == 4)
    }

    /// A ReplicaSet's selector is immutable (apps/v1): the update is refused at its selector.
    @Test func aReplicaSetSelectorChangeIsRefusedAtTheSelector() throws {
        let text = Self.scenario(
            [Self.controller(selector: "{matchLabels: {app: cache}}", labels: "{app: cache}", kind: "ReplicaSet", api: "apps/v1")],
            updates: [
                Self.controller(
                    selector: "{matchLabels: {app: cache, v: two}}", labels: "{app: cache, v: two}", kind: "ReplicaSet", api: "apps/v1")
            ])
        let error = try #require(timelineError(text))
        #expect(error.message.contains("ReplicaSet x/cache: spec.selector is immutable"))
        #expect(error.location.line == 9)
        #expect(error.location.column == column(of: "{matchLabels", line: 9, in: text))
    }

    // MARK: Service selector removed

    static let web =
        "{apiVersion: v1, kind: Pod, metadata: {name: web, namespace: x, labels: {app: web}}, spec: {containers: [{name: c, image: i, ports: [{name: http, containerPort: 8080}]}]}}"
    static let client = "{apiVersion: v1, kind: Pod, metadata: {name: client, namespace: x}, spec: {containers: [{name: c, image: i}]}}"
    static func service(selector: String?, target: String = "http") -> String {
        "{apiVersion: v1, kind: Service, metadata: {name: front, namespace: x}, spec: {\(selector.map { "selector: \($0), " } ?? "")ports: [{port: 80, targetPort: \(target)}]}}"
    }

    static func backends(_ t: Timeline, afterStep step: Int) -> [String] {
        let cluster = t.cluster(afterStep: step)
        guard let service = cluster.services[ObjectKey("x", "front")] else { return [] }
        return cluster.backends(of: service, port: service.ports[0]).map(\.description)
    }

    /// The EndpointSlice controller leaves the slices of a Service whose selector is removed
    /// (`syncService` returns early): the Service still reaches the pod it selected, on the port
    /// resolved then; a pod labelled to match later is no endpoint; a selector written again
    /// hands the Service back to the controller.
    @Test func aRemovedSelectorLeavesTheSlicesAsTheyWere() throws {
        let late =
            "{apiVersion: v1, kind: Pod, metadata: {name: late, namespace: x, labels: {app: web}}, spec: {containers: [{name: c, image: i, ports: [{name: http, containerPort: 9090}]}]}}"
        let t = try timeline(
            Self.scenario(
                [Self.web, Self.client, Self.service(selector: "{app: web}")],
                updates: [Self.service(selector: nil, target: "8080"), late, Self.service(selector: "{app: web}")]))
        #expect(Self.backends(t, afterStep: 0) == ["x/web TCP/8080"])
        // The slice keeps the port resolved from `http`, whatever the new targetPort says.
        #expect(Self.backends(t, afterStep: 1) == ["x/web TCP/8080"])
        #expect(Self.backends(t, afterStep: 2) == ["x/web TCP/8080"])
        #expect(Self.backends(t, afterStep: 3) == ["x/late TCP/9090", "x/web TCP/8080"])
        let engine = PolicyEngine(t.cluster(afterStep: 1))
        let verdict = engine.evaluate(
            from: .pod(ObjectKey("x", "client")), to: .service(ObjectKey("x", "front"), backend: ObjectKey("x", "web")),
            port: ProtocolPort(.tcp, 80))
        #expect(verdict.decision.allows)
        // A Service created without a selector has no endpoints, as before.
        let fresh = try timeline(Self.scenario([Self.web, Self.service(selector: nil)], updates: []))
        #expect(Self.backends(fresh, afterStep: 0).isEmpty)
    }

    /// A listed pod that is deleted is no backend any more (kube-proxy would send to its stale
    /// address, where nothing answers).
    @Test func aDeletedPodLeavesTheRetainedEndpoints() throws {
        let text =
            Self.scenario([Self.web, Self.service(selector: "{app: web}")], updates: [Self.service(selector: nil)])
            + "\n    - delete: [{kind: Pod, namespace: x, name: web}]"
        let t = try timeline(text)
        #expect(Self.backends(t, afterStep: 1) == ["x/web TCP/8080"])
        #expect(Self.backends(t, afterStep: 2).isEmpty)
    }
}
