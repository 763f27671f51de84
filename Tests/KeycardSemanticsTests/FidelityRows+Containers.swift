import KeycardModel

// The container-field rows of docs/kubernetes-fidelity.md: the API server's decoder refuses a value
// of the wrong JSON type in a Container field keycard does not otherwise read (env, resources,
// imagePullPolicy...), and validation refuses an unsupported enum value or a negative quantity.

/// Pod shop/p whose one container serves TCP/80 and has the extra flow-mapping `fields`.
private func container(_ fields: String, initFields: String? = nil) -> String {
    let inits = initFields.map { "initContainers: [{name: setup, image: i, \($0)}], " } ?? ""
    return "- {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: shop, labels: {app: p}}, spec: {\(inits)"
        + "containers: [{name: c, image: i, ports: [{containerPort: 80}], \(fields)}]}}"
}

/// StatefulSet shop/db of one replica with a claim template `data`, whose container mounts `mounts`.
private func statefulSet(mounts: String) -> String {
    "- {apiVersion: apps/v1, kind: StatefulSet, metadata: {name: db, namespace: shop}, spec: {serviceName: db, selector: {matchLabels: {app: db}}, "
        + "template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, image: i, volumeMounts: \(mounts)}]}}, "
        + "volumeClaimTemplates: [{metadata: {name: data}, spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}]}}"
}

/// The pod loaded and serves its port.
private let served: [FidelityCell] = ["other/client -> shop/p TCP/80 allow"]

