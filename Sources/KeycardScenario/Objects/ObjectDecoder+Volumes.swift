import KeycardModel

/// A pod's `volumes` and its containers' `volumeMounts`, validated as `ValidatePodSpec` validates
/// them (pkg/apis/core/validation/validation.go): `ValidateVolumes` and `validateVolumeSource` for
/// the volumes, `ValidateVolumeMounts` for each container's and init container's mounts. keycard
/// mounts nothing; what matters is that a pod the API server refuses is refused here, with the
/// field path it names. Every workload's template is validated alike (`ValidatePodTemplateSpec`),
/// except a StatefulSet's, which the API server does not validate at create
/// (`ValidatePodTemplateSpecForStatefulSet` leaves the PodSpec out): its pods are refused instead.
///
/// Not checked: a source's own fields beyond the required name or path of `secret`, `configMap`,
/// `persistentVolumeClaim` and `hostPath` and the `defaultMode` of `secret`, `configMap`,
/// `projected` and `downwardAPI` (the `items`, projections, CSI and cloud-disk fields);
/// `volumeDevices`.
enum VolumeRules {
    /// The sources of core/v1 VolumeSource in the order `validateVolumeSource` tests them, each with
    /// the field name its "may not specify more than 1 volume type" error uses: upstream's own,
    /// `cephFS` for `cephfs` and `downwarAPI` for `downwardAPI` included.
    static let sources: [(field: String, path: String)] = [
        ("emptyDir", "emptyDir"), ("hostPath", "hostPath"), ("gitRepo", "gitRepo"), ("gcePersistentDisk", "gcePersistentDisk"),
        ("awsElasticBlockStore", "awsElasticBlockStore"), ("secret", "secret"), ("nfs", "nfs"), ("iscsi", "iscsi"),
        ("glusterfs", "glusterfs"), ("flocker", "flocker"), ("persistentVolumeClaim", "persistentVolumeClaim"), ("rbd", "rbd"),
        ("cinder", "cinder"), ("cephfs", "cephFS"), ("quobyte", "quobyte"), ("downwardAPI", "downwarAPI"), ("fc", "fc"),
        ("flexVolume", "flexVolume"), ("configMap", "configMap"), ("azureFile", "azureFile"), ("vsphereVolume", "vsphereVolume"),
        ("photonPersistentDisk", "photonPersistentDisk"), ("portworxVolume", "portworxVolume"), ("azureDisk", "azureDisk"),
        ("storageos", "storageos"), ("projected", "projected"), ("scaleIO", "scaleIO"), ("csi", "csi"), ("ephemeral", "ephemeral"),
        ("image", "image"),
    ]

    /// The field a source must name (`validateSecretVolumeSource` and the like: `Required value`).
    static let requiredName = ["secret": "secretName", "configMap": "name", "persistentVolumeClaim": "claimName", "hostPath": "path"]

    /// Sources with a `defaultMode`: a file mode from 0 to 0777.
    static let withDefaultMode: Set<String> = ["secret", "configMap", "projected", "downwardAPI"]

    /// `supportedHostPathTypes`, sorted as `sets.List` prints them.
    static let hostPathTypes = ["", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"]

    /// `validateLocalDescendingPath`: what is wrong with a `subPath` or `subPathExpr`, or nil.
    static func descendingPathProblem(_ path: String) -> String? {
        if path.hasPrefix("/") { return "must be a relative path" }
        return backstepProblem(path)
    }

    /// `validatePathNoBacksteps`: no `..` element (separators `/`, as `filepath.ToSlash` leaves
    /// them on the Linux API server).
    static func backstepProblem(_ path: String) -> String? {
        path.split(separator: "/", omittingEmptySubsequences: false).contains("..") ? "must not contain '..'" : nil
    }
}

extension ObjectDecoder {
    /// The names of a StatefulSet's `volumeClaimTemplates` (each a PersistentVolumeClaim's
    /// `metadata.name`), which its pods get as volumes.
    static func claimTemplateNames(_ value: YAMLValue?) throws(ScenarioError) -> [String] {
        var names: [String] = []
        for claim in try value?.items("spec.volumeClaimTemplates") ?? [] where !claim.isNull {
            guard let metadata = try claim.entries("each entry of spec.volumeClaimTemplates").first(where: { $0.key == "metadata" })?.value,
                !metadata.isNull, let name = try metadata.entries("metadata").first(where: { $0.key == "name" })?.value, !name.isNull
            else { continue }
            names.append(try name.string("spec.volumeClaimTemplates[].metadata.name"))
        }
        return names
    }

