import KeycardModel
import KeycardValues

/// The one path by which a cluster changes — scenario steps (`Timeline`) and the live verbs
/// (`keycard apply`, `delete`, `label`) alike — with the rules of the Kubernetes API:
/// - `apply` creates or replaces each object whole, as `kubectl apply` of a full manifest does. One
///   batch is one desired state: its Namespaces are created first, an object may be listed once,
///   a pod or policy needs its namespace (NamespaceLifecycle admission), `external` is reserved.
/// - `delete` removes each object, which must exist; a namespace takes its pods and policies with it.
/// - A workload's pods are its controller's (`WorkloadController`): `apply` of a workload creates
///   or replaces them (a rollout), `delete` removes them, `scale` changes their number; a pod of a
///   workload deleted or relabelled out of its selector is replaced.
/// - `label` replaces a pod's or namespace's labels with exactly the given ones; a namespace keeps
///   `kubernetes.io/metadata.name` (the API server sets it).
/// Errors are `ScenarioError`s at the object's or step's place in its file.
public struct ClusterChange {
    /// Where the change happens, for messages: "at this step", "in lab web".
    public var scope: String
    /// What the batch is, for messages: "resources", "this apply step", "the file".
    public var batch: String
    /// Where ClusterIPs are allocated and pinned ones must lie (`spec.lab.serviceCIDR`).
    public var serviceCIDR: CIDR = ServiceAddresses.defaultCIDR
    /// Whether keycard runs the cluster DNS (`spec.lab.dns`): its pod and Service are keycard's,
    /// so a change may not apply objects of their names nor delete the pod or its namespace.
    /// Off for the batch that creates them (the resources).
    public var clusterDNS = false

    public init(scope: String, batch: String) {
        self.scope = scope
        self.batch = batch
    }

