import KeycardModel
import Testing

@testable import KeycardScenario

/// `ValidateVolumes`, `validateVolumeSource` and `ValidateVolumeMounts`
/// (pkg/apis/core/validation/validation.go): what the API server refuses in a pod's `volumes` and
/// its containers' `volumeMounts` is refused at the field, with the path it names; a pod template
/// is validated alike (`ValidatePodTemplateSpec`), a StatefulSet's not at all (its pods are).
@Suite("Pod volumes and volume mounts")
struct VolumeValidationTests {
    /// A Pod prod/x with `volumes` and one container whose other fields are `container`.
    static func pod(volumes: String, container: String, initContainers: String = "") -> String {
        ScenarioText.scenario(
            resources:
                "- {apiVersion: v1, kind: Pod, metadata: {name: x, namespace: prod}, spec: {\(initContainers)volumes: [\(volumes)], containers: [{name: c, image: i, \(container)}]}}"
        )
    }

    struct Refused: Sendable, CustomTestStringConvertible {
        var volumes: String
        var container: String
        var message: String
        var initContainers = ""
        var testDescription: String { message }
    }

    static let refused: [Refused] = [
        Refused(volumes: "{emptyDir: {}}", container: "", message: "spec.volumes[0].name: Required value"),
        Refused(volumes: "{name: '', emptyDir: {}}", container: "", message: "spec.volumes[0].name: Required value"),
        Refused(
            volumes: "{name: Data_1, emptyDir: {}}", container: "",
            message: "spec.volumes[0].name: Invalid value: \"Data_1\": must consist of"),
        Refused(
            volumes: "{name: data, emptyDir: {}}, {name: data, configMap: {name: c}}", container: "",
            message: "spec.volumes[1].name: Duplicate value: \"data\""),
        Refused(volumes: "{name: data}", container: "", message: "spec.volumes[0]: Required value: must specify a volume type"),
        Refused(
            volumes: "{name: data, emptyDir: null}", container: "", message: "spec.volumes[0]: Required value: must specify a volume type"),
        Refused(
            volumes: "{name: data, configMap: {name: c}, emptyDir: {}}", container: "",
            message: "spec.volumes[0].configMap: Forbidden: may not specify more than 1 volume type"),
        Refused(
            volumes: "{name: data, secret: {secretName: s}, downwardAPI: {}}", container: "",
            message: "spec.volumes[0].downwarAPI: Forbidden: may not specify more than 1 volume type"),
        Refused(volumes: "{name: data, secret: {}}", container: "", message: "spec.volumes[0].secret.secretName: Required value"),
        Refused(volumes: "{name: data, configMap: {}}", container: "", message: "spec.volumes[0].configMap.name: Required value"),
        Refused(
            volumes: "{name: data, persistentVolumeClaim: {claimName: ''}}", container: "",
            message: "spec.volumes[0].persistentVolumeClaim.claimName: Required value"),
        Refused(
            volumes: "{name: data, hostPath: {type: Directory}}", container: "", message: "spec.volumes[0].hostPath.path: Required value"),
        Refused(
            volumes: "{name: data, hostPath: {path: /var/../etc}}", container: "",
            message: "spec.volumes[0].hostPath.path: Invalid value: \"/var/../etc\": must not contain '..'"),
        Refused(
            volumes: "{name: data, hostPath: {path: /var, type: Dir}}", container: "",
            message: "spec.volumes[0].hostPath.type: Unsupported value: \"Dir\": supported values: \"\", \"BlockDevice\""),
        Refused(
            volumes: "{name: data, configMap: {name: c, defaultMode: 1000}}", container: "",
            message: "spec.volumes[0].configMap.defaultMode: Invalid value: 1000: must be a number between 0 and 0777 (octal)"),
        Refused(
            volumes: "{name: data, emptyDir: {}}", container: "volumeMounts: [{name: cache, mountPath: /cache}]",
            message: "spec.containers[0].volumeMounts[0].name: Not found: \"cache\""),
        Refused(
            volumes: "{name: data, emptyDir: {}}", container: "volumeMounts: [{mountPath: /cache}]",
            message: "spec.containers[0].volumeMounts[0].name: Required value"),
        Refused(
            volumes: "{name: data, emptyDir: {}}", container: "volumeMounts: [{name: data}]",
            message: "spec.containers[0].volumeMounts[0].mountPath: Required value"),
        Refused(
            volumes: "{name: data, emptyDir: {}}, {name: logs, emptyDir: {}}",
            container: "volumeMounts: [{name: data, mountPath: /data}, {name: logs, mountPath: /data}]",
            message: "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/data\": must be unique"),
        Refused(
            volumes: "{name: data, emptyDir: {}}", container: "volumeMounts: [{name: data, mountPath: /data, subPath: /etc}]",
            message: "spec.containers[0].volumeMounts.subPath: Invalid value: \"/etc\": must be a relative path"),
        Refused(
            volumes: "{name: data, emptyDir: {}}", container: "volumeMounts: [{name: data, mountPath: /data, subPath: a/../../b}]",
            message: "spec.containers[0].volumeMounts.subPath: Invalid value: \"a/../../b\": must not contain '..'"),
        Refused(
            volumes: "{name: data, emptyDir: {}}",
            container: "volumeMounts: [{name: data, mountPath: /data, subPath: a, subPathExpr: $(POD_NAME)}]",
            message:
                "spec.containers[0].volumeMounts[0].subPathExpr: Invalid value: \"$(POD_NAME)\": subPathExpr and subPath are mutually exclusive"
        ),
        Refused(
            volumes: "{name: data, image: {reference: 'registry.example/data:1'}}",
            container: "volumeMounts: [{name: data, mountPath: /data, subPath: a}]",
            message: "spec.containers[0].volumeMounts[0].subPath: Invalid value: \"a\": not allowed in image volume sources"),
        Refused(
            volumes: "{name: data, emptyDir: {}}",
            container: "volumeMounts: [{name: data, mountPath: /data, mountPropagation: Bidirectional}]",
            message:
                "spec.containers[0].volumeMounts.mountPropagation: Forbidden: Bidirectional mount propagation is available only to privileged containers"
        ),
        Refused(
            volumes: "{name: data, emptyDir: {}}", container: "volumeMounts: [{name: data, mountPath: /data, mountPropagation: Private}]",
            message: "spec.containers[0].volumeMounts.mountPropagation: Unsupported value: \"Private\""),
        Refused(
            volumes: "{name: data, emptyDir: {}}", container: "volumeMounts: [{name: data, mountPath: /data, recursiveReadOnly: Enabled}]",
            message: "spec.containers[0].volumeMounts.recursiveReadOnly: Forbidden: may only be specified when readOnly is true"),
        Refused(
            volumes: "{name: data, emptyDir: {}}", container: "",
            message: "spec.initContainers[0].volumeMounts[0].name: Not found: \"cache\"",
            initContainers: "initContainers: [{name: setup, image: i, volumeMounts: [{name: cache, mountPath: /cache}]}], "),
    ]