    /// The volumes and mounts of the pod spec `spec`, at `path` (`spec`, `spec.template.spec`,
    /// `spec.jobTemplate.spec.template.spec`). `claims`: a StatefulSet's `volumeClaimTemplates`
    /// names, nil for any other pod spec; their controller adds a volume of each name to every pod
    /// (replacing a template volume of that name: `updateStorage` in
    /// pkg/controller/statefulset/stateful_set_utils.go), so mounts may name them. What the API
    /// server refuses in a StatefulSet's template is not refused at create but in each pod: a
    /// warning, and no pod (`Workload.podsRefused`).
    mutating func checkPodVolumes(_ spec: [String: YAMLValue], path: String, pod: Pod, claims: [String]?) throws(ScenarioError) {
        guard let claims else { return try checkVolumesAndMounts(spec, path: path, claims: []) }
        do {
            // The API server's refusal is each pod's create, so it names the pod's own fields.
            try checkVolumesAndMounts(spec, path: "spec", claims: claims)
        } catch {
            refuseTemplatePods(pod, error.message, at: error.location)
        }
    }

    private func checkVolumesAndMounts(_ spec: [String: YAMLValue], path: String, claims: [String]) throws(ScenarioError) {
        // Each volume's name, and whether it is an image volume (whose mounts take no subPath).
        var volumes: [String: Bool] = [:]
        for name in claims { volumes[name] = false }
        for (index, volume) in (try spec["volumes"]?.items("\(path).volumes") ?? []).enumerated() {
            let field = "\(path).volumes[\(index)]"
            let fields = try volume.isNull ? [:] : nonNullFields(volume, field)
            let nameValue = fields["name"]
            let name = try nameValue?.string("\(field).name") ?? ""
            if claims.contains(name) { continue }
            if name.isEmpty { throw (nameValue ?? volume).error("\(field).name: Required value") }
            if let problem = NameRules.dns1123LabelProblem(name) {
                throw (nameValue ?? volume).error("\(field).name: Invalid value: \(name.debugDescription): \(problem)")
            }
            if volumes[name] != nil { throw (nameValue ?? volume).error("\(field).name: Duplicate value: \(name.debugDescription)") }
            try checkVolumeSource(fields, volume, field)
            volumes[name] = fields["image"] != nil
        }
        for list in ["initContainers", "containers"] {
            for (index, container) in (try spec[list]?.items("\(path).\(list)") ?? []).enumerated() {
                try checkMounts(try nonNullFields(container, "a container"), volumes: volumes, "\(path).\(list)[\(index)].volumeMounts")
            }
        }
    }

    /// `validateVolumeSource`: exactly one source (the second, in upstream's order, is the one
    /// named), and the source's required name.
    private func checkVolumeSource(_ fields: [String: YAMLValue], _ volume: YAMLValue, _ field: String) throws(ScenarioError) {
        let given = VolumeRules.sources.filter { fields[$0.field] != nil }
        guard let source = given.first else { throw volume.error("\(field): Required value: must specify a volume type") }
        if given.count > 1, let second = fields[given[1].field] {
            throw second.error("\(field).\(given[1].path): Forbidden: may not specify more than 1 volume type")
        }
        let value = fields[source.field] ?? volume
        let sourceFields = try nonNullFields(value, "\(field).\(source.field)")
        if let required = VolumeRules.requiredName[source.field] {
            let written = try sourceFields[required]?.string("\(field).\(source.field).\(required)") ?? ""
            if written.isEmpty { throw (sourceFields[required] ?? value).error("\(field).\(source.field).\(required): Required value") }
        }
        if VolumeRules.withDefaultMode.contains(source.field), let mode = sourceFields["defaultMode"] {
            let number = try mode.int("\(field).\(source.field).defaultMode", in: DecodedFieldType.int32)
            guard (0...0o777).contains(number) else {
                throw mode.error(
                    "\(field).\(source.field).defaultMode: Invalid value: \(number): must be a number between 0 and 0777 (octal), both inclusive"
                )
            }
        }
        guard source.field == "hostPath" else { return }
        // validateHostPathVolumeSource: no backsteps, a supported type.
        if let pathValue = sourceFields["path"], let problem = VolumeRules.backstepProblem(try pathValue.string("\(field).hostPath.path")) {
            throw pathValue.error("\(field).hostPath.path: Invalid value: \(try pathValue.string("path").debugDescription): \(problem)")
        }
        if let typeValue = sourceFields["type"] {
            let type = try typeValue.string("\(field).hostPath.type")
            guard VolumeRules.hostPathTypes.contains(type) else {
                let supported = VolumeRules.hostPathTypes.map(\.debugDescription).joined(separator: ", ")
                throw typeValue.error("\(field).hostPath.type: Unsupported value: \(type.debugDescription): supported values: \(supported)")
            }
        }
    }

