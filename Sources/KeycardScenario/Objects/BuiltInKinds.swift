/// The kinds the API server itself serves in its built-in group/versions. A custom resource can
/// never add one: a CRD's `spec.group` must not be empty (the core group) and `*.k8s.io` groups
/// need the `api-approved.kubernetes.io` annotation. So an unknown kind there is a mistake the
/// API server refuses (kubectl: `no matches for kind "Networkpolicy" in version
/// "networking.k8s.io/v1"`, from its RESTMapper, which matches kinds exactly), not a custom
/// resource to skip. Kinds as served by Kubernetes 1.34 (`kubectl api-resources`).
enum BuiltInKinds {
    /// Group/versions whose kinds are listed in full here: an unlisted kind is refused.
    static let closed: [String: Set<String>] = [
        "v1": [
            "Binding", "ComponentStatus", "ConfigMap", "Endpoints", "Event", "LimitRange", "Namespace", "Node",
            "PersistentVolume", "PersistentVolumeClaim", "Pod", "PodTemplate", "ReplicationController", "ResourceQuota",
            "Secret", "Service", "ServiceAccount",
        ],
        "apps/v1": ["ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"],
        "batch/v1": ["CronJob", "Job"],
        "networking.k8s.io/v1": ["Ingress", "IngressClass", "IPAddress", "NetworkPolicy", "ServiceCIDR"],
        "policy/v1": ["Eviction", "PodDisruptionBudget"],
        "rbac.authorization.k8s.io/v1": ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
        "discovery.k8s.io/v1": ["EndpointSlice"],
        "autoscaling/v1": ["HorizontalPodAutoscaler", "Scale"],
        "autoscaling/v2": ["HorizontalPodAutoscaler"],
        "scheduling.k8s.io/v1": ["PriorityClass"],
        "coordination.k8s.io/v1": ["Lease"],
        "node.k8s.io/v1": ["RuntimeClass"],
        "apiextensions.k8s.io/v1": ["CustomResourceDefinition"],
        "certificates.k8s.io/v1": ["CertificateSigningRequest"],
        "events.k8s.io/v1": ["Event"],
        // Groups with a dot whose old versions were removed (Deprecated API Migration Guide):
        // v1beta1 of storage, apiregistration, admissionregistration webhooks and TokenReview in
        // 1.22, flowcontrol v1beta3 in 1.32. Versions still served (betas and alphas of newer
        // kinds) are listed so that they are not refused.
        "storage.k8s.io/v1": [
            "CSIDriver", "CSINode", "CSIStorageCapacity", "StorageClass", "VolumeAttachment", "VolumeAttributesClass",
        ],
        "storage.k8s.io/v1beta1": ["VolumeAttributesClass"],
        "storage.k8s.io/v1alpha1": ["VolumeAttributesClass"],
        "apiregistration.k8s.io/v1": ["APIService"],
        "admissionregistration.k8s.io/v1": [
            "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
            "ValidatingWebhookConfiguration",
        ],
        "admissionregistration.k8s.io/v1beta1": [
            "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
        ],
        "admissionregistration.k8s.io/v1alpha1": [
            "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
        ],
        "authentication.k8s.io/v1": ["SelfSubjectReview", "TokenRequest", "TokenReview"],
        "authentication.k8s.io/v1beta1": ["SelfSubjectReview"],
        "authentication.k8s.io/v1alpha1": ["SelfSubjectReview"],
        "flowcontrol.apiserver.k8s.io/v1": ["FlowSchema", "PriorityLevelConfiguration"],
        // network-policy-api's CRDs: an api-approved `*.k8s.io` group that sig-network owns, so no
        // other CRD adds a kind to it (its apis/v1alpha1 and apis/v1alpha2 hold these kinds only).
        // A misspelt kind there would otherwise vanish with a warning, taking an admin's Deny along.
        "policy.networking.k8s.io/v1alpha2": ["ClusterNetworkPolicy"],
        "policy.networking.k8s.io/v1alpha1": ["AdminNetworkPolicy", "BaselineAdminNetworkPolicy"],
    ]

    /// The kind keycard holds that `kind` of `apiVersion` names, or nil for one it skips (a custom
    /// resource, another CNI's policy, a built-in kind keycard does not run), as `kubectl apply`
    /// and `delete` resolve a manifest's kind (its RESTMapper: by group, version and kind). A kind
    /// of another group is another resource even when its name is one keycard reads: a CRD may
    /// name its kind freely (apiextensions `ValidateCustomResourceDefinitionNames`), so Knative's
    /// `serving.knative.dev` Service, OpenKruise's `apps.kruise.io` StatefulSet or Linkerd's
    /// `policy.linkerd.io` AuthorizationPolicy are custom resources, skipped.
    /// - Throws: `ScenarioError` at `kindAt` when the API server serves no such kind there
    ///   (`problem`), at `apiVersionAt` when a kind keycard holds has another version of its group.
    static func held(_ kind: String, apiVersion: String, kindAt: SourceLocation, apiVersionAt: SourceLocation) throws(ScenarioError)
        -> ObjectKind?
    {
        guard let known = ObjectKind(rawValue: kind), ForeignPolicy.kind(kind, apiVersion: apiVersion) == nil,
            !isCustomGroup(of: apiVersion, for: known)
        else {
            if let problem = problem(kind: kind, apiVersion: apiVersion) { throw ScenarioError(kindAt, problem) }
            return nil
        }
        guard known.apiVersions.contains(apiVersion) else {
            throw ScenarioError(
                apiVersionAt, "\(kind) must have apiVersion \(known.apiVersions.joined(separator: " or ")), found \(shown(apiVersion))")
        }
        return known
    }