    /// Creates or replaces `objects`; `address` gives a pod's address (fixed for the whole run).
    /// Returns one line per object, `kubectl apply` style: `Pod x/a created`, `... configured`, or
    /// `... unchanged` when the object is stored as it was.
    @discardableResult
    public func apply(_ objects: [LoadedObject], to cluster: inout Cluster, address: (ObjectKey) -> IPv4?) throws(ScenarioError) -> [String]
    {
        try Timeline.checkReserved(objects, dns: clusterDNS)
        var seen: [ObjectRef: SourceLocation] = [:]
        for loaded in objects {
            let ref = loaded.object.ref
            if let first = seen[ref] { throw ScenarioError(loaded.location, "\(ref) appears twice in \(batch) (first at \(first))") }
            seen[ref] = loaded.location
        }
        var done: [String] = []
        let pinnedNodePorts = Self.pinnedNodePorts(objects)
        var clusterIPs = ClusterIPOwners(cluster.services.values)
        // One batch is one instant: objects it creates share their age (R9).
        cluster.generation += 1
        let namespacesFirst = objects.filter { $0.object.ref.kind == .namespace } + objects.filter { $0.object.ref.kind != .namespace }
        for loaded in namespacesFirst {
            let outcome: ApplyOutcome
            switch loaded.object {
            case .namespace(var namespace):
                let before = cluster.namespaces[namespace.name]
                namespace.appliedLabels = namespace.labels
                if let before {
                    namespace.setLabels(Self.mergedLabels(live: before.labels, lastApplied: before.appliedLabels, new: namespace.labels))
                }
                outcome = ApplyOutcome(before, namespace)
                cluster.namespaces[namespace.name] = namespace
            case .pod(var pod):
                try requireNamespace(pod.namespace, cluster, loaded.location, for: "pod \(pod.key)")
                let before = cluster.pods[pod.key]
                let written = pod.labels
                if let old = before {
                    pod = try Self.podUpdate(old, pod, boundTo: cluster.podNodes[pod.key].map { "node-\($0)" }, at: loaded.location)
                    pod.labels = Self.mergedLabels(live: old.labels, lastApplied: old.appliedLabels, new: written)
                }
                pod.appliedLabels = written
                // Applying a controller's pod updates it and keeps its owner, which releases it
                // (and replaces it) if its new labels leave the selector.
                pod.owner = cluster.pods[pod.key]?.owner
                cluster.pods[pod.key] = pod
                cluster.addresses[pod.key] = address(pod.key)
                // R2: the injector runs when a pod is created; replacing it keeps what it got.
                if before == nil { try Self.inject(pod, into: &cluster, at: loaded.location, locations: loaded.fieldLocations) }
                if let owner = pod.owner, let state = cluster.workloads[owner.workload],
                    !Self.stillSelects(state, owner, labels: pod.labels)
                {
                    cluster.pods[pod.key]?.owner = nil
                    try reconcile(owner.workload, in: &cluster, at: loaded.location, address: address)
                }
                // A bare pod a ReplicaSet's selector matches is adopted (and may be the one too many).
                if let pod = cluster.pods[pod.key], let adopter = Self.adopter(of: pod, in: cluster) {
                    try reconcile(adopter, in: &cluster, at: loaded.location, address: address)
                }
                outcome = ApplyOutcome(before, cluster.pods[pod.key] ?? pod)
            case .networkPolicy(var policy):
                try requireNamespace(policy.namespace, cluster, loaded.location, for: "NetworkPolicy \(policy.key)")
                let previous = cluster.policies[policy.key]
                if let previous { policy = previous.updated(to: policy) }
                outcome = ApplyOutcome(previous, policy)
                cluster.policies[policy.key] = policy
            case .peerAuthentication(let policy):
                try requireNamespace(policy.namespace, cluster, loaded.location, for: "PeerAuthentication \(policy.key)")
                outcome = Self.store(policy, at: policy.key, in: &cluster.peerAuthentications, generation: cluster.generation)
            case .authorizationPolicy(let policy):
                try requireNamespace(policy.namespace, cluster, loaded.location, for: "AuthorizationPolicy \(policy.key)")
                outcome = Self.store(policy, at: policy.key, in: &cluster.authorizationPolicies, generation: cluster.generation)
            case .workload(let workload):
                try requireNamespace(
                    workload.namespace, cluster, loaded.location, for: "\(workload.kind.rawValue) \(workload.namespace)/\(workload.name)")
                let before = cluster.workloads[workload.key]?.workload
                try applyWorkload(workload, at: loaded.location, to: &cluster, address: address, locations: loaded.fieldLocations)
                outcome = ApplyOutcome(before, workload)
            case .service(var service):
                try requireNamespace(service.namespace, cluster, loaded.location, for: "Service \(service.key)")
                let previous = cluster.services[service.key]
                try TypeDependentField.settle(loaded.typeDependentFields, updating: previous)
                try Self.checkServiceUpdate(service, of: previous, at: loaded.location, fields: loaded.fieldLocations)

                // The oldest Service decides a port's protocol (R37); an update keeps its age.
                service.createdAt = previous?.createdAt ?? cluster.generation
                // An update without a selector leaves the EndpointSlice controller's slices as
                // they were (`Service.retainedEndpoints`); one with a selector is its again.
                if service.selector?.isEmpty != false { service.retainedEndpoints = previous?.controllerEndpoints(in: cluster) }
                // Only a Service that settles node ports looks at the others' (a batch of n
                // ClusterIP Services is then not n scans of all of them).
                let avoiding =
                    service.settlesNodePorts
                    ? pinnedNodePorts.filter { $0.key != service.key }.values.reduce(into: Set<Int>()) { $0.formUnion($1) } : []
                let stored = try exposed(
                    addressed(
                        service, in: cluster, owners: clusterIPs, at: loaded.location,
                        field: loaded.fieldLocations[ObjectDecoder.clusterIPField]),
                    in: cluster, avoiding: avoiding, at: loaded.location, fields: loaded.fieldLocations)
                clusterIPs.record(previous, stored)
                cluster.services[service.key] = stored
                outcome = ApplyOutcome(previous, cluster.services[service.key])
            case .stagedPolicy(let staged):
                try requireNamespace(staged.policy.namespace, cluster, loaded.location, for: "StagedKubernetesNetworkPolicy \(staged.key)")
                outcome = ApplyOutcome(cluster.stagedPolicies[staged.key], staged)
                cluster.stagedPolicies[staged.key] = staged
            case .clusterNetworkPolicy(let policy):
                // Cluster-scoped: no namespace to require. The API judges the translated connection
                // (network-policy-api api-overview, "hairpin"; NPEP-133: a Service VIP is not
                // selectable); a pre-dnat lab judges a pod's egress before translation, tiers and
                // all, so it would prove verdicts (a Service around an Admin Deny) no cluster gives.
                if cluster.serviceEnforcement == .preDNAT {
                    throw ScenarioError(
                        loaded.location,
                        "\(loaded.object.ref) in a lab with spec.lab.serviceEnforcement: pre-dnat: cluster policies judge Service traffic after translation (the backend pod and its target port), which a pre-dnat lab's egress does not see; leave serviceEnforcement at post-dnat to prove them"
                    )
                }
                outcome = ApplyOutcome(cluster.clusterPolicies[policy.key], policy)
                cluster.clusterPolicies[policy.key] = policy
            }
            done.append("\(loaded.object.ref) \(outcome.rawValue)")
        }
        return done
    }