let containerRows: [FidelityRow] = [
    FidelityRow(
        "POD-58", container("").replacingOccurrences(of: "image: i, ports", with: "image: \"nginx \", ports"),
        .refuses(at: "\"nginx \"", "image: Invalid value: \"nginx \": must not have leading or trailing whitespace")),
    FidelityRow(
        "POD-59",
        "- {apiVersion: apps/v1, kind: Deployment, metadata: {name: d, namespace: shop}, spec: {selector: {matchLabels: {app: d}}, "
            + "template: {metadata: {labels: {app: d}}, spec: {containers: [{name: c, image: \" nginx\", ports: [{containerPort: 80}]}]}}}}",
        .warns("refuses each of its pods", ["other/client -> shop/web TCP/80 allow"]),
        state: { cluster in
            let pods = cluster.pods.values.filter { $0.owner?.workload == WorkloadKey(.deployment, "shop", "d") }
            return pods.isEmpty ? nil : "expected the Deployment with no pod, found \(pods.count)"
        }),
    FidelityRow(
        "POD-60",
        container("volumeMounts: [{name: cache, mountPath: /cache}]").replacingOccurrences(
            of: "spec: {", with: "spec: {volumes: [{name: data, emptyDir: {}}], "),
        .refuses(at: "cache, mountPath", "spec.containers[0].volumeMounts[0].name: Not found: \"cache\"")),
    FidelityRow(
        "POD-61",
        container("").replacingOccurrences(of: "spec: {", with: "spec: {volumes: [{name: data, configMap: {name: c}, emptyDir: {}}], "),
        .refuses(at: "{name: c}, emptyDir", "spec.volumes[0].configMap: Forbidden: may not specify more than 1 volume type")),
    FidelityRow(
        "POD-62", statefulSet(mounts: "[{name: logs, mountPath: /logs}]"),
        .warns("(spec.containers[0].volumeMounts[0].name: Not found: \"logs\"", ["other/client -> shop/web TCP/80 allow"]),
        state: { cluster in
            let pods = cluster.pods.values.filter { $0.owner?.workload == WorkloadKey(.statefulSet, "shop", "db") }
            return pods.isEmpty ? nil : "expected the StatefulSet with no pod, found \(pods.count)"
        }),
    FidelityRow(
        "POD-63", statefulSet(mounts: "[{name: data, mountPath: /var/lib/db}]"), .accepts(["other/client -> shop/web TCP/80 allow"]),
        state: { cluster in
            let pods = cluster.pods.values.filter { $0.owner?.workload == WorkloadKey(.statefulSet, "shop", "db") }
            return pods.count == 1 ? nil : "expected the StatefulSet's pod, found \(pods.count)"
        }),
    FidelityRow(
        "CTR-23",
        container("command: [/app, null], args: [--flag, null]").replacingOccurrences(
            of: "spec: {", with: "spec: {nodeSelector: {pool: null}, "),
        .warns("spec.nodeSelector pool= is not honoured", served)),
    FidelityRow("CTR-15", container("env: [{name: START, value: 12:30}, {name: UPTIME, value: 1:30:00}]"), .accepts(served)),
    FidelityRow(
        "CTR-16", container("resources: {limits: {memory: 1:30}}"),
        .refuses(at: "1:30}", "resources.limits.memory: quantity \"1:30\" is not valid")),
    FidelityRow(
        "CTR-01", container("env: [{name: PORT, value: 8080}]"),
        .refuses(at: "8080}", "container \"c\": env[0].value must be a string, found a scalar \"8080\" (quote it")),
    FidelityRow(
        "CTR-02", container("env: [{name: A, value: a}, {name: DEBUG, value: true}]"),
        .refuses(at: "true}", "env[1].value must be a string")),
    FidelityRow("CTR-03", container("env: [{name: 1, value: x}]"), .refuses(at: "1, value", "env[0].name must be a string")),
    FidelityRow("CTR-04", container("env: [{value: x}]"), .refuses(at: "{value: x}", "env[0].name: Required value")),
    FidelityRow(
        "CTR-05", container("resources: {limits: {cpu: yes}}"),
        .refuses(at: "yes}", "resources.limits.cpu must be a quantity (a number or a string such as 100m or 1Gi)")),
    FidelityRow(
        "CTR-06", container("resources: {requests: {memory: 1GiB}}"),
        .refuses(at: "1GiB", "resources.requests.memory: quantity \"1GiB\" is not valid")),
    FidelityRow(
        "CTR-07", container("resources: {requests: {cpu: -100m}}"),
        .refuses(at: "-100m", "resources.requests.cpu: -100m must be greater than or equal to 0")),
    FidelityRow(
        "CTR-08",
        container(
            "env: [{name: A, value: '8080'}, {name: B, valueFrom: {fieldRef: {fieldPath: status.podIP}}}, {name: C}], "
                + "resources: {limits: {cpu: 0.5, memory: 1Gi, ephemeral-storage: 1e3, example.com/dev: 0x10}, "
                + "requests: {cpu: 100m, memory: '+512Mi', ephemeral-storage: 2.5E-3}}, "
                + "imagePullPolicy: '', terminationMessagePolicy: FallbackToLogsOnError, workingDir: /app, stdin: true"),
        .accepts(served)),
    FidelityRow(
        "CTR-09", container("imagePullPolicy: 1"), .refuses(at: "1}", "container \"c\": imagePullPolicy must be a string")),
    FidelityRow(
        "CTR-10", container("imagePullPolicy: always"),
        .refuses(at: "always", "imagePullPolicy: Unsupported value \"always\": supported values: Always, IfNotPresent, Never")),
    FidelityRow("CTR-11", container("workingDir: 42"), .refuses(at: "42}", "workingDir must be a string")),
    FidelityRow("CTR-12", container("terminationMessagePath: on"), .refuses(at: "on}", "terminationMessagePath must be a string")),
    FidelityRow(
        "CTR-13", container("tty: false", initFields: "env: [{name: PORT, value: 8080}]"),
        .refuses(at: "8080}", "container \"setup\": env[0].value must be a string")),
    FidelityRow(
        "CTR-14",
        "- {apiVersion: apps/v1, kind: Deployment, metadata: {name: d, namespace: shop}, spec: {selector: {matchLabels: {app: d}}, "
            + "template: {metadata: {labels: {app: d}}, spec: {containers: [{name: c, image: i, resources: {limits: {memory: 1GB}}}]}}}}",
        .refuses(at: "1GB", "resources.limits.memory: quantity \"1GB\" is not valid")),
    FidelityRow(
        "CTR-17", container("resources: {limits: {cpu: 500m, memory: 1Gi}, requests: {cpu: '1', memory: 1Gi}}"),
        .refuses(at: "'1'", "resources.requests: Invalid value: \"1\": must be less than or equal to cpu limit of 500m")),
    FidelityRow(
        "CTR-18",
        container(
            "resources: {limits: {cpu: '1', memory: 1Gi, nvidia.com/gpu: 1}, requests: {cpu: 1000m, memory: 1024Mi, nvidia.com/gpu: 1}}"),
        .accepts(served)),
    FidelityRow(
        "CTR-19", container("resources: {limits: {nvidia.com/gpu: 2}, requests: {nvidia.com/gpu: 1}}"),
        .refuses(at: "1}}", "must be equal to nvidia.com/gpu limit of 2")),
    FidelityRow(
        "CTR-20", container("resources: {requests: {example.com/foo: 1}}"),
        .refuses(at: "1}}", "Limit must be set for non overcommitable resources (example.com/foo)")),
    FidelityRow(
        "CTR-21", container("livenessProbe: {tcpSocket: {port: 80}, successThreshold: 2}"),
        .refuses(at: "2}", "livenessProbe.successThreshold: Invalid value: 2: must be 1")),
]