    @Test(arguments: refused)
    func aPodTheAPIServerRefusesForItsVolumesIsRefused(_ row: Refused) throws {
        let text = Self.pod(volumes: row.volumes, container: row.container, initContainers: row.initContainers)
        let error = try #require(parseError(text))
        #expect(error.message.contains(row.message), "\(error.message)")
        #expect(error.location.line == Spot.line("name: x").resolve(in: text)?.line)
    }

    /// Realistic volumes: configMap, secret, emptyDir with a size, projected (a service account
    /// token, a configMap, the downward API), a claim; a volume mounted twice; a relative subPath;
    /// a mount path with ':' (no rule refuses it any more); Bidirectional in a privileged
    /// container; a recursive read-only mount.
    @Test func ordinaryVolumesAndMountsLoad() throws {
        let volumes = """
            {name: config, configMap: {name: app-config, items: [{key: app.yaml, path: app.yaml}], defaultMode: 0644}},
            {name: tls, secret: {secretName: app-tls, defaultMode: 0400}}, {name: cache, emptyDir: {sizeLimit: 1Gi, medium: Memory}},
            {name: token, projected: {sources: [{serviceAccountToken: {path: token, expirationSeconds: 3600}}, {configMap: {name: ca}},
            {downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}]}},
            {name: data, persistentVolumeClaim: {claimName: data}}, {name: host, hostPath: {path: /var/log, type: Directory}}
            """.replacingOccurrences(of: "\n", with: " ")
        let mounts = """
            volumeMounts: [{name: config, mountPath: /etc/app, readOnly: true}, {name: config, mountPath: /etc/app2/app.yaml, subPath: app.yaml},
            {name: tls, mountPath: /etc/tls}, {name: cache, mountPath: 'C:/cache'}, {name: token, mountPath: /var/run/token},
            {name: data, mountPath: /data, subPathExpr: $(POD_NAME)}, {name: host, mountPath: /host, mountPropagation: Bidirectional},
            {name: tls, mountPath: /etc/tls-ro, readOnly: true, recursiveReadOnly: IfPossible}], securityContext: {privileged: true}
            """.replacingOccurrences(of: "\n", with: " ")
        let t = try timeline(Self.pod(volumes: volumes, container: mounts))
        #expect(t.initial.pods[ObjectKey("prod", "x")] != nil)
    }