    /// `metadata.labels` after `kubectl apply` of `new` over an object holding `live`, whose last
    /// applied manifest wrote `lastApplied`: the three-way merge of a map sets every key `new`
    /// writes, deletes those the last manifest wrote and `new` leaves out, and keeps the rest (a
    /// label a `label` step or a controller added) ("Merging changes to map fields",
    /// kubernetes.io/docs/tasks/manage-kubernetes-objects/declarative-config). `lastApplied` nil:
    /// no manifest was applied before (kubectl then keeps every live key `new` does not write).
    static func mergedLabels(live: Labels, lastApplied: Labels?, new: Labels) -> Labels {
        var merged = new
        for (key, value) in live where new[key] == nil && lastApplied?[key] == nil { merged[key] = value }
        return merged
    }

    /// Namespaces the API server never deletes (NamespaceLifecycle admission, apiserver
    /// pkg/admission/plugin/namespace/lifecycle: `immortalNamespaces`).
    static let immortalNamespaces: Set<String> = ["default", "kube-system", "kube-public"]

    /// An existing pod updated by `new`, as `kubectl apply` of a pod manifest and
    /// `ValidatePodUpdate` (pkg/apis/core/validation/validation.go) make it: metadata and images
    /// may change; the spec fields keycard reads (containers, their ports, host ports and
    /// commands, node, service account, host network, DNS policy, hostname, subdomain) may not.
    /// - A pod the user applied (no owner): its last applied manifest was the old one, so a field
    ///   it had and `new` leaves out is removed by apply's three-way merge, which is a change too.
    /// - A controller's pod (no manifest of the user's was applied to it): apply merges containers
    ///   by name and removes nothing, so a field `new` leaves out keeps the pod's value.
    /// A `nodeName` equal to the node the pod was bound to is no change (the binding set it).
    /// - Throws: `ScenarioError` at `location`: "pod updates may not change fields other than ...".
    static func podUpdate(_ old: Pod, _ new: Pod, boundTo node: String?, at location: SourceLocation) throws(ScenarioError) -> Pod {
        func refuse(_ field: String) -> ScenarioError {
            ScenarioError(
                location,
                "Pod \(new.key): spec: Forbidden: pod updates may not change fields other than spec.containers[*].image, "
                    + "spec.initContainers[*].image, spec.activeDeadlineSeconds, spec.tolerations (only additions), "
                    + "spec.terminationGracePeriodSeconds (\(field) differs); delete the pod and create it again")
        }
        let merges = old.owner != nil
        /// Whether `new`'s value stands for a change: a written value that differs, or, for a pod
        /// the user applied, any difference (an omitted field is removed).
        func changed<T: Equatable>(_ written: T, _ was: T, omitted: Bool) -> Bool { merges ? !omitted && written != was : written != was }
        var pod = new
        if merges ? !Set(new.containerNames).isSubset(of: old.containerNames) : new.containerNames != old.containerNames {
            throw refuse("the containers")
        }
        if changed(Set(new.ports), Set(old.ports), omitted: new.ports.isEmpty) { throw refuse("the container ports") }
        if changed(Set(new.hostPorts), Set(old.hostPorts), omitted: new.hostPorts.isEmpty) { throw refuse("a hostPort") }
        if changed(new.commands, old.commands, omitted: new.commands.isEmpty) { throw refuse("a container's command or args") }
        // Without `node` (the pass that collects every pod runs before nodes are planned) a node
        // written over none is left to the planned pass, which knows where the pod is bound.
        let newNode = new.nodeName == node || (node == nil && old.nodeName == nil) ? old.nodeName : new.nodeName
        if changed(newNode, old.nodeName, omitted: new.nodeName == nil) { throw refuse("spec.nodeName") }
        // "default" is also what an unwritten field decodes to.
        if changed(new.serviceAccountName, old.serviceAccountName, omitted: new.serviceAccountName == "default") {
            throw refuse("spec.serviceAccountName")
        }
        if changed(new.hostNetwork, old.hostNetwork, omitted: !new.hostNetwork) { throw refuse("spec.hostNetwork") }
        // ClusterFirst is also what an unwritten dnsPolicy is defaulted to.
        if changed(new.dnsPolicy, old.dnsPolicy, omitted: new.dnsPolicy == .clusterFirst) { throw refuse("spec.dnsPolicy") }
        if changed(new.dnsConfig, old.dnsConfig, omitted: new.dnsConfig == nil) { throw refuse("spec.dnsConfig") }
        if changed(new.hostname, old.hostname, omitted: new.hostname == nil) { throw refuse("spec.hostname") }
        if changed(new.subdomain, old.subdomain, omitted: new.subdomain == nil) { throw refuse("spec.subdomain") }
        pod.containerNames = old.containerNames
        pod.ports = old.ports
        pod.hostPorts = old.hostPorts
        pod.commands = old.commands
        pod.nodeName = old.nodeName
        pod.serviceAccountName = old.serviceAccountName
        pod.hostNetwork = old.hostNetwork
        pod.dnsPolicy = old.dnsPolicy
        pod.dnsConfig = old.dnsConfig
        (pod.hostname, pod.subdomain) = (old.hostname, old.subdomain)
        return pod
    }

