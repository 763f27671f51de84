import Foundation
import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

private typealias T = ScenarioText

/// A workload resource (written at column 1): `kind` in prod with `spec` (indented YAML).
private func workload(_ kind: String, _ name: String, api: String = "apps/v1", _ spec: String) -> String {
    """
    - apiVersion: \(api)
      kind: \(kind)
      metadata: {name: \(name), namespace: prod}
      spec:
    \(T.indent(spec, 4))
    """
}

/// A Deployment `name` selecting `app: <name>` with a template of the given version label.
private func deployment(_ name: String = "shop", replicas: Int? = 2, version: String = "v1") -> String {
    workload(
        "Deployment", name,
        """
        \(replicas.map { "replicas: \($0)" } ?? "")
        selector: {matchLabels: {app: \(name)}}
        template:
          metadata: {labels: {app: \(name), version: \(version)}}
          spec:
            serviceAccountName: shopper
            nodeName: node-0
            containers: [{name: c, image: i, command: [serve], args: ["--port", "80"], ports: [{containerPort: 80, name: http}]}]
        """)
}

private let statefulSet = workload(
    "StatefulSet", "db",
    """
    replicas: 3
    serviceName: db
    selector: {matchLabels: {app: db}}
    template:
      metadata: {labels: {app: db}}
      spec: {containers: [{name: c, image: i, ports: [{containerPort: 5432}]}]}
    """)

private let job = workload(
    "Job", "migrate", api: "batch/v1",
    """
    parallelism: 3
    completions: 2
    template:
      metadata: {labels: {app: migrate}}
      spec: {restartPolicy: Never, containers: [{name: c, image: i}]}
    """)

/// The pods of `key` after `step` (0: after the resources).
private func pods(_ t: Timeline, _ key: String, after step: Int = 0) -> [Pod] {
    guard let workload = WorkloadKey.parse(key) else {
        Issue.record("not a workload key: \(key)")
        return []
    }
    return t.cluster(afterStep: step).pods(of: workload)
}

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

private let alphabet = Set("bcdfghjklmnpqrstvwxz2456789")

@Suite("Workloads: decoding, names, labels, validation")
struct WorkloadDecodingTests {
    /// A Deployment's pods: `<name>-<pod-template-hash>-<5>` with the hash as a label, the
    /// template's labels, ports, command+args, serviceAccountName and nodeName; the same names on
    /// every parse.
    @Test func deploymentPods() throws {
        let t = try timeline(T.scenario(resources: deployment()))
        let made = pods(t, "prod/deployment/shop")
        #expect(made.count == 2)
        for pod in made {
            let parts = pod.name.split(separator: "-").map(String.init)
            #expect(parts.count == 3 && parts[0] == "shop")
            #expect(parts[2].count == 5 && parts[2].allSatisfy(alphabet.contains))
            #expect(!parts[1].isEmpty && parts[1].count <= 10 && parts[1].allSatisfy(alphabet.contains))
            #expect(pod.labels == ["app": "shop", "version": "v1", "pod-template-hash": parts[1]])
            #expect(pod.namespace == "prod")
            #expect(pod.ports == [ContainerPort(name: "http", port: 80)])
            #expect(pod.commands == [["serve", "--port", "80"]])
            #expect(pod.serviceAccountName == "shopper")
            #expect(pod.nodeName == "node-0")
            #expect(t.plan.addresses[pod.key] != nil)
        }
        #expect(Set(made.map(\.name)).count == 2)
        let again = try timeline(T.scenario(resources: deployment()))
        #expect(pods(again, "prod/deployment/shop").map(\.name) == made.map(\.name))
    }

    /// StatefulSet pods are `<name>-<ordinal>` with the labels the controller adds.
    @Test func statefulSetPods() throws {
        let t = try timeline(T.scenario(resources: statefulSet))
        let made = pods(t, "prod/statefulset/db")
        #expect(made.map(\.name) == ["db-0", "db-1", "db-2"])
        let state = try #require(t.initial.workloads[WorkloadKey(.statefulSet, "prod", "db")])
        let hash = WorkloadController.templateHash(state.workload.template)
        #expect(state.workload.template.labels == ["app": "db"])
        for (ordinal, pod) in made.enumerated() {
            #expect(pod.labels["statefulset.kubernetes.io/pod-name"] == "db-\(ordinal)")
            #expect(pod.labels["apps.kubernetes.io/pod-index"] == "\(ordinal)")
            #expect(pod.labels["controller-revision-hash"] == "db-\(hash)")
            #expect(pod.labels["app"] == "db")
        }
    }

    /// `spec.ordinals.start` shifts the ordinals.
    @Test func statefulSetStartOrdinal() throws {
        let set = workload(
            "StatefulSet", "db",
            """
            replicas: 2
            ordinals: {start: 5}
            selector: {matchLabels: {app: db}}
            template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, image: i}]}}
            """)
        let t = try timeline(T.scenario(resources: set))
        #expect(pods(t, "prod/statefulset/db").map(\.name) == ["db-5", "db-6"])
    }

    /// A DaemonSet runs one pod on each lab node, pinned there.
    @Test func daemonSetOnEveryNode() throws {
        let set = workload(
            "DaemonSet", "agent",
            """
            selector: {matchLabels: {app: agent}}
            template: {metadata: {labels: {app: agent}}, spec: {containers: [{name: c, image: i}]}}
            """)
        let text = T.scenario(resources: set).replacingOccurrences(
            of: "spec:\n  resources:", with: "spec:\n  lab: {nodes: 3}\n  resources:")
        let t = try timeline(text)
        let made = pods(t, "prod/daemonset/agent")
        #expect(made.count == 3)
        #expect(Set(made.compactMap(\.nodeName)) == ["node-0", "node-1", "node-2"])
        for pod in made {
            #expect(pod.name.hasPrefix("agent-") && pod.name.count == "agent-".count + 5)
            #expect(pod.labels["pod-template-generation"] == "1")
            #expect(pod.labels["controller-revision-hash"] == pod.owner?.revision)
            #expect(t.plan.nodes[pod.key].map { "node-\($0)" } == pod.nodeName)
        }
    }

