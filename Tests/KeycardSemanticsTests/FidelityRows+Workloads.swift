import KeycardModel

// The workload rows of docs/kubernetes-fidelity.md: spec fields the API server validates
// (pkg/apis/apps/validation, pkg/apis/batch/validation), the pod spec's host identity
// (ValidatePodSpec) and a StatefulSet whose pods the API server would refuse.

/// A StatefulSet shop/`name` with `fields` (flow-mapping entries) before its selector.
private func statefulSet(_ name: String, _ fields: String = "") -> String {
    "- {apiVersion: apps/v1, kind: StatefulSet, metadata: {name: \(name), namespace: shop}, spec: {\(fields)"
        + "selector: {matchLabels: {app: db}}, template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, image: i}]}}}}"
}

/// A Deployment shop/api with `fields` (flow-mapping entries) before its selector.
private func deployment(_ fields: String) -> String {
    "- {apiVersion: apps/v1, kind: Deployment, metadata: {name: api, namespace: shop}, spec: {\(fields), "
        + "selector: {matchLabels: {app: api}}, template: {metadata: {labels: {app: api}}, spec: {containers: [{name: c, image: i}]}}}}"
}

/// A Pod shop/extra with `spec` (flow-mapping entries) and `meta` (extra metadata entries).
private func pod(_ spec: String, meta: String = "") -> String {
    "- {apiVersion: v1, kind: Pod, metadata: {name: extra, namespace: shop\(meta)}, spec: {\(spec)}}"
}

/// Nothing isolates the fidelity cluster's pods.
private let unchanged: [FidelityCell] = ["other/client -> shop/web TCP/80 allow", "shop/client -> other/web TCP/80 allow"]

private let longName = String(repeating: "d", count: 55)

/// An Indexed Job shop/`name` with `completions`.
private func indexedJob(_ name: String, completions: Int) -> String {
    "- {apiVersion: batch/v1, kind: Job, metadata: {name: \(name), namespace: shop}, spec: {completionMode: Indexed, completions: \(completions), "
        + "template: {spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}}}"
}

private let longJob = String(repeating: "j", count: 61)

/// An Indexed CronJob shop/`name` with `completions`.
private func indexedCronJob(_ name: String, completions: Int) -> String {
    "- {apiVersion: batch/v1, kind: CronJob, metadata: {name: \(name), namespace: shop}, spec: {schedule: '0 0 * * *', jobTemplate: "
        + "{spec: {completionMode: Indexed, completions: \(completions), template: {spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}}}}}"
}

/// The longest CronJob name (52): its Jobs are `<name>-<8 digits>`, 61 characters, so index 9 is
/// the last whose hostname is a DNS label.
private let longCronJob = String(repeating: "c", count: 52)
private let fittingCronJob = String(repeating: "c", count: 51) + "k"
private let longDeployment = String(repeating: "a", count: 250)

