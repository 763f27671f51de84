import KeycardModel

/// Turns YAML documents into Kubernetes objects, validating what Kubernetes' API server validates
/// for the fields keycard uses.
struct ObjectDecoder {
    var warnings: [ScenarioWarning] = []
    /// Set while a pod template is decoded (`podSpec(template: true)`): why the API server would
    /// refuse its pods, which `Workload.podsRefused` keeps.
    var templatePodsRefused: String?
    /// False in manifests mode, where keycard runs no container's command: what a program would
    /// miss (an env value keycard does not read) is then not worth a warning.
    var runsPrograms = true
    /// Whether an Istio object was decoded (the scenario then reports the mesh).
    var sawMeshObject = false
    /// The namespace of objects that name none, as `kubectl apply -n` gives (nil: `default`); an
    /// object naming another namespace is an error, as kubectl makes it.
    var namespace: String?
    /// When set, unknown kinds are counted here (`kind (apiVersion)` → count) instead of warned
    /// about one by one: manifests mode says it once.
    var skippedKinds: [String: Int]?
    /// Where the first object counted in `skippedKinds` is written: the summary is said there.
    var firstSkipped: SourceLocation?
    /// Objects left out because they name an owner (`metadata.ownerReferences`), as `kind ns/name`.
    var ownedObjects: [String] = []
    /// Network policies of other CNIs, skipped like any unknown kind (`ForeignPolicy`).
    var foreignPolicies: [ForeignPolicy] = []
    /// EndpointSlices and Endpoints written by hand, skipped, by the Service each names
    /// (`endpointsOwner(kind:apiVersion:header:)`).
    var handWrittenEndpoints: [ObjectKey: HandWrittenEndpoints] = [:]
    /// The Service being decoded's fields its type does not allow (`TypeDependentField`).
    var typeDependentFields: [TypeDependentField] = []
    /// The lab's node count (`spec.lab.nodes`; manifests mode's lab has the default), known
    /// before any object is read: a DaemonSet whose template names a node runs a pod only if a lab
    /// node has that name (`node-0` ... `node-<n-1>`), and the warning says so where it is written.
    var labNodes = LabSettings.defaultNodes

    /// The namespace an object gets when it names none.
    var defaultNamespace: String { namespace ?? "default" }

