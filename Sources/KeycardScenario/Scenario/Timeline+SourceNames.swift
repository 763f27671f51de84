import KeycardModel

extension Timeline {
    /// Kubernetes accepts namespaces called `external` and `node`, and keycard with it; but
    /// `external/NAME` and `node/NAME` also name the lab's externals and nodes as probe sources and
    /// destinations. A pod whose key is also an external's or a node's would make every such
    /// reference (and every default row) mean two things: the scenario is rejected at the pod.
    static func checkSourceNames(_ everyPod: [LoadedObject], _ cluster: Cluster) throws(ScenarioError) {
        for loaded in everyPod {
            guard case .pod(let pod) = loaded.object, let other = cluster.ambiguity(ofPod: pod.key) else { continue }
            let fix =
                pod.namespace == ObjectKey.externalNamespace
                ? "put the pod in another namespace or rename the external" : "put the pod in another namespace"
            throw ScenarioError(loaded.location, "pod \(pod.key) is ambiguous: \(pod.key) also names \(other); \(fix)")
        }
    }
}
