/// How a pod takes part in the mesh (spec mesh.md R1–R3).
public enum DataPlane: String, Hashable, Sendable, Codable, CaseIterable {
    /// An Envoy sidecar injected at creation (R1, R2).
    case sidecar
    /// Enrolled in ambient mode, served by ztunnel (R3).
    case ambient
    /// Outside the mesh: no proxy enforces anything for it (R4).
    case none
}

extension Pod {
    /// Istio's injection labels and annotations (INJECTION).
    public enum MeshLabel {
        public static let injection = "istio-injection"
        public static let inject = "sidecar.istio.io/inject"
        public static let revision = "istio.io/rev"
        public static let dataplaneMode = "istio.io/dataplane-mode"
        public static let sidecarStatus = "sidecar.istio.io/status"
        public static let proxyContainer = "istio-proxy"
    }

    /// System namespaces the sidecar injector skips (`istio/istio` `pkg/kube/inject`
    /// `IgnoredNamespaces`: kube-system, kube-public, kube-node-lease, local-path-storage). Not in
    /// the spec (mesh.md is silent); it keeps the lab's cluster DNS pod (kube-system/kube-dns-0)
    /// outside the mesh whatever labels kube-system is given.
    public static let meshIgnoredNamespaces: Set<String> = ["kube-system", "kube-public", "kube-node-lease", "local-path-storage"]

    /// The namespaces istio-cni never enrols in ambient: its chart's default `excludeNamespaces`
    /// (`manifests/charts/istio-cni/values.yaml`, enforced in `cni/pkg/nodeagent/informers.go`) is
    /// kube-system alone; the injector's longer list does not apply to ambient.
    public static let ambientExcludedNamespaces: Set<String> = ["kube-system"]

    /// Whether the injector gives this pod a sidecar when it is created in `namespace` (R1): either
    /// label disabled → no; either enabled (or a revision label) → yes. The pod's annotation
    /// `sidecar.istio.io/inject` stands for the label when the label is absent (the injector's
    /// `injectRequired`, not in the spec): `"false"` opts out. A dump of an injected pod
    /// (container `istio-proxy` or annotation `sidecar.istio.io/status`) has one already.
    ///
    /// The injector is called only when one of its webhooks selects the pod (`istio/istio`
    /// `manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml`):
    /// `namespace.` needs the namespace label `istio-injection In [enabled]`; `object.`,
    /// `rev.object.` and `rev.namespace.` need `istio-injection DoesNotExist`. So a namespace
    /// labelled `istio-injection` with any value but `enabled` (`disabled`, `true`, ...) meshes no
    /// pod of it, whatever the pod's own labels; R1 names only `enabled` and `disabled`. Every
    /// revision is taken as installed (R1: a revision label enables).
    public func injectsSidecar(in namespace: Namespace?) -> Bool {
        // The injector skips host-network pods (its iptables would rewrite the node's routing).
        if hostNetwork { return false }
        if containerNames.contains(MeshLabel.proxyContainer) || annotations[MeshLabel.sidecarStatus] != nil { return true }
        if Self.meshIgnoredNamespaces.contains(self.namespace) { return false }
        let namespaceLabels = namespace?.labels ?? [:]
        // The injector reads the annotation `sidecar.istio.io/inject` and lets the label of the same
        // name replace it when present (`istio/istio` `pkg/kube/inject/webhook.go` `injectRequired`:
        // "The label is the new API; if both are present we prefer the label"); only "true" and
        // "false" count there, anything else is the default. The webhook itself is called by labels
        // alone (its objectSelector), so the annotation can only opt a pod out: "true" in an
        // unlabelled namespace injects nothing.
        let podInjectLabel = labels[MeshLabel.inject]
        if (podInjectLabel ?? annotations[MeshLabel.inject]) == "false" { return false }
        switch namespaceLabels[MeshLabel.injection] {
        case "enabled"?:
            return true
        case nil:
            // `object.` (pod label "true"), `rev.object.` (pod revision), `rev.namespace.`.
            return podInjectLabel == "true" || labels[MeshLabel.revision] != nil || namespaceLabels[MeshLabel.revision] != nil
        default:
            return false
        }
    }

    /// Whether the pod is enrolled in ambient mode by its own or its namespace's label (R3), live.
    /// istio-cni's default enablement selectors decide (`istio/istio`
    /// `manifests/charts/istio-cni/values.yaml` `ambient.enablementSelectors`, matched by
    /// `cni/pkg/util/enablement_selector.go` `CompiledEnablementSelectors.Matches`): the pod label
    /// `istio.io/dataplane-mode: ambient` in any namespace, or a pod label `NotIn [none]` (absent,
    /// empty, `sidecar`, any value but `none`) in a namespace labelled `ambient`. So `none` opts
    /// out and any other pod value leaves the namespace's choice. A sidecar takes precedence
    /// (checked by the caller; istio-cni skips pods with `sidecar.istio.io/status`).
    public func enrolledInAmbient(in namespace: Namespace?) -> Bool {
        // istio-cni never redirects a host-network pod's traffic (it would be the node's).
        if hostNetwork { return false }
        if Self.ambientExcludedNamespaces.contains(self.namespace) { return false }
        let own = labels[MeshLabel.dataplaneMode]
        if own == "ambient" { return true }
        return own != "none" && namespace?.labels[MeshLabel.dataplaneMode] == "ambient"
    }
}

extension Cluster {
    /// The data plane of `key` now: a sidecar is fixed at creation (R2), ambient follows labels (R3).
    public func dataPlane(of key: ObjectKey) -> DataPlane {
        guard let pod = pods[key] else { return .none }
        if sidecars.contains(key) { return .sidecar }
        return pod.enrolledInAmbient(in: namespaces[pod.namespace]) ? .ambient : .none
    }

    /// The data plane of a pod, or of the backend a Service cell reaches (through its ClusterIP, a
    /// node port or the load balancer); externals, addresses and a Service without a backend are
    /// outside the mesh.
    public func dataPlane(of endpoint: Endpoint) -> DataPlane {
        switch endpoint {
        case .pod(let key), .service(_, backend: let key?), .exposed(_, _, backend: let key?): dataPlane(of: key)
        default: .none
        }
    }

    /// Whether any pod is in the mesh now.
    public var hasMeshedPods: Bool { pods.keys.contains { dataPlane(of: $0) != .none } }
}