    /// Decodes one document: an object, a `List` of objects, or an unknown kind (a warning).
    /// `itemOf` is the kind and apiVersion a typed list (`NetworkPolicyList`) gives its items that
    /// name none, as the API returns them (apimachinery's `UnstructuredList` fills them in).
    mutating func decode(_ value: YAMLValue, itemOf list: (kind: String, apiVersion: String)? = nil) throws(ScenarioError)
        -> [LoadedObject]
    {
        if value.isNull { return [] }
        let header = try value.entries("a Kubernetes object")
        var apiVersion: String?
        var kind: String?
        var kindLocation = value.location
        var apiVersionLocation = value.location
        for (key, _, field) in header where key == "apiVersion" || key == "kind" {
            let text = try field.string(key)
            if key == "apiVersion" {
                (apiVersion, apiVersionLocation) = (text, field.location)
            } else {
                (kind, kindLocation) = (text, field.location)
            }
        }
        // A typed list's item takes the list's kind and apiVersion only when it names neither
        // (apimachinery's `decodeToList`); half of them is refused, as kubectl's typer refuses it.
        if kind == nil, apiVersion == nil, let list { (kind, apiVersion) = (list.kind, list.apiVersion) }
        guard let kind else { throw value.error("a Kubernetes object needs \"kind\"") }
        // Refused by kubectl before any server sees them: an empty kind (apimachinery's
        // unstructured decoding, "Object 'Kind' is missing") and a group/version with more than
        // one slash (`schema.ParseGroupVersion`).
        if kind.isEmpty { throw ScenarioError(kindLocation, "kind must not be empty: Object 'Kind' is missing") }
        guard let apiVersion else { throw value.error("\(kind) needs \"apiVersion\"") }
        if apiVersion.count(where: { $0 == "/" }) > 1 {
            throw ScenarioError(apiVersionLocation, "apiVersion \"\(apiVersion)\" is not group/version: unexpected GroupVersion string")
        }
        // Any `...List` with `items` is a list, as kubectl's builder reads it (unstructured
        // IsList): `ConfigMapList` too, whose items are then skipped like any ConfigMap.
        if kind.hasSuffix("List") && (kind == "List" || header.contains { $0.key == "items" }) {
            let fields = Dictionary(header.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
            guard let items = fields["items"], !items.isNull else { return [] }
            let typed = kind == "List" ? nil : (kind: String(kind.dropLast(4)), apiVersion: apiVersion)
            var objects: [LoadedObject] = []
            for item in try items.items("items") {
                // An empty document is nothing, a null item is an object without a kind (kubectl,
                // cli-runtime's FlattenListVisitor: "Object 'Kind' is missing").
                if item.isNull { throw item.error("a List item must be an object: Object 'Kind' is missing in 'null'") }
                objects += try decode(item, itemOf: typed)
            }
            return objects
        }
        // Every object kubectl sends, whatever its kind: a body above the limit is refused before
        // the API server decodes it.
        try checkRequestSize(value, kind: kind, header: header)
        // Another CNI's policy: skipped as an unknown kind (Calico's and Antrea's share the name
        // NetworkPolicy with Kubernetes', in their own groups), remembered for lint.
        if let foreign = ForeignPolicy.kind(kind, apiVersion: apiVersion) {
            let written = Self.writtenName(header)
            let parts = written.split(separator: "/", maxSplits: 1).map(String.init)
            let name = parts.count == 2 ? parts[1] : written
            foreignPolicies.append(
                ForeignPolicy(
                    kind: kind, apiVersion: apiVersion, cni: foreign.cni,
                    namespace: foreign.namespaced ? (parts.count == 2 ? parts[0] : defaultNamespace) : nil, name: name,
                    location: value.location))
        }
        if kind == "DestinationRule", apiVersion.hasPrefix("networking.istio.io/") {
            let modes = Self.destinationRuleTLSModes(header)
            if !modes.isEmpty {
                warnings.append(
                    ScenarioWarning(
                        location: value.location,
                        message:
                            "DestinationRule \(Self.writtenName(header)) sets tls.mode \(modes.joined(separator: ", ")), which keycard does not model: its sidecars use auto mutual TLS to meshed destinations, where Istio's clients follow the rule (DISABLE sends plaintext, which a STRICT server refuses)"
                    ))
            }
        }
        // A scenario among manifests (a folder of scenarios, or `file:` naming one) would be
        // skipped as an unknown kind and its steps never run: a silent pass. A wrongly versioned
        // one (`keycard/v2`, `keycard.io/v1`) too, which kubectl would refuse as a kind no server
        // serves.
        if ScenarioLoader.isScenario(kind: kind, apiVersion: apiVersion) {
            let reason =
                "a keycard Scenario where Kubernetes manifests are read (a manifests folder or file:): give scenario files by name, as keycard check DIR/*.yaml"
            if apiVersion != "keycard/v1" {
                throw ScenarioError(apiVersionLocation, "apiVersion must be keycard/v1, found \(apiVersion); \(reason)")
            }
            if kind != "Scenario" { throw ScenarioError(kindLocation, "kind must be Scenario, found \(kind); \(reason)") }
            throw ScenarioError(kindLocation, reason)
        }
        guard let known = try BuiltInKinds.held(kind, apiVersion: apiVersion, kindAt: kindLocation, apiVersionAt: apiVersionLocation)
        else {
            try checkSkippedMetadata(value, header, kind: kind, apiVersion: apiVersion)
            let slice = kind == "EndpointSlice" && apiVersion == "discovery.k8s.io/v1"
            if slice || (kind == "Endpoints" && apiVersion == "v1") { try checkHandWrittenEndpoints(value, slice: slice) }
            if let owner = endpointsOwner(kind: kind, apiVersion: apiVersion, header: header) {
                var entry = handWrittenEndpoints[owner.service] ?? HandWrittenEndpoints(first: owner.written)
                if owner.unmanagedSlice, entry.unmanagedSlice == nil { entry.unmanagedSlice = owner.written }
                handWrittenEndpoints[owner.service] = entry
            }
            if skippedKinds != nil {
                skippedKinds?["\(kind) (\(apiVersion))", default: 0] += 1
                if firstSkipped == nil { firstSkipped = value.location }
                return []
            }
            warnings.append(
                ScenarioWarning(location: value.location, message: "kind \(kind) (\(apiVersion)) is not understood by keycard; ignored"))
            return []
        }
        try value.requireKnownFields(kind, known: KnownFields.object)
        if let namespace, known.isNamespaced { try requireNamespace(namespace, in: header) }
        guard try Self.namesAnOwner(header) else {
            if known.isMesh { sawMeshObject = true }
            return try decode(value, as: known)
        }
        // Owner references hold the owner's uid, which no new cluster has: the garbage collector
        // deletes such an object at once (https://kubernetes.io/docs/concepts/architecture/
        // garbage-collection/#owners-dependents). A `kubectl get -o yaml` dump holds a Deployment,
        // its ReplicaSet and their Pods: only the Deployment stands. The API server still decodes
        // and validates it before the collector sees it, so it is decoded all the same (its
        // errors stand, its warnings are dropped with it).
        let kept = warnings.count
        _ = try decode(value, as: known)
        warnings.removeSubrange(kept...)
        let name = Self.writtenName(header)
        ownedObjects.append("\(kind) \(name)")
        if skippedKinds == nil {
            warnings.append(
                ScenarioWarning(
                    location: value.location,
                    message:
                        "\(kind) \(name) names an owner (metadata.ownerReferences): the garbage collector deletes it where that owner's uid does not exist; ignored"
                ))
        }
        return []
    }

    /// One object of a kind keycard holds, decoded and validated.
    private mutating func decode(_ value: YAMLValue, as known: ObjectKind) throws(ScenarioError) -> [LoadedObject] {
        switch known {
        case .namespace: return [LoadedObject(.namespace(try namespace(value)), at: value.location)]
        case .pod: return try pod(value).map { [Self.locatingPodAnnotations(LoadedObject(.pod($0), at: value.location), value)] } ?? []
        case .networkPolicy: return [LoadedObject(.networkPolicy(try networkPolicy(value)), at: value.location)]
        case .peerAuthentication: return [LoadedObject(.peerAuthentication(try peerAuthentication(value)), at: value.location)]
        case .authorizationPolicy: return [LoadedObject(.authorizationPolicy(try authorizationPolicy(value)), at: value.location)]
        case .workload(let workloadKind):
            return try workload(value, kind: workloadKind).map {
                [Self.locatingWorkloadFields(Self.locatingPodAnnotations(LoadedObject(.workload($0), at: value.location), value), value)]
            } ?? []
        case .service:
            typeDependentFields = []
            var loaded = Self.locatingFields(LoadedObject(.service(try service(value)), at: value.location), value)
            loaded.typeDependentFields = typeDependentFields
            return [loaded]
        case .stagedKubernetesNetworkPolicy: return [LoadedObject(.stagedPolicy(try stagedPolicy(value)), at: value.location)]
        case .clusterNetworkPolicy: return [LoadedObject(.clusterNetworkPolicy(try clusterNetworkPolicy(value)), at: value.location)]
        case .adminNetworkPolicy, .baselineAdminNetworkPolicy:
            let policy = try adminNetworkPolicy(value, baseline: known == .baselineAdminNetworkPolicy)
            return [LoadedObject(.clusterNetworkPolicy(policy), at: value.location)]
        }
    }

    /// `metadata` of an object of a kind keycard skips, checked as `ValidateObjectMeta` checks every
    /// kind's (apimachinery pkg/api/validation/objectmeta.go; the API server refuses the object, and
    /// `kubectl apply` with it): `name` required (or `generateName`), the ObjectMeta fields'
    /// types, `namespace` a DNS-1123 label, labels (`ValidateLabels`) and annotations
    /// (`ValidateAnnotations`). The name rule is the kind's name function: the RBAC kinds' a path
    /// segment (`ValidateRBACName`), a CertificateSigningRequest's none, any other's a DNS-1123 subdomain (custom resources'
    /// `NameIsDNSSubdomain`, pkg/registry/customresource/validator.go, and most built-in kinds').
    /// `namespace` is not checked on a cluster-scoped kind, whose namespace the API server clears
    /// (`rest.BeforeCreate`): the built-in ones, a `Cluster...` kind, another CNI's cluster-wide
    /// policy. Nothing else of the object is read: keycard does not know its schema.
    private func checkSkippedMetadata(
        _ value: YAMLValue, _ header: [(key: String, keyLocation: SourceLocation, value: YAMLValue)], kind: String, apiVersion: String
    ) throws(ScenarioError) {
        guard let metadata = header.first(where: { $0.key == "metadata" })?.value, !metadata.isNull else {
            throw value.error("\(kind) metadata needs \"name\" (or \"generateName\")")
        }
        let clusterScoped =
            Self.clusterScopedKinds.contains(kind) || kind.hasPrefix("Cluster")
            || ForeignPolicy.kind(kind, apiVersion: apiVersion).map { !$0.namespaced } == true
        let rbac = apiVersion.hasPrefix("rbac.authorization.k8s.io/")
        // `ValidateCertificateRequestName` accepts any name (pkg/apis/certificates/validation).
        let anyName = kind == "CertificateSigningRequest" && apiVersion.hasPrefix("certificates.k8s.io/")
        let nameRule: (String) -> String?
        if anyName {
            nameRule = { _ in nil }
        } else if rbac {
            nameRule = { NameRules.pathSegmentNameProblem($0) }
        } else {
            nameRule = { NameRules.dns1123SubdomainProblem($0) }
        }
        _ = try Metadata.read(
            metadata, kind: kind, namespaced: !clusterScoped, at: value.location, defaultNamespace: defaultNamespace, nameRule: nameRule)
    }

    /// Built-in cluster-scoped kinds keycard skips (`kubectl api-resources --namespaced=false`).
    static let clusterScopedKinds: Set<String> = [
        "Node", "PersistentVolume", "StorageClass", "CustomResourceDefinition", "PriorityClass", "IngressClass", "RuntimeClass",
        "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "APIService", "CSIDriver",
        "CSINode", "VolumeAttachment", "CertificateSigningRequest", "FlowSchema", "PriorityLevelConfiguration", "ComponentStatus",
        "IPAddress", "ServiceCIDR", "DeviceClass", "ClusterTrustBundle",
    ]

    /// The Service a skipped `discovery.k8s.io/v1` EndpointSlice or `v1` Endpoints gives endpoints
    /// to, the object as `EndpointSlice NAME` / `Endpoints NAME`, and whether it is a slice the
    /// EndpointSlice controller does not manage (`HandWrittenEndpoints.unmanagedSlice`); nil for
    /// any other kind or without a readable name. An EndpointSlice belongs to the Service its
    /// `kubernetes.io/service-name` label names (none: to no Service), an Endpoints object to the
    /// Service of its own name (https://kubernetes.io/docs/concepts/services-networking/service/#services-without-selectors).
    func endpointsOwner(kind: String, apiVersion: String, header: [(key: String, keyLocation: SourceLocation, value: YAMLValue)])
        -> (service: ObjectKey, written: String, unmanagedSlice: Bool)?
    {
        let slice = kind == "EndpointSlice" && apiVersion == "discovery.k8s.io/v1"
        guard slice || (kind == "Endpoints" && apiVersion == "v1"),
            let metadata = header.first(where: { $0.key == "metadata" })?.value, let entries = try? metadata.entries("metadata"),
            let name = entries.first(where: { $0.key == "name" }).flatMap({ try? $0.value.string("name") })
        else { return nil }
        let namespace = entries.first { $0.key == "namespace" }.flatMap { try? $0.value.string("namespace") } ?? defaultNamespace
        guard slice else { return (ObjectKey(namespace, name), "Endpoints \(name)", false) }
        let labels = entries.first { $0.key == "labels" }.flatMap { try? $0.value.entries("labels") } ?? []
        guard let service = labels.first(where: { $0.key == "kubernetes.io/service-name" }).flatMap({ try? $0.value.string("label") })
        else { return nil }
        let managedBy = labels.first { $0.key == "endpointslice.kubernetes.io/managed-by" }.flatMap { try? $0.value.string("label") }
        return (ObjectKey(namespace, service), "EndpointSlice \(name)", managedBy != "endpointslice-controller.k8s.io")
    }

    /// `namespace/name` (or `name`) as metadata writes them, for messages; `?` when unreadable.
    static func writtenName(_ header: [(key: String, keyLocation: SourceLocation, value: YAMLValue)]) -> String {
        guard let metadata = header.first(where: { $0.key == "metadata" })?.value, let entries = try? metadata.entries("metadata") else {
            return "?"
        }
        let name = entries.first { $0.key == "name" }.flatMap { try? $0.value.string("name") } ?? "?"
        let namespace = entries.first { $0.key == "namespace" }.flatMap { try? $0.value.string("namespace") }
        return namespace.map { "\($0)/\(name)" } ?? name
    }

    /// Whether `metadata.ownerReferences` lists an owner. Each entry is checked as the API server
    /// decodes and validates it (apimachinery `ValidateOwnerReferences`): `apiVersion`, `kind`,
    /// `name` and `uid` non-empty strings, `controller` and `blockOwnerDeletion` booleans, at
    /// most one entry with `controller: true`.
    static func namesAnOwner(_ header: [(key: String, keyLocation: SourceLocation, value: YAMLValue)]) throws(ScenarioError) -> Bool {
        for (key, _, metadata) in header where key == "metadata" && !metadata.isNull {
            for (field, _, value) in try metadata.entries("metadata") where field == "ownerReferences" && !value.isNull {
                let references = try value.items("metadata.ownerReferences")
                var controller: String?
                for (index, reference) in references.enumerated() {
                    let what = "metadata.ownerReferences[\(index)]"
                    let fields = try reference.fields(
                        what, allowed: ["apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion"])
                    for required in ["apiVersion", "kind", "name", "uid"] {
                        let text = try fields[required]?.string("\(what).\(required)") ?? ""
                        if text.isEmpty { throw reference.error("\(what).\(required): Invalid value: \"\": \(required) must not be empty") }
                    }
                    _ = try fields["blockOwnerDeletion"]?.bool("\(what).blockOwnerDeletion")
                    if let flag = fields["controller"], try flag.bool("\(what).controller") {
                        let name = (try? fields["name"]?.string("name")) ?? ""
                        if let first = controller {
                            throw flag.error(
                                "metadata.ownerReferences: Invalid value: only one reference can have Controller set to true, found \"true\" in references for \(first) and \(name)"
                            )
                        }
                        controller = name
                    }
                }
                return !references.isEmpty
            }
        }
        return false
    }

    /// kubectl refuses `-n a` for an object that names namespace b.
    private func requireNamespace(_ namespace: String, in header: [(key: String, keyLocation: SourceLocation, value: YAMLValue)])
        throws(ScenarioError)
    {
        for (key, _, metadata) in header where key == "metadata" && !metadata.isNull {
            for (field, _, value) in try metadata.entries("metadata") where field == "namespace" && !value.isNull {
                let written = try value.string("metadata.namespace")
                if !written.isEmpty && written != namespace {
                    throw value.error(
                        "the namespace from the object, \"\(written)\", does not match the namespace \"\(namespace)\" it is applied with")
                }
            }
        }
    }

    private mutating func namespace(_ value: YAMLValue) throws(ScenarioError) -> Namespace {
        let fields = try value.fields("Namespace", allowed: ["apiVersion", "kind", "metadata", "spec", "status"])
        let meta = try Metadata.read(fields.required("metadata"), kind: "Namespace", namespaced: false, at: value.location)
        if let spec = fields["spec"] { try Self.checkNamespaceSpec(spec) }
        warnLegacyIsolation(meta, value)
        warnOddInjectionLabel(meta.name, meta.labels, value)
        return Namespace(name: meta.name, labels: meta.labels)
    }

    /// A Namespace's `spec`, as the API server decodes and validates it (NamespaceSpec; `ValidateNamespace`,
    /// pkg/apis/core/validation/validation.go): an object whose one field is `finalizers`, a list of
    /// finalizer names (`validateFinalizerName`), each a qualified name, and one without a `/`
    /// prefix one of the standard finalizers (`kubernetes`, `orphan`, `foregroundDeletion`:
    /// `validateKubeFinalizerName`). keycard keeps none of it: a namespace is never deleted slowly.
    static func checkNamespaceSpec(_ spec: YAMLValue) throws(ScenarioError) {
        let fields = try spec.fields("Namespace spec", allowed: ["finalizers"])
        guard let finalizers = fields["finalizers"], !finalizers.isNull else { return }
        for (index, item) in try finalizers.items("spec.finalizers").enumerated() {
            let name = try item.string("spec.finalizers[\(index)]")
            if let problem = NameRules.labelKeyProblem(name, as: "finalizer") {
                throw item.error("spec.finalizers[\(index)]: Invalid value: \"\(name)\": \(problem)")
            }
            if !name.contains("/"), !["kubernetes", "orphan", "foregroundDeletion"].contains(name) {
                throw item.error(
                    "spec.finalizers[\(index)]: Invalid value: \"\(name)\": name is neither a standard finalizer name nor is it fully qualified"
                )
            }
        }
    }

    /// Before networking/v1 (Kubernetes 1.7) a namespace opted its pods into isolation with this
    /// annotation (`{"ingress": {"isolation": "DefaultDeny"}}`); v1 dropped it, and plugins ignore
    /// it (Calico's `NamespaceToProfile`, weave-npc outside its legacy mode). Charts' READMEs still
    /// tell users to set it, who then believe the namespace denies by default.
    private mutating func warnLegacyIsolation(_ meta: Metadata, _ value: YAMLValue) {
        let key = "net.beta.kubernetes.io/network-policy"
        guard meta.annotations[key] != nil else { return }
        let at = Self.field(value, ["metadata", "annotations", key]) ?? value
        warnings.append(
            ScenarioWarning(
                location: at.location,
                message:
                    "Namespace \(meta.name)'s annotation \(key) has had no effect since Kubernetes 1.7 (networking/v1): its pods are not isolated by it; a NetworkPolicy with an empty podSelector and no rules denies by default"
            ))
    }
}

/// The metadata fields keycard reads; the rest of what kubectl prints is accepted and ignored.
struct Metadata {
    var name: String
    var namespace: String
    var labels: Labels
    /// `metadata.annotations` (string values; null is empty).
    var annotations: [String: String] = [:]