    /// A DaemonSet whose template names a node runs its pod only on the lab node of that name
    /// (`NodeShouldRunDaemonPod`); a name no lab node has runs none, with a warning at the field.
    /// A new template without the name puts a pod on every node.
    @Test func daemonSetTemplateNodeName() throws {
        func set(_ nodeName: String?) -> String {
            workload(
                "DaemonSet", "agent",
                """
                selector: {matchLabels: {app: agent}}
                template: {metadata: {labels: {app: agent}}, spec: {\(nodeName.map { "nodeName: \($0), " } ?? "")containers: [{name: c, image: i}]}}
                """)
        }
        func threeNodes(_ text: String) -> String {
            text.replacingOccurrences(of: "spec:\n  resources:", with: "spec:\n  lab: {nodes: 3}\n  resources:")
        }
        let text = threeNodes(T.scenario(resources: set("node-1"), steps: "- apply:\n" + T.indent(set(nil), 4)))
        let t = try timeline(text)
        let pinned = pods(t, "prod/daemonset/agent")
        #expect(pinned.map(\.nodeName) == ["node-1"])
        #expect(pinned.map { t.plan.nodes[$0.key] } == [1])
        #expect(!t.warnings.contains { $0.message.contains("matches no lab node") }, "\(t.warnings)")
        #expect(Set(pods(t, "prod/daemonset/agent", after: 1).compactMap(\.nodeName)) == ["node-0", "node-1", "node-2"])
        for name in ["node-3", "node-01", "ip-10-0-1-23.ec2.internal"] {
            let text = threeNodes(T.scenario(resources: set(name)))
            let t = try timeline(text)
            #expect(pods(t, "prod/daemonset/agent").isEmpty, "\(name)")
            let warning = try #require(
                t.warnings.first { $0.message.contains("spec.template.spec.nodeName \"\(name)\" matches no lab node (node-0 ... node-2)") },
                "\(name): \(t.warnings)")
            let spot = try #require(Spot.at("nodeName: \(name)", column: name).resolve(in: text))
            #expect(warning.location.line == spot.line && warning.location.column == spot.column, "\(warning)")
        }
    }

    /// A StatefulSet's `persistentVolumeClaimRetentionPolicy` takes Retain or Delete (absent or ""
    /// is Retain); anything else, or an unknown field in it, is refused at the field.
    @Test func statefulSetClaimRetentionPolicy() throws {
        func set(_ policy: String) -> String {
            workload(
                "StatefulSet", "db",
                """
                persistentVolumeClaimRetentionPolicy: \(policy)
                selector: {matchLabels: {app: db}}
                template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, image: i}]}}
                """)
        }
        for accepted in ["{whenDeleted: Retain, whenScaled: Delete}", "{whenDeleted: Delete}", "{whenScaled: ''}", "{}", "null"] {
            #expect(pods(try timeline(T.scenario(resources: set(accepted))), "prod/statefulset/db").count == 1, "\(accepted)")
        }
        for (policy, token, message) in [
            ("{whenDeleted: Bogus}", "Bogus", "whenDeleted: Unsupported value: \"Bogus\": supported values: \"Retain\", \"Delete\""),
            ("{whenScaled: retain}", "retain", "whenScaled: Unsupported value: \"retain\""),
            ("{whenDelete: Retain}", "whenDelete", "unknown field \"whenDelete\""),
        ] {
            let text = T.scenario(resources: set(policy))
            let error = try #require(parseError(text))
            #expect(error.message.contains(message), "\(error)")
            let spot = try #require(Spot.at("persistentVolumeClaimRetentionPolicy", column: token).resolve(in: text))
            #expect(error.location.line == spot.line && error.location.column == spot.column, "\(error)")
        }
    }

    /// A Job runs min(parallelism, completions) pods with the four labels the API server adds, its
    /// uid in the API server's format.
    @Test func jobPods() throws {
        let t = try timeline(T.scenario(resources: job))
        let made = pods(t, "prod/job/migrate")
        #expect(made.count == 2)
        let uid = try #require(made.first?.labels["batch.kubernetes.io/controller-uid"])
        #expect(uid.range(of: "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", options: .regularExpression) != nil)
        for pod in made {
            #expect(pod.name.hasPrefix("migrate-"))
            #expect(pod.labels["batch.kubernetes.io/job-name"] == "migrate")
            #expect(pod.labels["job-name"] == "migrate")
            #expect(pod.labels["controller-uid"] == uid)
            #expect(pod.labels["batch.kubernetes.io/controller-uid"] == uid)
            #expect(pod.labels["app"] == "migrate")
        }
    }

    /// A Job's selector written without manualSelector is taken once the API server's
    /// controller-uid term makes it match the generated labels alone (`selector: {}`, a job-name
    /// term): the pods are the Job's own. A selector those labels do not satisfy is refused.
    @Test(arguments: [
        "{}", "{matchLabels: {}}", "{matchLabels: {job-name: migrate}}", "{matchExpressions: [{key: tier, operator: DoesNotExist}]}",
    ])
    func aJobSelectorTheGeneratedLabelsSatisfyIsAccepted(_ selector: String) throws {
        let text = job.replacingOccurrences(of: "    parallelism: 3", with: "    selector: \(selector)\n    parallelism: 3")
        let t = try timeline(T.scenario(resources: text))
        let made = pods(t, "prod/job/migrate")
        #expect(made.count == 2)
        #expect(made.allSatisfy { $0.labels["batch.kubernetes.io/controller-uid"] != nil })
    }

    @Test(arguments: ["{matchLabels: {app: migrate}}", "{matchLabels: {job-name: other}}", "{matchLabels: {controller-uid: x}}"])
    func aJobSelectorTheGeneratedLabelsDoNotSatisfyIsRefused(_ selector: String) throws {
        let text = job.replacingOccurrences(of: "    parallelism: 3", with: "    selector: \(selector)\n    parallelism: 3")
        let error = try #require(timelineError(T.scenario(resources: text)))
        #expect("\(error)".contains("`selector` not auto-generated"), "\(error)")
    }

    /// An Indexed Job's pods carry their index in their name and a label.
    @Test func indexedJob() throws {
        let indexed = workload(
            "Job", "work", api: "batch/v1",
            """
            parallelism: 2
            completions: 4
            completionMode: Indexed
            template: {spec: {restartPolicy: OnFailure, containers: [{name: c, image: i}]}}
            """)
        let made = pods(try timeline(T.scenario(resources: indexed)), "prod/job/work")
        #expect(made.compactMap { $0.labels["batch.kubernetes.io/job-completion-index"] }.sorted() == ["0", "1"])
        for pod in made {
            let index = pod.labels["batch.kubernetes.io/job-completion-index"] ?? "?"
            #expect(pod.name.hasPrefix("work-\(index)-") && pod.name.count == "work-0-".count + 5)
        }
    }

    /// A CronJob's Indexed Job gives each pod its own index, label and hostname, as a Job's does.
    @Test func indexedCronJob() throws {
        let cron = workload(
            "CronJob", "sweep", api: "batch/v1",
            """
            schedule: "@hourly"
            jobTemplate:
              spec:
                completionMode: Indexed
                completions: 3
                parallelism: 3
                template: {spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}
            """)
        let made = pods(try timeline(T.scenario(resources: cron)), "prod/cronjob/sweep")
        #expect(made.compactMap { $0.labels["batch.kubernetes.io/job-completion-index"] }.sorted() == ["0", "1", "2"])
        let job = try #require(made.first?.labels["job-name"])
        #expect(Set(made.compactMap(\.hostname)) == Set((0..<3).map { "\(job)-\($0)" }))
        for pod in made {
            let index = pod.labels["batch.kubernetes.io/job-completion-index"] ?? "?"
            #expect(pod.name.hasPrefix("\(job)-\(index)-"))
        }
    }

    /// An Indexed Job whose name leaves no room for `-<index>-` in 58 characters has its name cut,
    /// not the index (`podGenerateNameWithIndex`): `<job cut>-<index>-<5 chars>`, 63 characters.
    @Test func longIndexedJobNameKeepsTheIndex() throws {
        let name = String(repeating: "a", count: 60)
        let indexed = workload(
            "Job", name, api: "batch/v1",
            """
            parallelism: 3
            completions: 3
            completionMode: Indexed
            template: {spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}
            """)
        let made = pods(try timeline(T.scenario(resources: indexed)), "prod/job/\(name)")
        #expect(made.count == 3)
        for pod in made {
            let index = pod.labels["batch.kubernetes.io/job-completion-index"] ?? "?"
            #expect(pod.name.hasPrefix(String(repeating: "a", count: 55) + "-\(index)-") && pod.name.count == 63, "\(pod.name)")
        }
    }

    /// A Job with `manualSelector: true` claims the bare pods its selector matches
    /// (`getPodsForJob` → `ClaimPods`), counted as active: with parallelism 1 it makes no pod.
    @Test func manualSelectorJobAdoptsBarePods() throws {
        let bare = """
            - apiVersion: v1
              kind: Pod
              metadata: {name: worker-bare, namespace: prod, labels: {app: worker}}
              spec: {restartPolicy: Never, containers: [{name: c, image: i}]}
            """
        let manual = workload(
            "Job", "work", api: "batch/v1",
            """
            manualSelector: true
            selector: {matchLabels: {app: worker}}
            parallelism: 1
            template: {metadata: {labels: {app: worker}}, spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}
            """)
        let made = pods(try timeline(T.scenario(resources: bare + "\n" + manual)), "prod/job/work")
        #expect(made.map(\.name) == ["worker-bare"])
    }

    /// A CronJob runs the pods of one Job made from its jobTemplate; suspended, none.
    @Test func cronJobPods() throws {
        let cron = { (suspend: Bool) in
            workload(
                "CronJob", "nightly", api: "batch/v1",
                """
                schedule: "0 3 * * *"
                suspend: \(suspend)
                jobTemplate:
                  metadata: {labels: {team: ops}}
                  spec:
                    template:
                      metadata: {labels: {app: nightly}}
                      spec: {restartPolicy: Never, containers: [{name: c, image: i}]}
                """)
        }
        let made = pods(try timeline(T.scenario(resources: cron(false))), "prod/cronjob/nightly")
        #expect(made.count == 1)
        let jobName = try #require(made.first?.labels["job-name"])
        #expect(jobName.range(of: "^nightly-[0-9]{8}$", options: .regularExpression) != nil)
        #expect(made.first?.name.hasPrefix(jobName + "-") == true)
        #expect(made.first?.labels["app"] == "nightly")
        #expect(pods(try timeline(T.scenario(resources: cron(true))), "prod/cronjob/nightly").isEmpty)
    }

    /// A selector-less ReplicationController selects its template's labels; a ReplicaSet runs
    /// `<name>-<5>` pods; replicas 0 runs none; a Job's parallelism 0 none.
    @Test func replicationControllerReplicaSetAndZero() throws {
        let rc = workload(
            "ReplicationController", "legacy", api: "v1",
            """
            replicas: 2
            template: {metadata: {labels: {app: legacy}}, spec: {containers: [{name: c, image: i}]}}
            """)
        let rs = workload(
            "ReplicaSet", "cache",
            """
            replicas: 0
            selector: {matchExpressions: [{key: app, operator: In, values: [cache]}]}
            template: {metadata: {labels: {app: cache}}, spec: {containers: [{name: c, image: i}]}}
            """)
        let t = try timeline(T.scenario(resources: rc + "\n" + rs))
        let legacy = pods(t, "prod/replicationcontroller/legacy")
        #expect(legacy.count == 2)
        #expect(legacy.allSatisfy { $0.name.hasPrefix("legacy-") && $0.name.count == 12 && $0.labels == ["app": "legacy"] })
        let state = try #require(t.initial.workloads[WorkloadKey(.replicationController, "prod", "legacy")])
        #expect(state.workload.selector.matchLabels == ["app": "legacy"])
        #expect(pods(t, "prod/replicaset/cache").isEmpty)
    }

    /// A template on the host network makes host-network pods: one per node for a DaemonSet, each
    /// with its node's address.
    @Test func hostNetworkTemplateMakesHostNetworkPods() throws {
        let ds = workload(
            "DaemonSet", "proxy",
            """
            selector: {matchLabels: {app: proxy}}
            template: {metadata: {labels: {app: proxy}}, spec: {hostNetwork: true, containers: [{name: c, image: i, ports: [{containerPort: 9100}]}]}}
            """)
        let t = try timeline(T.scenario(resources: ds) + "  lab: {nodes: 2}\n")
        let made = pods(t, "prod/daemonset/proxy")
        #expect(made.count == 2)
        #expect(made.allSatisfy { $0.hostNetwork })
        let addresses = Set(made.compactMap { t.initial.addresses[$0.key] })
        #expect(addresses == [IPv4("100.64.0.2"), IPv4("100.64.0.6")])
        #expect(!t.warnings.contains { $0.message.contains("host network") })
    }

    /// Workload kinds are no longer ignored as unknown kinds.
    @Test func noUnknownKindWarning() throws {
        let t = try timeline(T.scenario(resources: deployment() + "\n" + statefulSet + "\n" + job))
        #expect(!t.warnings.contains { $0.message.contains("not understood") })
    }

    static let invalid: [(String, String, String)] = [
        (
            "apps/v1 needs a selector",
            workload("Deployment", "a", "template: {metadata: {labels: {app: a}}, spec: {containers: [{name: c, image: i}]}}"),
            "needs spec.selector"
        ),
        (
            "selector must match the template",
            workload(
                "StatefulSet", "a",
                "selector: {matchLabels: {app: b}}\ntemplate: {metadata: {labels: {app: a}}, spec: {containers: [{name: c, image: i}]}}"),
            "does not match template `labels`"
        ),
        (
            "empty selector",
            workload(
                "ReplicaSet", "a", "selector: {}\ntemplate: {metadata: {labels: {app: a}}, spec: {containers: [{name: c, image: i}]}}"),
            "empty selector is invalid for replicaset"
        ),
        (
            "negative replicas",
            workload(
                "Deployment", "a",
                "replicas: -1\nselector: {matchLabels: {app: a}}\ntemplate: {metadata: {labels: {app: a}}, spec: {containers: [{name: c, image: i}]}}"
            ),
            "spec.replicas"
        ),
        (
            "more replicas than a lab holds",
            workload(
                "Deployment", "a",
                "replicas: 2000000000\nselector: {matchLabels: {app: a}}\ntemplate: {metadata: {labels: {app: a}}, spec: {containers: [{name: c, image: i}]}}"
            ),
            "keycard runs at most 10000 pods per workload"
        ),
        (
            "apps/v1 template must restart Always",
            workload(
                "Deployment", "a",
                "selector: {matchLabels: {app: a}}\ntemplate: {metadata: {labels: {app: a}}, spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}"
            ),
            "restartPolicy \"Never\" is not supported"
        ),
        (
            "Job needs a restartPolicy",
            workload("Job", "a", api: "batch/v1", "template: {spec: {containers: [{name: c, image: i}]}}"),
            "restartPolicy is required for a Job"
        ),
        (
            "Job selector without manualSelector",
            workload(
                "Job", "a", api: "batch/v1",
                "selector: {matchLabels: {app: a}}\ntemplate: {metadata: {labels: {app: a}}, spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}"
            ),
            "`selector` not auto-generated"
        ),
        (
            "CronJob name too long",
            workload(
                "CronJob", String(repeating: "c", count: 53), api: "batch/v1",
                "schedule: '* * * * *'\njobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}}}"),
            "no more than 52 characters"
        ),
        (
            "wrong apiVersion",
            workload("Deployment", "a", api: "extensions/v1beta1", "replicas: 1"),
            "must have apiVersion apps/v1"
        ),
        (
            "selector-less RC without template labels",
            workload("ReplicationController", "a", api: "v1", "template: {spec: {containers: [{name: c, image: i}]}}"),
            "needs spec.selector or template labels"
        ),
    ]

    /// Each invalid workload is refused at its place in the file.
    @Test func invalidWorkloads() {
        for (name, resource, message) in Self.invalid {
            let text = T.scenario(resources: resource)
            guard let error = parseError(text) else { continue }
            #expect(error.message.contains(message), "\(name): \(error)")
            #expect(error.location.file == "bad.yaml", "\(name)")
            #expect(error.location.line > 1, "\(name)")
        }
    }
}