    /// A Deployment's (or any workload's) template is validated as a pod is, at its own path.
    @Test func aWorkloadTemplateIsRefusedAtItsPath() throws {
        let deployment = ScenarioText.scenario(
            resources: """
                - apiVersion: apps/v1
                  kind: Deployment
                  metadata: {name: d, namespace: prod}
                  spec:
                    selector: {matchLabels: {app: d}}
                    template:
                      metadata: {labels: {app: d}}
                      spec:
                        containers: [{name: c, image: i, volumeMounts: [{name: config, mountPath: /etc/app}]}]
                """)
        let error = try #require(parseError(deployment))
        #expect(error.message == "spec.template.spec.containers[0].volumeMounts[0].name: Not found: \"config\"", "\(error.message)")
        #expect(error.location.line == Spot.line("volumeMounts").resolve(in: deployment)?.line)
        let cronJob = ScenarioText.scenario(
            resources: """
                - apiVersion: batch/v1
                  kind: CronJob
                  metadata: {name: nightly, namespace: prod}
                  spec:
                    schedule: "0 3 * * *"
                    jobTemplate:
                      spec:
                        template:
                          spec:
                            restartPolicy: Never
                            volumes: [{name: scratch}]
                            containers: [{name: c, image: i}]
                """)
        #expect(
            parseError(cronJob)?.message == "spec.jobTemplate.spec.template.spec.volumes[0]: Required value: must specify a volume type")
    }

    static func statefulSet(volumes: String, mounts: String) -> String {
        ScenarioText.scenario(
            resources: """
                - apiVersion: apps/v1
                  kind: StatefulSet
                  metadata: {name: db, namespace: prod}
                  spec:
                    replicas: 2
                    serviceName: db
                    selector: {matchLabels: {app: db}}
                    template:
                      metadata: {labels: {app: db}}
                      spec:
                        volumes: [\(volumes)]
                        containers: [{name: c, image: i, ports: [{containerPort: 5432}], volumeMounts: [\(mounts)]}]
                    volumeClaimTemplates:
                      - metadata: {name: data}
                        spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
                """)
    }

    /// A StatefulSet's mounts may name its claim templates: its controller adds a volume of each
    /// name to every pod, replacing a template volume of that name.
    @Test func aStatefulSetsMountsMayNameItsClaimTemplates() throws {
        for volumes in ["", "{name: data, emptyDir: {}}", "{name: run, emptyDir: {}}"] {
            let t = try timeline(Self.statefulSet(volumes: volumes, mounts: "{name: data, mountPath: /var/lib/db}"))
            #expect(t.initial.pods(of: WorkloadKey(.statefulSet, "prod", "db")).count == 2, "volumes: \(volumes)")
            #expect(!t.warnings.contains { $0.message.contains("refuses each of its pods") })
        }
    }

    /// The API server does not validate a StatefulSet's template at create
    /// (`ValidatePodTemplateSpecForStatefulSet`): the StatefulSet is accepted and each pod its
    /// controller makes is refused, so none runs.
    @Test func aStatefulSetWhosePodsTheAPIServerRefusesRunsNoPod() throws {
        for (volumes, mounts, problem) in [
            // The refusal is each pod's create: it names the pod's fields, not the template's.
            ("", "{name: logs, mountPath: /logs}", "(spec.containers[0].volumeMounts[0].name: Not found: \"logs\""),
            (
                "{name: run, emptyDir: {}}, {name: run, emptyDir: {}}", "{name: data, mountPath: /data}",
                "(spec.volumes[1].name: Duplicate value: \"run\""
            ),
        ] {
            let text = Self.statefulSet(volumes: volumes, mounts: mounts)
            let t = try timeline(text)
            let key = WorkloadKey(.statefulSet, "prod", "db")
            #expect(t.initial.workloads[key] != nil)
            #expect(t.initial.pods(of: key).isEmpty)
            let warning = try #require(t.warnings.first { $0.message.contains("refuses each of its pods") })
            #expect(warning.message.contains(problem), "\(warning.message)")
        }
    }
}
