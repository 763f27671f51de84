import KeycardModel

extension ClusterChange {
    /// Gives the new pod `pod` its sidecar when the injector injects it now (`Pod.injectsSidecar`,
    /// mesh.md R1, R2), after the injector's own checks of its annotations
    /// (`SidecarInjectorAnnotations`): a pod the injector would have to inject with an annotation
    /// it refuses is not created (istio/istio `pkg/kube/inject/inject.go` `RunTemplate` fails and
    /// the webhook denies the request). A pod injected before (a dump carrying
    /// `sidecar.istio.io/status` or an `istio-proxy` container) is not injected again, so not
    /// checked. A pod the injector skips loses any sidecar it had under its name.
    /// - Parameters:
    ///   - locations: where the pod's annotations were written (`ObjectDecoder.podAnnotationField`);
    ///     the error points at the value, else at `location`.
    ///   - workload: the controller creating the pod, for the message.
    /// - Throws: `ScenarioError` "pod x/y: the Istio sidecar injector refuses it: invalid value ...".
    static func inject(
        _ pod: Pod, into cluster: inout Cluster, at location: SourceLocation, locations: [String: SourceLocation] = [:],
        workload: WorkloadKey? = nil
    ) throws(ScenarioError) {
        guard pod.injectsSidecar(in: cluster.namespaces[pod.namespace]) else {
            cluster.sidecars.remove(pod.key)
            return
        }
        let injectedBefore =
            pod.containerNames.contains(Pod.MeshLabel.proxyContainer) || pod.annotations[Pod.MeshLabel.sidecarStatus] != nil
        if !injectedBefore, let refusal = SidecarInjectorAnnotations.refusals(pod.annotations).first {
            let creator = workload.map { " (created by \($0.kind.rawValue) \($0.namespace)/\($0.name))" } ?? ""
            throw ScenarioError(
                locations[ObjectDecoder.podAnnotationField(refusal.name)] ?? location,
                "pod \(pod.key)\(creator): the Istio sidecar injector refuses it, so the API server does not create it: \(refusal.message)")
        }
        cluster.sidecars.insert(pod.key)
    }
}