    /// Whether `apiVersion` lies in a group a custom resource definition may own, other than the
    /// groups of `known`: one with a dot, outside Kubernetes' own `k8s.io` domain (a CRD there
    /// needs the `api-approved.kubernetes.io` annotation). A kind keycard reads written with such
    /// a group is another resource that happens to share the name; written with a Kubernetes
    /// group (`extensions/v1beta1`, `v1` Deployment) it is a mistake the API server refuses.
    static func isCustomGroup(of apiVersion: String, for known: ObjectKind) -> Bool {
        let group = group(of: apiVersion)
        guard group.contains("."), group != "k8s.io", !group.hasSuffix(".k8s.io") else { return false }
        return !known.apiVersions.contains { Self.group(of: $0) == group }
    }

    /// The groups without a dot that Kubernetes serves or served (the core group is ""): another
    /// version of one of them is a removed API, not a custom resource.
    static let kubernetesGroupsWithoutDot: Set<String> = ["", "apps", "batch", "autoscaling", "policy", "extensions"]

    /// `apiVersion` as a message names it: an empty one in words, so the message does not end
    /// cut short.
    static func shown(_ apiVersion: String) -> String { apiVersion.isEmpty ? "an empty apiVersion" : apiVersion }

    /// The group of a group/version: "" for the core group's `v1`.
    static func group(of apiVersion: String) -> String {
        apiVersion.firstIndex(of: "/").map { String(apiVersion[..<$0]) } ?? ""
    }

    /// Why `kind` cannot be an object of `apiVersion`, or nil when it may be (a listed kind, or a
    /// custom resource's group/version):
    /// - a kind a listed group/version does not serve;
    /// - a version of a group this table lists that the API server no longer serves
    ///   (`extensions/v1beta1`, `policy/v1beta1`, `networking.k8s.io/v1beta1` Ingress: removed in
    ///   1.16–1.26), for a kind the group serves in another version;
    /// - any other group/version of Kubernetes' own groups without a dot (`extensions`,
    ///   `apps/v1beta2`, `v1beta1`): a CRD's group must have one (apiextensions
    ///   `ValidateCustomResourceDefinitionSpec`: "should be a domain with at least one dot"), and
    ///   an aggregated API (`APIService`, any DNS subdomain) would not take Kubernetes' own group;
    /// - a `kustomize.config.k8s.io` Kustomization: a kustomize input, never an API object
    ///   (`kubectl apply -f` of its folder fails on it; `kubectl apply -k` renders it first).
    /// How Kubernetes ranks the versions of a group (`CompareKubeAwareVersionStrings`,
    /// apimachinery): GA above beta above alpha, then the higher major, then the higher
    /// pre-release number; the version to suggest is the highest.
    static func versionPriority(_ apiVersion: String) -> (Int, Int, Int) {
        let version = apiVersion.split(separator: "/").last.map(String.init) ?? apiVersion
        guard version.hasPrefix("v") else { return (-1, 0, 0) }
        let body = version.dropFirst()
        let digits = body.prefix { $0.isNumber }
        let rest = body.dropFirst(digits.count)
        let major = Int(digits) ?? 0
        for (stability, word) in [(1, "beta"), (0, "alpha")] where rest.hasPrefix(word) {
            return (stability, major, Int(rest.dropFirst(word.count)) ?? 0)
        }
        return rest.isEmpty ? (2, major, 0) : (-1, major, 0)
    }

    static func problem(kind: String, apiVersion: String) -> String? {
        let group = group(of: apiVersion)
        if group == "kustomize.config.k8s.io" {
            return
                "no matches for kind \"\(kind)\" in version \"\(apiVersion)\": a kustomization is not an API object "
                + "(kubectl apply -f refuses it); render the folder first (kubectl kustomize DIR > FILE) and give keycard FILE"
        }
        guard let kinds = closed[apiVersion] else {
            let served = closed.keys.filter { Self.group(of: $0) == group }.sorted()
            let servedIn = served.filter { closed[$0]?.contains(kind) == true }.max { versionPriority($0) < versionPriority($1) }
            guard servedIn != nil || kubernetesGroupsWithoutDot.contains(group) else { return nil }
            var message = "no matches for kind \"\(kind)\" in version \"\(apiVersion)\": the API server does not serve \(shown(apiVersion))"
            if let servedIn { message += " (\(kind) is served in \(servedIn))" }
            return message
        }
        guard !kinds.contains(kind) else { return nil }
        var message = "no matches for kind \"\(kind)\" in version \"\(apiVersion)\": the API server refuses it"
        if let meant = kinds.first(where: { $0.lowercased() == kind.lowercased() }) {
            message += " (kinds are case-sensitive: \(meant))"
        } else if let elsewhere = closed.filter({ $0.value.contains(kind) }).keys.sorted().max(by: {
            versionPriority($0) < versionPriority($1)
        }) {
            message += " (\(kind) is served in \(elsewhere))"
        }
        return message
    }
}