    /// `ValidateVolumeMounts` for one container's mounts at `path` (`spec.containers[0].volumeMounts`).
    /// Upstream names some fields without the mount's index (`volumeMounts.subPath`); so does this.
    private func checkMounts(_ container: [String: YAMLValue], volumes: [String: Bool], _ path: String)
        throws(ScenarioError)
    {
        guard let list = container["volumeMounts"] else { return }
        var devices: [String: String] = [:]
        for device in try container["volumeDevices"]?.items("\(path).volumeDevices") ?? [] where !device.isNull {
            let fields = try nonNullFields(device, "a volume device")
            devices[try fields["name"]?.string("volumeDevices[].name") ?? ""] =
                try fields["devicePath"]?.string("volumeDevices[].devicePath") ?? ""
        }
        var privileged = false
        if let context = container["securityContext"], let value = try nonNullFields(context, "securityContext")["privileged"] {
            privileged = try value.bool("securityContext.privileged")
        }
        var mountPaths: Set<String> = []
        for (index, mount) in try list.items(path).enumerated() {
            let field = "\(path)[\(index)]"
            let fields = try mount.isNull ? [:] : nonNullFields(mount, field)
            func text(_ key: String) throws(ScenarioError) -> String { try fields[key]?.string("\(field).\(key)") ?? "" }
            func at(_ key: String) -> YAMLValue { fields[key] ?? mount }
            let name = try text("name")
            let mountPath = try text("mountPath")
            if name.isEmpty { throw at("name").error("\(field).name: Required value") }
            guard let isImage = volumes[name] else { throw at("name").error("\(field).name: Not found: \(name.debugDescription)") }
            if mountPath.isEmpty { throw at("mountPath").error("\(field).mountPath: Required value") }
            guard mountPaths.insert(mountPath).inserted else {
                throw at("mountPath").error("\(field).mountPath: Invalid value: \(mountPath.debugDescription): must be unique")
            }
            if devices[name] != nil {
                throw at("name").error("\(field).name: Invalid value: \(name.debugDescription): must not already exist in volumeDevices")
            }
            if devices.values.contains(mountPath) {
                throw at("mountPath").error(
                    "\(field).mountPath: Invalid value: \(mountPath.debugDescription): must not already exist as a path in volumeDevices")
            }
            let subPath = try text("subPath")
            let subPathExpr = try text("subPathExpr")
            if isImage {
                for (key, written) in [("subPath", subPath), ("subPathExpr", subPathExpr)] where !written.isEmpty {
                    throw at(key).error("\(field).\(key): Invalid value: \(written.debugDescription): not allowed in image volume sources")
                }
            }
            if let problem = subPath.isEmpty ? nil : VolumeRules.descendingPathProblem(subPath) {
                throw at("subPath").error("\(path).subPath: Invalid value: \(subPath.debugDescription): \(problem)")
            }
            if !subPathExpr.isEmpty {
                if !subPath.isEmpty {
                    throw at("subPathExpr").error(
                        "\(field).subPathExpr: Invalid value: \(subPathExpr.debugDescription): subPathExpr and subPath are mutually exclusive"
                    )
                }
                if let problem = VolumeRules.descendingPathProblem(subPathExpr) {
                    throw at("subPathExpr").error("\(path).subPathExpr: Invalid value: \(subPathExpr.debugDescription): \(problem)")
                }
            }
            try checkMountModes(fields, path, privileged: privileged)
        }
    }

    /// `validateMountPropagation` (Bidirectional only in a privileged container) and
    /// `validateMountRecursiveReadOnly` (Enabled or IfPossible only on a read-only mount without
    /// propagation).
    private func checkMountModes(_ fields: [String: YAMLValue], _ path: String, privileged: Bool) throws(ScenarioError) {
        let readOnly = try fields["readOnly"]?.bool("\(path).readOnly") ?? false
        var propagation: String?
        if let value = fields["mountPropagation"] {
            let mode = try value.string("\(path).mountPropagation")
            let supported = ["Bidirectional", "HostToContainer", "None"]
            guard supported.contains(mode) else {
                let list = supported.map(\.debugDescription).joined(separator: ", ")
                throw value.error("\(path).mountPropagation: Unsupported value: \(mode.debugDescription): supported values: \(list)")
            }
            if mode == "Bidirectional", !privileged {
                throw value.error(
                    "\(path).mountPropagation: Forbidden: Bidirectional mount propagation is available only to privileged containers")
            }
            propagation = mode
        }
        guard let value = fields["recursiveReadOnly"] else { return }
        let mode = try value.string("\(path).recursiveReadOnly")
        switch mode {
        case "Disabled": return
        case "Enabled", "IfPossible":
            if !readOnly { throw value.error("\(path).recursiveReadOnly: Forbidden: may only be specified when readOnly is true") }
            if let propagation, propagation != "None" {
                throw value.error(
                    "\(path).recursiveReadOnly: Forbidden: may only be specified when mountPropagation is None or not specified")
            }
        default:
            throw value.error(
                "\(path).recursiveReadOnly: Unsupported value: \(mode.debugDescription): supported values: \"Disabled\", \"Enabled\", \"IfPossible\""
            )
        }
    }
}