    /// Stores a mesh policy under `key`; an update keeps the creationTimestamp of the object it
    /// replaces (R9: the oldest policy wins ties). Returns what the apply did to it.
    private static func store<Policy: MeshPolicyObject & Equatable>(
        _ policy: Policy, at key: ObjectKey, in table: inout [ObjectKey: Policy], generation: Int
    ) -> ApplyOutcome {
        var policy = policy
        let previous = table[key]
        policy.createdAt = previous?.createdAt ?? generation
        table[key] = policy
        return ApplyOutcome(previous, policy)
    }

    /// Deletes each target. Returns `... deleted` lines.
    @discardableResult
    public func delete(_ targets: [DeleteTarget], from cluster: inout Cluster) throws(ScenarioError) -> [String] {
        try Timeline.checkDNSDelete(targets, dns: clusterDNS)
        var done: [String] = []
        for target in targets {
            let ref = target.ref
            let key = ObjectKey(ref.namespace ?? "default", ref.name)
            /// Removes the namespaced object `ref` names from `objects`; refuses when it is not there.
            @discardableResult
            func remove<Object>(_ objects: inout [ObjectKey: Object]) throws(ScenarioError) -> Object {
                guard let object = objects.removeValue(forKey: key) else { throw missing(ref, target.location) }
                return object
            }
            switch ref.kind {
            case .namespace:
                // The NamespaceLifecycle admission plugin keeps these ("immortal namespaces").
                if Self.immortalNamespaces.contains(ref.name) {
                    throw ScenarioError(target.location, "namespaces \"\(ref.name)\" is forbidden: this namespace may not be deleted")
                }
                guard cluster.namespaces.removeValue(forKey: ref.name) != nil else { throw missing(ref, target.location) }
                // Deleting a namespace deletes what lives in it.
                for key in cluster.pods.keys where key.namespace == ref.name { cluster.pods[key] = nil }
                for key in cluster.policies.keys where key.namespace == ref.name { cluster.policies[key] = nil }
                for key in cluster.stagedPolicies.keys where key.namespace == ref.name { cluster.stagedPolicies[key] = nil }
                for key in cluster.peerAuthentications.keys where key.namespace == ref.name { cluster.peerAuthentications[key] = nil }
                for key in cluster.authorizationPolicies.keys where key.namespace == ref.name { cluster.authorizationPolicies[key] = nil }
                cluster.sidecars = cluster.sidecars.filter { $0.namespace != ref.name }
                for key in cluster.workloads.keys where key.namespace == ref.name { cluster.workloads[key] = nil }
                for key in cluster.services.keys where key.namespace == ref.name { cluster.services[key] = nil }
            case .pod:
                let pod = try remove(&cluster.pods)
                cluster.sidecars.remove(key)
                // Its controller makes a replacement.
                if let owner = pod.owner?.workload { try reconcile(owner, in: &cluster, at: target.location, address: { _ in nil }) }
            case .networkPolicy:
                try remove(&cluster.policies)
            case .stagedKubernetesNetworkPolicy:
                try remove(&cluster.stagedPolicies)
            case .clusterNetworkPolicy, .adminNetworkPolicy, .baselineAdminNetworkPolicy:
                guard let origin = ref.kind.clusterPolicyOrigin,
                    cluster.clusterPolicies.removeValue(forKey: ClusterPolicyKey(origin: origin, name: ref.name)) != nil
                else { throw missing(ref, target.location) }
            case .peerAuthentication:
                try remove(&cluster.peerAuthentications)
            case .authorizationPolicy:
                try remove(&cluster.authorizationPolicies)
            case .workload(let kind):
                guard case let key = WorkloadKey(kind, ref.namespace ?? "default", ref.name),
                    cluster.workloads.removeValue(forKey: key) != nil
                else { throw missing(ref, target.location) }
                // Cascading deletion (the default propagation) removes its pods.
                for pod in cluster.pods(of: key) {
                    cluster.pods[pod.key] = nil
                    cluster.sidecars.remove(pod.key)
                }
            case .service:
                try remove(&cluster.services)
            }
            done.append("\(ref) deleted")
        }
        return done
    }