let workloadRows: [FidelityRow] = [
    FidelityRow(
        "WL-01", statefulSet(longName), .warns("controller-revision-hash", unchanged),
        state: { cluster in
            let key = WorkloadKey(.statefulSet, "shop", longName)
            let pods = cluster.pods.values.filter { $0.owner?.workload == key }
            return cluster.workloads[key] != nil && pods.isEmpty ? nil : "expected the StatefulSet with no pod, found \(pods.count)"
        }),
    FidelityRow("WL-02", statefulSet("db.v1"), .refuses(at: "db.v1", "StatefulSet name \"db.v1\" must consist of lower-case letters")),
    FidelityRow("WL-03", statefulSet("db", "serviceName: Bad_Name, "), .refuses(at: "Bad_Name", "spec.serviceName \"Bad_Name\"")),
    FidelityRow(
        "WL-04", statefulSet("db", "podManagementPolicy: Bogus, "), .refuses(at: "Bogus", "must be 'OrderedReady' or 'Parallel'")),
    FidelityRow(
        "WL-05", deployment("strategy: {type: Recreate, rollingUpdate: {maxSurge: 1}}"),
        .refuses(at: "{maxSurge", "may not be specified when strategy `type` is 'Recreate'")),
    FidelityRow(
        "WL-06", deployment("strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}"),
        .refuses(at: "0}", "maxUnavailable may not be 0 when `maxSurge` is 0")),
    FidelityRow(
        "WL-07", deployment("minReadySeconds: 600"),
        .refuses(at: "600", "progressDeadlineSeconds (default 600) must be greater than minReadySeconds")),
    FidelityRow(
        "WL-08",
        "- {apiVersion: batch/v1, kind: CronJob, metadata: {name: nightly, namespace: shop}, spec: {schedule: '0 3 * * *', concurrencyPolicy: Sometimes, "
            + "jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}}}}}",
        .refuses(at: "Sometimes", "spec.concurrencyPolicy \"Sometimes\" is not supported")),
    FidelityRow(
        "WL-09", pod("hostNetwork: true, containers: [{name: c, image: i, ports: [{containerPort: 80, hostPort: 81}]}]"),
        .refuses(at: "81}", "must match `containerPort` (80) when `hostNetwork` is true")),
    FidelityRow(
        "WL-10", pod("hostname: Not_A_Label, containers: [{name: c, image: i}]"),
        .refuses(at: "Not_A_Label", "spec.hostname \"Not_A_Label\" must consist of lower-case letters")),
    FidelityRow(
        "WL-11", pod("containers: [{name: c, image: i}]", meta: ", annotations: {\"bad key\": v}"),
        .refuses(at: "\"bad key\"", "annotation key \"bad key\"")),
    FidelityRow(
        "OBJ-81",
        pod(
            "containers: [{name: c, image: i, env: [{name: FOO, valueFrom: {fieldRef: {fieldPath: \"metadata.annotations['Example.COM/Foo']\"}}}]}]",
            meta: ", annotations: {Example.COM/Foo: x}"),
        .accepts(unchanged),
        state: { cluster in
            let annotations = cluster.pods[ObjectKey("shop", "extra")]?.annotations
            return annotations?["Example.COM/Foo"] == "x" ? nil : "the annotations are \(String(describing: annotations))"
        }),
    FidelityRow(
        "WL-13",
        "- {apiVersion: apps/v1, kind: Deployment, metadata: {name: api, namespace: shop}, spec: {replicas: 2, selector: {matchLabels: {app: api}}, "
            + "template: {metadata: {labels: {app: api}}, spec: {containers: [{name: c, image: i}]}}}}\n"
            + "- {apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: api-5d4f8b7c9, namespace: shop, "
            + "ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: api, uid: 0b4c2f7e-1111-2222-3333-444455556666, controller: true}]}, "
            + "spec: {replicas: 2, selector: {matchLabels: {app: api}}, template: {metadata: {labels: {app: api}}, spec: {containers: [{name: c, image: i}]}}}}",
        .warns("names an owner (metadata.ownerReferences)", unchanged),
        state: { cluster in
            let kinds = cluster.workloads.keys.filter { $0.namespace == "shop" && $0.name.hasPrefix("api") }.map(\.kind)
            let pods = cluster.pods.values.filter { $0.labels["app"] == "api" }.count
            return kinds == [.deployment] && pods == 2 ? nil : "expected only the Deployment's 2 pods, found \(kinds) and \(pods) pods"
        }),
    FidelityRow(
        "WL-26",
        "- {apiVersion: v1, kind: Pod, metadata: {name: Bad_Name, namespace: shop, "
            + "ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: api-5d4f8b7c9, uid: 0b4c2f7e-1111-2222-3333-444455556666, controller: true}]}, "
            + "spec: {containers: [{name: c, image: i}]}}",
        .refuses(at: "Bad_Name", "Bad_Name")),
    FidelityRow(
        "WL-12",
        "- {apiVersion: apps/v1, kind: Deployment, metadata: {name: api, namespace: shop}, spec: {selector: {matchLabels: {app: api}}, "
            + "template: {metadata: {labels: {app: api}}, spec: {schedulingGates: [{name: example.com/wait}], containers: [{name: c, image: i}]}}}}",
        .warns("the template has schedulingGates", unchanged)),
    FidelityRow(
        "WL-16",
        "- {apiVersion: apps/v1, kind: DaemonSet, metadata: {name: agent, namespace: shop}, spec: {updateStrategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}, "
            + "selector: {matchLabels: {app: agent}}, template: {metadata: {labels: {app: agent}}, spec: {containers: [{name: c, image: i}]}}}}",
        .refuses(at: "0}}", "maxUnavailable cannot be 0 when maxSurge is 0")),
    FidelityRow(
        "WL-17",
        "- {apiVersion: apps/v1, kind: StatefulSet, metadata: {name: db, namespace: shop}, spec: {updateStrategy: {type: OnDelete, rollingUpdate: {partition: 1}}, "
            + "selector: {matchLabels: {app: db}}, template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, image: i}]}}}}",
        .refuses(at: "{partition", "only allowed for updateStrategy 'RollingUpdate'")),
    FidelityRow(
        "WL-18",
        "- {apiVersion: apps/v1, kind: StatefulSet, metadata: {name: db, namespace: shop}, spec: {updateStrategy: {rollingUpdate: {partition: -1}}, "
            + "selector: {matchLabels: {app: db}}, template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, image: i}]}}}}",
        .refuses(at: "-1", "partition")),
    FidelityRow(
        "WL-19",
        "- {apiVersion: batch/v1, kind: Job, metadata: {name: once, namespace: shop}, spec: {backoffLimit: -1, "
            + "template: {spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}}}",
        .refuses(at: "-1", "spec.backoffLimit")),
    FidelityRow(
        "POD-37",
        pod(
            "tolerations: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}, {operator: Exists}, "
                + "{key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 300}], containers: [{name: c, image: i}]"
        ),
        .accepts(unchanged)),
    FidelityRow(
        "POD-38", pod("tolerations: [{key: a, operator: Equals}], containers: [{name: c, image: i}]"),
        .refuses(at: "Equals}", "operator: Unsupported value: \"Equals\"")),
    FidelityRow(
        "POD-39", pod("tolerations: [{key: a, operator: Exists, value: b}], containers: [{name: c, image: i}]"),
        .refuses(at: "b}]", "value must be empty when `operator` is 'Exists'")),
    FidelityRow(
        "POD-40", pod("tolerations: [{key: a, effect: NoSchedule, tolerationSeconds: 5}], containers: [{name: c, image: i}]"),
        .refuses(at: "5}]", "effect must be 'NoExecute' when `tolerationSeconds` is set")),
    FidelityRow(
        "POD-41", pod("tolerations: x, containers: [{name: c, image: i}]"),
        .refuses(at: "x, containers", "spec.tolerations")),
    FidelityRow(
        "WL-30",
        "- {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: shop, ownerReferences: [{kind: ReplicaSet}]}, "
            + "spec: {containers: [{name: c, image: i}]}}",
        .refuses(at: "{kind: ReplicaSet}", "metadata.ownerReferences[0].apiVersion: Invalid value: \"\": apiVersion must not be empty")),
    FidelityRow(
        "WL-31",
        "- {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: shop, ownerReferences: ["
            + "{apiVersion: apps/v1, kind: ReplicaSet, name: a, uid: u1, controller: true}, "
            + "{apiVersion: apps/v1, kind: ReplicaSet, name: b, uid: u2, controller: true}]}, spec: {containers: [{name: c, image: i}]}}",
        .refuses(at: "true}]", "only one reference can have Controller set to true")),
    FidelityRow(
        "WL-40", indexedJob("idx.job", completions: 2),
        .refuses(at: "idx.job", "will not able to create pod with invalid DNS label: idx.job-1")),
    FidelityRow(
        "WL-41", indexedJob(longJob, completions: 11),
        .refuses(at: longJob, "will not able to create pod with invalid DNS label: \(longJob)-10")),
    FidelityRow(
        "WL-42", indexedJob(longJob, completions: 10), .accepts(unchanged),
        state: { cluster in
            let hostnames = cluster.pods.values.compactMap(\.hostname).filter { $0.hasPrefix(longJob) }.count
            return hostnames == 1 ? nil : "expected the Job's pod \(longJob)-0, found \(hostnames)"
        }),
    FidelityRow(
        "WL-43",
        "- {apiVersion: apps/v1, kind: Deployment, metadata: {name: \(longDeployment), namespace: shop}, spec: {selector: {matchLabels: {app: api}}, "
            + "template: {metadata: {labels: {app: api}}, spec: {containers: [{name: c, image: i}]}}}}",
        .warns("the controller creates no pod", unchanged),
        state: { cluster in
            let pods = cluster.pods.values.filter { $0.labels["app"] == "api" }.count
            let exists = cluster.workloads[WorkloadKey(.deployment, "shop", longDeployment)] != nil
            return exists && pods == 0 ? nil : "expected the Deployment with no pod, found \(exists ? "it" : "none") and \(pods) pods"
        }),
    FidelityRow(
        "WL-44",
        "- {apiVersion: batch/v1, kind: Job, metadata: {name: open, namespace: shop}, spec: {selector: {}, "
            + "template: {metadata: {labels: {app: job}}, spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}}}\n"
            + "- {apiVersion: batch/v1, kind: Job, metadata: {name: named, namespace: shop}, spec: {selector: {matchLabels: {job-name: named}}, "
            + "template: {metadata: {labels: {app: job}}, spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}}}",
        .accepts(unchanged),
        state: { cluster in
            let pods = cluster.pods.values.filter { $0.labels["app"] == "job" }.count
            return pods == 2 ? nil : "expected one pod of each Job, found \(pods)"
        }),
    FidelityRow(
        "WL-45",
        "- {apiVersion: batch/v1, kind: CronJob, metadata: {name: nightly, namespace: shop}, spec: {schedule: '0 0 * * *', jobTemplate: "
            + "{spec: {selector: {}, template: {spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}}}}}",
        .refuses(at: "{}, template", "spec.jobTemplate.spec.selector: Invalid value: `selector` will be auto-generated")),
    FidelityRow(
        "WL-46",
        "- {apiVersion: apps/v1, kind: DaemonSet, metadata: {name: pinned, namespace: shop}, spec: {selector: {matchLabels: {app: pinned}}, "
            + "template: {metadata: {labels: {app: pinned}}, spec: {nodeName: node-1, containers: [{name: c, image: i}]}}}}\n"
            + "- {apiVersion: apps/v1, kind: DaemonSet, metadata: {name: elsewhere, namespace: shop}, spec: {selector: {matchLabels: {app: elsewhere}}, "
            + "template: {metadata: {labels: {app: elsewhere}}, spec: {nodeName: ip-10-0-1-23.ec2.internal, containers: [{name: c, image: i}]}}}}",
        .warns("spec.template.spec.nodeName \"ip-10-0-1-23.ec2.internal\" matches no lab node", unchanged),
        state: { cluster in
            let pinned = cluster.pods.values.filter { $0.labels["app"] == "pinned" }.compactMap { cluster.podNodes[$0.key] }
            let elsewhere = cluster.pods.values.filter { $0.labels["app"] == "elsewhere" }.count
            return pinned == [1] && elsewhere == 0
                ? nil : "expected one pod on node-1 and none for the unknown node, found nodes \(pinned) and \(elsewhere) pods"
        }),
    FidelityRow(
        "WL-47",
        "- {apiVersion: batch/v1, kind: CronJob, metadata: {name: nightly, namespace: shop}, spec: {schedule: '0 0 * * *', jobTemplate: "
            + "{spec: {template: {metadata: {labels: {app: nightly, job-name: nightly}}, spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}}}}}",
        .warns("its pod template sets the label job-name", unchanged),
        state: { cluster in
            let key = WorkloadKey(.cronJob, "shop", "nightly")
            let pods = cluster.pods.values.filter { $0.owner?.workload == key }.count
            return cluster.workloads[key] != nil && pods == 0 ? nil : "expected CronJob shop/nightly with no pod, found \(pods)"
        }),
    FidelityRow(
        "WL-48",
        "- {apiVersion: batch/v1, kind: Job, metadata: {name: once, namespace: shop}, spec: {podFailurePolicy: {rules: "
            + "[{action: FailJob, onExitCodes: {operator: In, values: [42]}}]}, template: {spec: {restartPolicy: OnFailure, containers: [{name: c, image: i}]}}}}",
        .refuses(at: "OnFailure", "only \"Never\" is supported when podFailurePolicy is specified")),
    FidelityRow(
        "WL-49",
        "- {apiVersion: batch/v1, kind: CronJob, metadata: {name: nightly, namespace: shop}, spec: {schedule: '0 0 * * *', jobTemplate: "
            + "{spec: {backoffLimit: -1, template: {spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}}}}}",
        .refuses(at: "-1", "spec.jobTemplate.spec.backoffLimit")),
    FidelityRow(
        "WL-50", statefulSet("db", "persistentVolumeClaimRetentionPolicy: {whenDeleted: Bogus}, "),
        .refuses(at: "Bogus", "whenDeleted: Unsupported value: \"Bogus\": supported values: \"Retain\", \"Delete\"")),
    FidelityRow(
        "WL-55",
        "- {apiVersion: batch/v1, kind: Job, metadata: {name: once, namespace: shop}, spec: {completionMode: Indexed, completions: 4, "
            + "successPolicy: {rules: [{succeededIndexes: '0,2-3'}, {succeededIndexes: '3,1', succeededCount: 1}]}, "
            + "template: {spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}}}",
        .refuses(
            at: "'3,1'",
            "spec.successPolicy.rules[1].succeededIndexes: Invalid value: \"3,1\": error parsing succeededIndexes: non-increasing order, previous: 3, current: 1"
        )),
    FidelityRow(
        "WL-56",
        indexedCronJob(longCronJob, completions: 11) + "\n" + indexedCronJob(fittingCronJob, completions: 10) + "\n"
            + indexedCronJob("nightly.batch", completions: 2),
        .warns("will not able to create pod with invalid DNS label: \(longCronJob)-", unchanged),
        state: { cluster in
            func pods(_ name: String) -> Int {
                cluster.pods.values.filter { $0.owner?.workload == WorkloadKey(.cronJob, "shop", name) }.count
            }
            let counts = [pods(longCronJob), pods(fittingCronJob), pods("nightly.batch")]
            return counts == [0, 1, 0] ? nil : "expected no pod, one pod (index 0 of 10: parallelism 1), no pod; found \(counts)"
        }),
    FidelityRow(
        "WL-28",
        "- {apiVersion: batch/v1, kind: Job, metadata: {name: remote, namespace: shop}, spec: {managedBy: kueue.x-k8s.io/multikueue, "
            + "template: {metadata: {labels: {app: remote}}, spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}}}\n"
            + "- {apiVersion: batch/v1, kind: CronJob, metadata: {name: nightly, namespace: shop}, spec: {schedule: '0 0 * * *', jobTemplate: "
            + "{spec: {managedBy: example.com/runner, template: {metadata: {labels: {app: remote}}, spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}}}}}\n"
            + "- {apiVersion: batch/v1, kind: Job, metadata: {name: local, namespace: shop}, spec: {managedBy: kubernetes.io/job-controller, "
            + "template: {metadata: {labels: {app: local}}, spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}}}",
        .accepts(unchanged),
        state: { cluster in
            let remote = cluster.pods.values.filter { $0.labels["app"] == "remote" }.count
            let local = cluster.pods.values.filter { $0.labels["app"] == "local" }.count
            return remote == 0 && local == 1
                ? nil : "expected no pod of the externally managed Jobs and one of the local one, found \(remote) and \(local)"
        }),
    FidelityRow(
        "WL-29",
        "- {apiVersion: batch/v1, kind: Job, metadata: {name: j, namespace: shop}, spec: {managedBy: multikueue, "
            + "template: {spec: {restartPolicy: Never, containers: [{name: c, image: i}]}}}}",
        .refuses(at: "multikueue,", "must be a domain-prefixed path")),
    FidelityRow(
        "WL-20",
        "- {apiVersion: apps/v1, kind: Deployment, metadata: {name: api, namespace: shop}, spec: {paused: true, replicas: 2, "
            + "selector: {matchLabels: {app: api}}, template: {metadata: {labels: {app: api}}, spec: {containers: [{name: c, image: i}]}}}}",
        .warns("Deployment shop/api is paused", unchanged),
        state: { cluster in
            let pods = cluster.pods.values.filter { $0.labels["app"] == "api" }.count
            let exists = cluster.workloads[WorkloadKey(.deployment, "shop", "api")] != nil
            return exists && pods == 0
                ? nil : "expected the paused Deployment with no pod, found \(exists ? "it" : "none") and \(pods) pods"
        }),
    FidelityRow(
        "WL-21",
        "- {apiVersion: apps/v1, kind: Deployment, metadata: {name: api, namespace: shop}, spec: {replicas: 3, "
            + "selector: {matchLabels: {app: api}}, template: {metadata: {labels: {app: api}}, "
            + "spec: {containers: [{name: c, image: i, ports: [{containerPort: 80, hostPort: 8080}]}]}}}}",
        .warns("stays Pending: host port 8080/TCP is taken", unchanged),
        state: { cluster in
            // Two lab nodes: one pod on each, the third Pending.
            let nodes = cluster.pods.values.filter { $0.labels["app"] == "api" }.compactMap { cluster.podNodes[$0.key] }.sorted()
            return nodes == [0, 1] ? nil : "expected one running pod on each node, found nodes \(nodes)"
        }),
]