    /// Reads `metadata` as the API server's `ValidateObjectMeta` does: `name` (or `generateName`,
    /// completed as the API server would, with a suffix derived from where the object is written),
    /// `namespace` (default `defaultNamespace`, normally `default`; an empty string counts as omitted; ignored for cluster-scoped
    /// kinds), `labels` (a null value is the empty value).
    /// The ObjectMeta fields keycard does not otherwise read, decoded as the API server decodes
    /// them (a dump's `uid`, `resourceVersion`, `generation`, timestamps; `finalizers`): a value of
    /// the wrong JSON type fails decoding ("cannot unmarshal number into Go struct field
    /// ObjectMeta.metadata.uid of type string"), a timestamp that is no RFC 3339 time fails
    /// `metav1.Time`'s parse, and `ValidateFinalizers` wants qualified names, not both `orphan` and
    /// `foregroundDeletion`.
    private static func checkFieldTypes(_ fields: [String: YAMLValue]) throws(ScenarioError) {
        for field in ["uid", "resourceVersion", "selfLink"] { _ = try fields[field]?.string("metadata.\(field)") }
        for field in ["generation", "deletionGracePeriodSeconds"] {
            _ = try fields[field]?.int("metadata.\(field)", in: Int(Int64.min)...Int(Int64.max))
        }
        for field in ["creationTimestamp", "deletionTimestamp"] {
            guard let value = fields[field] else { continue }
            let text = try value.string("metadata.\(field)")
            if !text.isEmpty, !GoTime.isRFC3339(text) {
                throw value.error("metadata.\(field): parsing time \"\(text)\" as RFC 3339 failed")
            }
        }
        if let finalizers = fields["finalizers"] {
            let names = try finalizers.strings("metadata.finalizers")
            for name in names {
                if let problem = NameRules.labelKeyProblem(name, as: "finalizer") {
                    throw finalizers.error("metadata.finalizers: Invalid value: \"\(name)\": \(problem)")
                }
            }
            if names.contains("orphan") && names.contains("foregroundDeletion") {
                throw finalizers.error(
                    "metadata.finalizers: Invalid value: \"foregroundDeletion\": finalizer foregroundDeletion and orphan cannot be both set"
                )
            }
        }
        if let managed = fields["managedFields"] {
            for item in try managed.items("metadata.managedFields") where !item.isNull {
                _ = try item.entries("metadata.managedFields entry")
            }
        }
    }