    /// Replaces the labels of the pod or namespace `change` names.
    public func label(_ change: LabelChange, in cluster: inout Cluster) throws(ScenarioError) {
        switch change.kind {
        case .namespace:
            guard cluster.namespaces[change.name] != nil else { throw missing(change.ref, change.location) }
            cluster.namespaces[change.name]?.setLabels(change.labels)
        case .pod:
            let key = ObjectKey(change.namespace ?? "default", change.name)
            guard let pod = cluster.pods[key] else { throw missing(change.ref, change.location) }
            cluster.pods[key]?.labels = change.labels
            // A pod relabelled out of its controller's selector is released (an orphan), and the
            // controller makes a replacement.
            if let owner = pod.owner, let state = cluster.workloads[owner.workload], !Self.stillSelects(state, owner, labels: change.labels)
            {
                cluster.pods[key]?.owner = nil
                try reconcile(owner.workload, in: &cluster, at: change.location, address: { _ in nil })
            }
            // A bare pod relabelled into a ReplicaSet's selector is adopted (and may be the one too many).
            if let pod = cluster.pods[key], let adopter = Self.adopter(of: pod, in: cluster) {
                try reconcile(adopter, in: &cluster, at: change.location, address: { _ in nil })
            }
        case .networkPolicy, .peerAuthentication, .authorizationPolicy, .service, .workload, .stagedKubernetesNetworkPolicy,
            .clusterNetworkPolicy, .adminNetworkPolicy, .baselineAdminNetworkPolicy:
            throw ScenarioError(change.location, "only a Pod or a Namespace can be labelled here, not a \(change.kind.rawValue)")
        }
    }

    func requireNamespace(_ name: String, _ cluster: Cluster, _ location: SourceLocation, for what: String) throws(ScenarioError) {
        guard cluster.namespaces[name] != nil else {
            throw ScenarioError(location, "\(what): namespace \"\(name)\" does not exist (declare a Namespace first)")
        }
    }

    func missing(_ ref: ObjectRef, _ location: SourceLocation) -> ScenarioError {
        ScenarioError(location, "\(ref) does not exist \(scope)")
    }
}

/// A mesh policy whose age decides between equals (PeerAuthentication, AuthorizationPolicy).
protocol MeshPolicyObject { var createdAt: Int { get set } }
extension PeerAuthentication: MeshPolicyObject {}
extension AuthorizationPolicy: MeshPolicyObject {}