@Suite("Workloads in the timeline: rollout, scale, delete, references")
struct WorkloadTimelineTests {
    /// A new template rolls a Deployment out: new pod-template-hash, new pods, the old ones gone;
    /// every pod that ever exists has its own address from the start.
    @Test func rolloutReplacesPods() throws {
        let t = try timeline(T.scenario(resources: deployment(), steps: "- apply:\n" + T.indent(deployment(version: "v2"), 4)))
        let before = pods(t, "prod/deployment/shop")
        let after = pods(t, "prod/deployment/shop", after: 1)
        #expect(after.count == 2)
        #expect(Set(before.map(\.key)).isDisjoint(with: after.map(\.key)))
        #expect(
            Set(before.compactMap { $0.labels["pod-template-hash"] }).isDisjoint(with: after.compactMap { $0.labels["pod-template-hash"] }))
        #expect(after.allSatisfy { $0.labels["version"] == "v2" })
        let addresses = (before + after).compactMap { t.plan.addresses[$0.key] }
        #expect(Set(addresses).count == 4)
        #expect(t.cluster(afterStep: 1).pods.keys.filter { before.map(\.key).contains($0) }.isEmpty)
    }

    /// Scaling up adds pods with addresses planned in advance; scaling down removes the newest;
    /// scaling a StatefulSet down removes the highest ordinals.
    @Test func scaleUpAndDown() throws {
        let steps = """
            - scale: {workload: prod/deployment/shop, replicas: 4}
            - scale: {workload: prod/deployment/shop, replicas: 1}
            - scale: {workload: prod/statefulset/db, replicas: 1}
            """
        let t = try timeline(T.scenario(resources: deployment() + "\n" + statefulSet, steps: steps))
        let two = pods(t, "prod/deployment/shop")
        let four = pods(t, "prod/deployment/shop", after: 1)
        #expect(four.count == 4)
        #expect(Set(two.map(\.key)).isSubset(of: four.map(\.key)))
        #expect(four.allSatisfy { t.plan.addresses[$0.key] != nil })
        let one = pods(t, "prod/deployment/shop", after: 2)
        #expect(one.count == 1)
        let oldest = four.min { ($0.owner?.ordinal ?? 0) < ($1.owner?.ordinal ?? 0) }
        #expect(one.first?.key == oldest?.key)
        #expect(pods(t, "prod/statefulset/db", after: 3).map(\.name) == ["db-0"])
    }

    /// Generated names never lose a replica: 10,000 replicas (keycard's cap) are 10,000 pods of
    /// distinct names, and so after a scale down and up (the API server's AlreadyExists makes the
    /// controller retry with a new name). ReplicaSet `web0`'s first candidates collide 13 times
    /// in 10,000 (none in its first 6,000); names that collide with nothing are the ones they
    /// always were.
    @Test(.timeLimit(.minutes(2)))
    func tenThousandReplicasAreTenThousandPods() throws {
        func replicaSet(_ replicas: Int) -> String {
            workload(
                "ReplicaSet", "web0",
                """
                replicas: \(replicas)
                selector: {matchLabels: {app: web0}}
                template:
                  metadata: {labels: {app: web0}}
                  spec: {containers: [{name: c, image: i}]}
                """)
        }
        let steps = """
            - scale: {workload: prod/replicaset/web0, replicas: 3000}
            - scale: {workload: prod/replicaset/web0, replicas: 10000}
            """
        let t = try timeline(T.scenario(resources: replicaSet(10000), steps: steps))
        for (step, count) in [(0, 10000), (1, 3000), (2, 10000)] {
            let made = pods(t, "prod/replicaset/web0", after: step)
            #expect(made.count == count, "after step \(step)")
            #expect(Set(made.map(\.name)).count == count, "after step \(step)")
        }
        // 10,000, then 7,000 more after the scale-up: never a name twice.
        let web0 = WorkloadKey.parse("prod/replicaset/web0")
        let every = t.everyPod.compactMap { if case .pod(let pod) = $0.object, pod.owner?.workload == web0 { pod.key } else { nil } }
        #expect(Set(every).count == 17000)
        let byOrdinal = pods(t, "prod/replicaset/web0").sorted { ($0.owner?.ordinal ?? 0) < ($1.owner?.ordinal ?? 0) }
        let two = pods(try timeline(T.scenario(resources: replicaSet(2))), "prod/replicaset/web0")
        #expect(byOrdinal.prefix(2).map(\.name) == two.sorted { ($0.owner?.ordinal ?? 0) < ($1.owner?.ordinal ?? 0) }.map(\.name))
    }

    /// A generated name another pod of the namespace holds is skipped: the replica is made under
    /// the next name, not refused (was: "wants pod ..., but that name is taken by a bare pod").
    @Test func aGeneratedNameABarePodHoldsIsSkipped() throws {
        let replicas = pods(try timeline(T.scenario(resources: deployment())), "prod/deployment/shop")
        let held = try #require(replicas.first)
        let bare =
            "- {apiVersion: v1, kind: Pod, metadata: {name: \(held.name), namespace: prod, labels: {app: other}}, spec: {containers: [{name: c, image: i}]}}"
        let t = try timeline(T.scenario(resources: bare + "\n" + deployment()))
        let made = pods(t, "prod/deployment/shop")
        #expect(made.count == 2)
        #expect(!made.map(\.key).contains(held.key))
        #expect(made.map(\.name).contains(replicas[1].name))
        #expect(t.cluster(afterStep: 0).pods[held.key]?.owner == nil)
    }

    /// Every field of the template is in its hash (`controller.ComputeHash` hashes the whole
    /// PodTemplateSpec): a new hostname, subdomain, env, hostAliases, setHostnameAsFQDN,
    /// enableServiceLinks or node selector rolls a Deployment out and replaces a StatefulSet's
    /// and a DaemonSet's pods, each pod then running the new template.
    @Test(arguments: [
        ("hostname: web", "hostname: www"), ("subdomain: old", "subdomain: new"),
        ("env: [{name: A, value: \"1\"}]", "env: [{name: A, value: \"2\"}]"),
        ("hostAliases: [{ip: 10.9.9.9, hostnames: [a]}]", "hostAliases: [{ip: 10.9.9.9, hostnames: [b]}]"),
        ("setHostnameAsFQDN: false", "setHostnameAsFQDN: true"), ("enableServiceLinks: true", "enableServiceLinks: false"),
        ("nodeSelector: {kubernetes.io/os: windows}", "nodeSelector: {kubernetes.io/os: linux}"),
    ])
    func everyTemplateFieldRollsOut(_ old: String, _ new: String) throws {
        let spec = { (kind: String, field: String) in
            let env = field.hasPrefix("env") ? ", \(field)" : ""
            let pod = field.hasPrefix("env") ? "" : "\(field), "
            return """
                selector: {matchLabels: {app: web}}
                \(kind == "StatefulSet" ? "serviceName: web" : "")
                template:
                  metadata: {labels: {app: web}}
                  spec: {\(pod)containers: [{name: c, image: i, command: [serve]\(env)}]}
                """
        }
        // A StatefulSet's controller sets its pods' hostname and subdomain itself (`initIdentity`):
        // keycard does not keep them from its template, so they are not in its hash.
        let kinds =
            old.hasPrefix("hostname") || old.hasPrefix("subdomain")
            ? ["Deployment", "DaemonSet"] : ["Deployment", "StatefulSet", "DaemonSet"]
        for kind in kinds {
            let set = { (field: String) in workload(kind, "web", spec(kind, field)) }
            let t = try timeline(T.scenario(resources: set(old), steps: "- apply:\n" + T.indent(set(new), 4)))
            let key = "prod/\(kind.lowercased())/web"
            let before = pods(t, key)
            let after = pods(t, key, after: 1)
            let workloadKey = try #require(WorkloadKey.parse(key))
            let state = try #require(t.cluster(afterStep: 1).workloads[workloadKey])
            #expect(!after.isEmpty, "\(kind) \(new)")
            #expect(
                after.allSatisfy { $0.owner?.revision == WorkloadController.templateHash(state.workload.template) }, "\(kind) \(new)")
            #expect(before.allSatisfy { $0.owner?.revision != WorkloadController.templateHash(state.workload.template) }, "\(kind) \(new)")
        }
    }

    /// A StatefulSet rollout keeps names and addresses and changes the revision label.
    @Test func statefulSetRolloutKeepsNames() throws {
        let v2 = statefulSet.replacingOccurrences(of: "labels: {app: db}", with: "labels: {app: db, v: \"2\"}")
        let t = try timeline(T.scenario(resources: statefulSet, steps: "- apply:\n" + T.indent(v2, 4)))
        let before = pods(t, "prod/statefulset/db")
        let after = pods(t, "prod/statefulset/db", after: 1)
        #expect(before.map(\.key) == after.map(\.key))
        #expect(after.allSatisfy { $0.labels["v"] == "2" })
        #expect(before[0].labels["controller-revision-hash"] != after[0].labels["controller-revision-hash"])
    }

    /// `rollingUpdate.partition: 2`: the new template replaces db-2 only; db-0 and db-1 keep the
    /// revision they run ("Partitioned rolling updates"); lowering the partition rolls them too.
    @Test func statefulSetPartitionKeepsLowerOrdinals() throws {
        let partitioned = statefulSet.replacingOccurrences(
            of: "serviceName: db", with: "serviceName: db\n    updateStrategy: {rollingUpdate: {partition: 2}}")
        let v2 = partitioned.replacingOccurrences(of: "labels: {app: db}", with: "labels: {app: db, v: \"2\"}")
        let all = v2.replacingOccurrences(of: "partition: 2", with: "partition: 0")
        let t = try timeline(T.scenario(resources: partitioned, steps: "- apply:\n" + T.indent(v2, 4) + "\n- apply:\n" + T.indent(all, 4)))
        let rolled = pods(t, "prod/statefulset/db", after: 1)
        #expect(rolled.map { $0.labels["v"] ?? "-" } == ["-", "-", "2"])
        #expect(pods(t, "prod/statefulset/db", after: 2).allSatisfy { $0.labels["v"] == "2" })
    }

    /// A ReplicaSet does not roll out: a new template changes only pods created later.
    @Test func replicaSetKeepsOldPodsOnNewTemplate() throws {
        let rs = { (version: String) in
            workload(
                "ReplicaSet", "cache",
                """
                replicas: 1
                selector: {matchLabels: {app: cache}}
                template: {metadata: {labels: {app: cache, v: "\(version)"}}, spec: {containers: [{name: c, image: i}]}}
                """)
        }
        let t = try timeline(
            T.scenario(
                resources: rs("1"), steps: "- apply:\n" + T.indent(rs("2"), 4) + "\n- scale: {workload: prod/replicaset/cache, replicas: 2}"
            ))
        #expect(pods(t, "prod/replicaset/cache", after: 1).map { $0.labels["v"] } == ["1"])
        #expect(pods(t, "prod/replicaset/cache", after: 2).compactMap { $0.labels["v"] }.sorted() == ["1", "2"])
    }

    /// Deleting a workload deletes its pods; deleting one of its pods makes the controller
    /// replace it under a new name; relabelling one out of the selector orphans it.
    @Test func deleteAndRelabel() throws {
        let t0 = try timeline(T.scenario(resources: deployment()))
        let first = try #require(pods(t0, "prod/deployment/shop").first)
        let steps = """
            - delete: [{kind: Pod, namespace: prod, name: \(first.name)}]
            - label: {kind: Pod, namespace: prod, name: \(pods(t0, "prod/deployment/shop")[1].name), labels: {app: stray}}
            - delete: [{kind: Deployment, namespace: prod, name: shop}]
            """
        let t = try timeline(T.scenario(resources: deployment(), steps: steps))
        let afterDelete = pods(t, "prod/deployment/shop", after: 1)
        #expect(afterDelete.count == 2 && !afterDelete.map(\.key).contains(first.key))
        let afterLabel = t.cluster(afterStep: 2)
        #expect(pods(t, "prod/deployment/shop", after: 2).count == 2)
        let orphanKey = ObjectKey("prod", pods(t0, "prod/deployment/shop")[1].name)
        #expect(afterLabel.pods[orphanKey]?.owner == nil)
        #expect(afterLabel.pods[orphanKey]?.labels == ["app": "stray"])
        let afterWorkloadDelete = t.cluster(afterStep: 3)
        #expect(afterWorkloadDelete.workloads.isEmpty)
        #expect(afterWorkloadDelete.pods[orphanKey] != nil)
        #expect(afterWorkloadDelete.pods.values.allSatisfy { $0.owner == nil })
        #expect(
            Set(t.everyPod.compactMap { if case .pod(let pod) = $0.object { pod.key } else { nil } }).allSatisfy {
                t.plan.addresses[$0] != nil
            })
    }

    /// A Deployment's ReplicaSet selects `pod-template-hash` too (`getNewReplicaSet`): a pod
    /// relabelled without it, though still matching the Deployment's selector, is released and
    /// replaced; one that keeps it stays.
    @Test func aPodWithoutItsTemplateHashIsReleased() throws {
        let t0 = try timeline(T.scenario(resources: deployment()))
        let first = try #require(pods(t0, "prod/deployment/shop").first)
        let kept = first.labels.map { "\($0.key): \($0.value)" }.sorted().joined(separator: ", ")
        let bare = first.labels.filter { $0.key != "pod-template-hash" }.map { "\($0.key): \($0.value)" }.sorted().joined(separator: ", ")
        let steps = """
            - label: {kind: Pod, namespace: prod, name: \(first.name), labels: {\(kept), extra: "1"}}
            - label: {kind: Pod, namespace: prod, name: \(first.name), labels: {\(bare)}}
            """
        let t = try timeline(T.scenario(resources: deployment(), steps: steps))
        #expect(t.cluster(afterStep: 1).pods[first.key]?.owner != nil)
        #expect(pods(t, "prod/deployment/shop", after: 1).contains { $0.key == first.key })
        let released = t.cluster(afterStep: 2)
        #expect(released.pods[first.key]?.owner == nil)
        #expect(pods(t, "prod/deployment/shop", after: 2).count == pods(t0, "prod/deployment/shop").count)
        #expect(!pods(t, "prod/deployment/shop", after: 2).contains { $0.key == first.key })
    }

    static let badSteps: [(String, String, String)] = [
        ("scale a DaemonSet", "- scale: {workload: prod/daemonset/agent, replicas: 2}", "cannot be scaled"),
        ("scale a missing workload", "- scale: {workload: prod/deployment/ghost, replicas: 2}", "prod/deployment/ghost does not exist"),
        (
            "probe a missing workload", "- probe: {from: [prod/deployment/ghost], to: [prod/web], ports: [TCP/80]}",
            "prod/deployment/ghost does not exist"
        ),
        (
            "change a Job's template", "- apply:\n" + T.indent(job.replacingOccurrences(of: "app: migrate", with: "app: other"), 4),
            "immutable"
        ),
        (
            "change a Deployment's selector",
            "- apply:\n"
                + T.indent(
                    deployment().replacingOccurrences(
                        of: "selector: {matchLabels: {app: shop}}", with: "selector: {matchLabels: {version: v1}}"), 4),
            "spec.selector is immutable"
        ),
        ("bad workload reference", "- scale: {workload: prod/pod/web, replicas: 2}", "must be namespace/kind/name"),
        ("scale beyond the lab", "- scale: {workload: prod/deployment/shop, replicas: 10001}", "at most 10000 pods per workload"),
    ]

    /// Steps that misuse workloads are refused at their place.
    @Test func badWorkloadSteps() {
        for (name, step, message) in Self.badSteps {
            guard let error = timelineError(T.scenario(resources: deployment() + "\n" + job, steps: step)) else { continue }
            #expect(error.message.contains(message), "\(name): \(error)")
        }
    }

    /// A StatefulSet whose pod name a bare pod it does not select holds cannot create it
    /// (AlreadyExists): a warning, no pod at that ordinal, and (OrderedReady) none after it.
    /// Applying a controller's pod with labels outside its selector releases it and the
    /// controller replaces it.
    @Test func nameTakenAndAppliedPod() throws {
        let bare = "- {apiVersion: v1, kind: Pod, metadata: {name: db-1, namespace: prod}, spec: {containers: [{name: c, image: i}]}}"
        let taken = try timeline(T.scenario(resources: bare + "\n" + statefulSet))
        #expect(taken.warnings.contains { $0.message.contains("prod/statefulset/db: pod prod/db-1 cannot be created") })
        #expect(pods(taken, "prod/statefulset/db").map(\.name) == ["db-0"])
        let replica = try #require(pods(try timeline(T.scenario(resources: deployment())), "prod/deployment/shop").first)
        let stray =
            "- {apiVersion: v1, kind: Pod, metadata: {name: \(replica.name), namespace: prod, labels: {app: stray}}, spec: {containers: [{name: c, image: i}]}}"
        let t = try timeline(T.scenario(resources: deployment(), steps: "- apply:\n" + T.indent(stray, 4)))
        let after = t.cluster(afterStep: 1)
        #expect(after.pods[replica.key]?.owner == nil)
        // No manifest was applied to it before: apply sets `app` and removes none of its labels.
        #expect(after.pods[replica.key]?.labels == replica.labels.merging(["app": "stray"]) { $1 })
        #expect(pods(t, "prod/deployment/shop", after: 1).count == 2)
        #expect(!pods(t, "prod/deployment/shop", after: 1).map(\.key).contains(replica.key))
        // A StatefulSet cannot replace a released pod: its name is the released pod's.
        let dbStray =
            "- {apiVersion: v1, kind: Pod, metadata: {name: db-1, namespace: prod, labels: {app: stray}}, spec: {containers: [{name: c, image: i}]}}"
        let stuck = try timeline(T.scenario(resources: statefulSet, steps: "- apply:\n" + T.indent(dbStray, 4)))
        #expect(stuck.cluster(afterStep: 1).pods[ObjectKey("prod", "db-1")]?.owner == nil)
        #expect(pods(stuck, "prod/statefulset/db", after: 1).map(\.name).sorted() == ["db-0", "db-2"])
    }

    /// Scaling up and down again and again makes new pods each time (names are never reused):
    /// past the bound on all pods, the scenario is refused at the step that crosses it.
    @Test(.timeLimit(.minutes(1)))
    func boundOnEveryPod() throws {
        let cycle = "- scale: {workload: prod/deployment/shop, replicas: 10000}\n- scale: {workload: prod/deployment/shop, replicas: 0}"
        let steps = Array(repeating: cycle, count: 11).joined(separator: "\n")
        let error = try #require(timelineError(T.scenario(resources: deployment(), steps: steps)))
        #expect(error.message.contains("the scenario makes more than 100000 pods in all"))
        #expect(
            error.location.line == T.scenario(resources: deployment(), steps: steps).split(
                separator: "\n", omittingEmptySubsequences: false
            ).count - 2)
    }

    /// A pod named both by itself and through its workload is refused.
    @Test func podNamedTwice() throws {
        let replica = try #require(pods(try timeline(T.scenario(resources: deployment())), "prod/deployment/shop").first)
        let step = "- probe: {from: [prod/deployment/shop, \(replica.key)], to: [prod/web], ports: [TCP/80]}"
        let error = try #require(timelineError(T.scenario(resources: deployment(), steps: step)))
        #expect(error.message.contains("probe.from: pod \(replica.key) is named twice (as prod/deployment/shop and as \(replica.key))"))
    }

    /// A table row naming a workload is every replica's row; a wrong workload cell fails for each
    /// replica and the result names the workload cell and the replica.
    @Test func tablesNameWorkloads() throws {
        let deny = T.policy("podSelector: {matchLabels: {app: web}}\ningress: [{from: [{podSelector: {matchLabels: {app: api}}}]}]")
        let steps = """
            - probe: {from: [prod/deployment/shop, prod/api], to: [prod/web], ports: [TCP/80]}
              expect:
                TCP/80: |
                  -                     prod/web
                  prod/deployment/shop  .
                  prod/api              .
            """
        let t = try timeline(T.scenario(resources: deployment() + "\n" + deny, steps: steps))
        let cells = t.cells(ofProbeStep: 1)
        #expect(cells.count == 3)
        let replicaCells = cells.filter { $0.fromWorkload == WorkloadKey(.deployment, "prod", "shop") }
        #expect(replicaCells.count == 2)
        let results = cells.map { $0.result() }
        let wrong = results.filter { !$0.passed }
        #expect(wrong.count == 2)
        let replica = try #require(wrong.first)
        #expect(replica.cellDescription.hasPrefix("prod/deployment/shop -> prod/web TCP/80 (replica prod/shop-"))
        let json = String(decoding: try JSONEncoder().encode(replica), as: UTF8.self)
        #expect(json.contains("\"fromWorkload\":\"prod\\/deployment\\/shop\""))
        let decoded = try JSONDecoder().decode(ProbeResult.self, from: Data(json.utf8))
        #expect(decoded == replica)
        // Plain pod cells keep the old JSON shape.
        let plain = String(decoding: try JSONEncoder().encode(try #require(results.first { $0.fromWorkload == nil })), as: UTF8.self)
        #expect(!plain.contains("Workload"))
    }

    /// A scan from a workload scans from each replica; an open endpoint naming a workload stands
    /// for each of its pods (a replica does not scan itself); the step passes only when every
    /// replica sees exactly that.
    @Test func scanFromAndToWorkloads() throws {
        let scan = { (open: String) in
            """
            - scan: {from: prod/deployment/shop, targets: pods, ports: [80, 8080]}
              expect: {open: [\(open)]}
            """
        }
        let right = try timeline(T.scenario(resources: deployment(), steps: scan("prod/web:80, prod/api:8080, prod/deployment/shop:80")))
        #expect(right.scans[1]?.sources.count == 2)
        let report = ModelReport.build(right)
        #expect(report.passed)
        let froms = Set(
            (report.steps[0].results ?? []).compactMap { record -> ObjectKey? in
                if case .scan(let result) = record { return result.from }
                return nil
            })
        #expect(froms == Set(pods(right, "prod/deployment/shop").map(\.key)))
        let wrong = try timeline(T.scenario(resources: deployment(), steps: scan("prod/web:80, prod/api:8080")))
        #expect(!ModelReport.build(wrong).passed)
    }
}

/// A ReplicaSet or ReplicationController adopts bare pods its selector matches (`ClaimPods`,
/// kubernetes.io ReplicaSet "Non-Template Pod acquisitions") and counts them among its replicas.
@Suite("Workloads: adoption of bare pods")
struct WorkloadAdoptionTests {
    static let bare = """
        - apiVersion: v1
          kind: Pod
          metadata: {name: orphan, namespace: prod, labels: {app: cache}}
          spec: {containers: [{name: c, image: i, ports: [{containerPort: 6379}]}]}
        """

    static func replicaSet(_ replicas: Int, kind: String = "ReplicaSet", api: String = "apps/v1") -> String {
        let selector = kind == "ReplicaSet" ? "{matchLabels: {app: cache}}" : "{app: cache}"
        return workload(
            kind, "cache", api: api,
            """
            replicas: \(replicas)
            selector: \(selector)
            template:
              metadata: {labels: {app: cache}}
              spec: {containers: [{name: c, image: i, ports: [{containerPort: 6379}]}]}
            """)
    }

    /// An orphan that exists first is adopted: the controller creates only the missing replicas.
    @Test(arguments: [
        ("ReplicaSet", "apps/v1", "prod/replicaset/cache"), ("ReplicationController", "v1", "prod/replicationcontroller/cache"),
    ])
    func orphanCountsAsAReplica(_ kind: String, _ api: String, _ key: String) throws {
        let t = try timeline(T.scenario(resources: Self.bare + "\n" + Self.replicaSet(2, kind: kind, api: api)))
        let owned = pods(t, key)
        #expect(owned.count == 2)
        #expect(owned.contains { $0.name == "orphan" })
        #expect(t.cluster(afterStep: 0).pods.values.filter { $0.labels["app"] == "cache" }.count == 2)
    }

    /// A bare pod created, or relabelled, into a full ReplicaSet's selector is adopted as its
    /// newest pod and is the one the controller deletes; a scale-up then keeps it.
    @Test func newestAdoptedPodIsTheOneTooMany() throws {
        let t = try timeline(
            T.scenario(
                resources: Self.replicaSet(1),
                steps: """
                    - apply:
                        - {apiVersion: v1, kind: Pod, metadata: {name: late, namespace: prod, labels: {app: cache}}, spec: {containers: [{name: c, image: i}]}}
                    - label: {kind: Pod, namespace: prod, name: web, labels: {app: cache}}
                    - scale: {workload: prod/replicaset/cache, replicas: 2}
                    - apply:
                        - {apiVersion: v1, kind: Pod, metadata: {name: later, namespace: prod, labels: {app: cache}}, spec: {containers: [{name: c, image: i}]}}
                    """))
        let first = pods(t, "prod/replicaset/cache")
        #expect(first.count == 1 && first[0].name.hasPrefix("cache-"))
        #expect(t.cluster(afterStep: 1).pods[ObjectKey("prod", "late")] == nil)
        #expect(pods(t, "prod/replicaset/cache", after: 1).map(\.key) == first.map(\.key))
        #expect(t.cluster(afterStep: 2).pods[ObjectKey("prod", "web")] == nil)
        #expect(pods(t, "prod/replicaset/cache", after: 3).count == 2)
        let afterLater = pods(t, "prod/replicaset/cache", after: 4)
        #expect(afterLater.count == 2 && !afterLater.contains { $0.name == "later" })
        // A pod of another namespace or another label is never adopted.
        #expect(t.cluster(afterStep: 4).pods[ObjectKey("prod", "api")]?.owner == nil)
    }

    /// Manifests mode: bare pods `orphans` (each `(name, metadata entries, status)`) labelled
    /// `app: web` and a ReplicaSet web of `replicas`, loaded from a manifest folder.
    static func manifests(_ orphans: [(String, String, String)], replicas: Int) throws -> Timeline {
        let pods = orphans.map { name, metadata, status in
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: \(name), labels: {app: web}\(metadata)}
            spec: {containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}
            \(status)
            ---

            """
        }
        let text =
            pods.joined() + """
                apiVersion: apps/v1
                kind: ReplicaSet
                metadata: {name: web}
                spec:
                  replicas: \(replicas)
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec: {containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}
                """
        let folder = try manifestsFolder(["app.yaml": text])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        return try ManifestLoader.timeline([folder], dns: false)
    }

    /// Manifests mode: the adopted pod is probed as one of the workload's replicas, not as a bare pod.
    @Test func manifestsProbeTheAdoptedPodAsAReplica() throws {
        let t = try Self.manifests([("orphan", "", "")], replicas: 2)
        #expect(t.initial.pods.count == 2)
        #expect(t.initial.pods[ObjectKey("default", "orphan")]?.owner?.workload == WorkloadKey(.replicaSet, "default", "web"))
    }

    /// A finished (`status.phase` Succeeded or Failed) or terminating (`deletionTimestamp`) bare pod
    /// is not adopted (`FilterActivePods` before `claimPods`): the controller makes its replica.
    @Test func finishedOrTerminatingPodsAreNotAdopted() throws {
        let t = try Self.manifests(
            [
                ("succeeded", "", "status: {phase: Succeeded}"), ("failed", "", "status: {phase: Failed}"),
                ("leaving", ", deletionTimestamp: \"2024-01-01T00:00:00Z\"", ""),
            ], replicas: 1)
        let owned = t.initial.pods.values.filter { $0.owner?.workload == WorkloadKey(.replicaSet, "default", "web") }
        #expect(owned.count == 1 && owned.allSatisfy { $0.name.hasPrefix("web-") })
        for name in ["succeeded", "failed", "leaving"] { #expect(t.initial.pods[ObjectKey("default", name)]?.owner == nil) }
    }
}