    static func read(
        _ value: YAMLValue, kind: String, namespaced: Bool, at objectLocation: SourceLocation, defaultNamespace: String = "default",
        nameRule kindNameRule: ((String) -> String?)? = nil
    ) throws(ScenarioError) -> Metadata {
        try value.requireKnownFields("metadata", known: KnownFields.objectMeta)
        let entries = try value.entries("metadata")
        var fields: [String: YAMLValue] = [:]
        for entry in entries where !entry.value.isNull { fields[entry.key] = entry.value }
        try checkFieldTypes(fields)
        // The kind's name function, which ValidateObjectMeta also applies to generateName (as a
        // prefix): a Namespace's is a DNS-1123 label; a StatefulSet's too, its pods' hostname stem
        // (ValidateStatefulSetName since Kubernetes 1.27, kubernetes/kubernetes#114172); a
        // Service's a DNS-1035 label (ValidateServiceName: it becomes a DNS name and environment
        // variables); every other kind keycard reads (Pod, NetworkPolicy, the workloads, the
        // custom resources) a DNS-1123 subdomain. `kindNameRule`, when given, is the kind's own.
        let heldKindRule: (String) -> String? =
            switch kind {
            case "Namespace", "StatefulSet": NameRules.dns1123LabelProblem
            case "Service": NameRules.dns1035LabelProblem
            default: NameRules.dns1123SubdomainProblem
            }
        let nameRule = kindNameRule ?? heldKindRule
        let given = try fields["name"]?.string("metadata.name") ?? ""
        var name: String
        if let nameValue = fields["name"], !given.isEmpty {
            name = given
            if let problem = nameRule(name) { throw nameValue.error("\(kind) name \"\(name)\" \(problem)") }
            // ValidateObjectMeta checks generateName even when a name makes it unused.
            if let generateValue = fields["generateName"] {
                let prefix = try generateValue.string("metadata.generateName")
                if !prefix.isEmpty, let problem = nameRule(GeneratedName.masked(prefix)) {
                    throw generateValue.error("\(kind) generateName \"\(prefix)\" \(problem)")
                }
            }
        } else if let generateValue = fields["generateName"] {
            let prefix = try generateValue.string("metadata.generateName")
            // The file's name, not its path: the same scenario names the same objects wherever it
            // is checked out or however it is invoked.
            let file = objectLocation.file.split(separator: "/").last.map(String.init) ?? objectLocation.file
            name = GeneratedName.complete(prefix, seed: "\(file):\(objectLocation.line):\(objectLocation.column)")
            if prefix.isEmpty || nameRule(GeneratedName.masked(prefix)) != nil {
                throw generateValue.error(
                    "\(kind) generateName \"\(prefix)\" \(nameRule(GeneratedName.masked(prefix)) ?? "must not be empty")")
            }
            if let problem = nameRule(name) {
                throw generateValue.error("\(kind) generateName \"\(prefix)\" gives the name \"\(name)\", which \(problem)")
            }
        } else {
            throw value.error("\(kind) metadata needs \"name\" (or \"generateName\")")
        }
        var namespace = defaultNamespace
        if namespaced, let namespaceValue = fields["namespace"] {
            let text = try namespaceValue.string("metadata.namespace")
            if !text.isEmpty {
                if let problem = NameRules.dns1123LabelProblem(text) { throw namespaceValue.error("namespace \"\(text)\" \(problem)") }
                namespace = text
            }
        }
        var annotations: [String: String] = [:]
        if let annotationsValue = fields["annotations"] { annotations = try Self.annotations(annotationsValue) }
        return Metadata(name: name, namespace: namespace, labels: try labels(fields["labels"]), annotations: annotations)
    }

    /// `metadata.labels`, validated as `ValidateLabels` does (absent or null: none).
    static func labels(_ value: YAMLValue?) throws(ScenarioError) -> Labels {
        guard let value, !value.isNull else { return [:] }
        return try labelMap(value, "metadata.labels", entry: "label")
    }

    /// A map of label keys to label values (`metadata.labels`, a selector's `matchLabels`, a
    /// Service's `selector`), each validated as `ValidateLabels` does; `what` names the map and
    /// `entry` one value in errors (`selector "app"`). A null value is `""`, or with `pruningNulls`
    /// (a custom resource's map) no entry at all.
    static func labelMap(_ value: YAMLValue, _ what: String, entry: String, pruningNulls: Bool = false) throws(ScenarioError)
        -> Labels
    {
        var labels: Labels = [:]
        for (key, keyLocation, labelValue) in try value.entries(what) where !(pruningNulls && labelValue.isNull) {
            if let problem = NameRules.labelKeyProblem(key) { throw ScenarioError(keyLocation, problem) }
            let text = try labelValue.labelValue("\(entry) \"\(key)\"")
            if let problem = NameRules.labelValueProblem(text) { throw labelValue.error(problem) }
            labels[key] = text
        }
        return labels
    }

    /// `metadata.annotations`: keys validated as label keys whose case does not matter
    /// (`ValidateAnnotations`, apimachinery objectmeta.go: `NameRules.annotationKeyProblem`) and
    /// kept as written, values any string, at most 256 KiB of the written keys and values together
    /// (`TotalAnnotationSizeLimitB`); absent or null: none. Istio reads injection state there (mesh.md R1).
    static func annotations(_ value: YAMLValue?) throws(ScenarioError) -> [String: String] {
        var annotations: [String: String] = [:]
        guard let value, !value.isNull else { return annotations }
        var bytes = 0
        for (key, keyLocation, annotation) in try value.entries("metadata.annotations") {
            if let problem = NameRules.annotationKeyProblem(key) { throw ScenarioError(keyLocation, problem) }
            annotations[key] = try annotation.labelValue("annotation \"\(key)\"")
            bytes += key.utf8.count + (annotations[key]?.utf8.count ?? 0)
        }
        // TotalAnnotationSizeLimitB: keys and values together, in bytes.
        if bytes > 256 * 1024 {
            throw value.error("metadata.annotations: Too long: must have at most 262144 bytes (found \(bytes))")
        }
        return annotations
    }
}

/// Names the API server makes from `metadata.generateName` (apiserver `names.SimpleNameGenerator`):
/// the prefix cut to 58 characters, then 5 characters from `bcdfghjklmnpqrstvwxz2456789`. The API
/// server draws them at random; keycard derives them from where the object is written, so a
/// scenario names the same pods on every run.
enum GeneratedName {
    /// The API server's alphabet: no vowels, no 0, 1 or 3, so no words and no look-alikes.
    static let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
    /// The longest prefix kept (`names.MaxGeneratedNameLength`: 63 less the 5 generated characters).
    static let maxPrefixLength = 58

    /// `prefix` (cut to 58 characters) and 5 characters derived from `seed` (FNV-1a).
    static func complete(_ prefix: String, seed: String) -> String {
        complete(prefix, seed: seed, attempt: 0)
    }

    /// `complete(_:seed:)`, skipping every name `taken` says is held: the API server answers a
    /// generated name that exists with AlreadyExists and the controller creates the pod again
    /// with a new random name (apiserver `names.SimpleNameGenerator`; the workload controllers
    /// retry on their next sync), so every replica exists. The first candidate is the name
    /// without retry, so a name that collides with nothing never changes; each retry derives the
    /// next candidate from the same seed and the attempt's number.
    static func complete(_ prefix: String, seed: String, avoiding taken: (String) -> Bool) -> String {
        var attempt = 0
        var name = complete(prefix, seed: seed, attempt: attempt)
        while taken(name) {
            attempt += 1
            name = complete(prefix, seed: seed, attempt: attempt)
        }
        return name
    }

    /// The candidate of retry `attempt` (0: the first) for `prefix` and `seed`.
    private static func complete(_ prefix: String, seed: String, attempt: Int) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (prefix + "\u{0}" + seed + (attempt == 0 ? "" : "\u{0}\(attempt)")).utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        var suffix = ""
        for _ in 0..<5 {
            suffix.append(alphabet[Int(hash % UInt64(alphabet.count))])
            hash /= UInt64(alphabet.count)
        }
        return String(prefix.prefix(maxPrefixLength)) + suffix
    }

    /// The prefix as validated: a trailing '-' stands for the characters still to come.
    static func masked(_ prefix: String) -> String {
        prefix.hasSuffix("-") ? String(prefix.dropLast()) + "a" : prefix
    }
}
