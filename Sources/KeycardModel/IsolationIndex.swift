import Synchronization

/// The NetworkPolicies isolating each pod in each direction, computed once per engine on first
/// use. Every verdict needs them, and filtering every policy of the cluster for every verdict made
/// the model's matrix (pods × pods × ports) cost pods² × ports × policies.
final class IsolationIndex: Sendable {
    private struct Key: Hashable {
        var pod: ObjectKey
        var direction: NetworkPolicy.PolicyType
    }

    private let cache = Mutex<[Key: [NetworkPolicy]]>([:])

    /// `cluster.isolatingPolicies(for: pod, direction)`, remembered; `cluster` must be the one the
    /// engine was made for (an engine's cluster never changes).
    func policies(for pod: Pod, _ direction: NetworkPolicy.PolicyType, in cluster: Cluster) -> [NetworkPolicy] {
        let key = Key(pod: pod.key, direction: direction)
        if let known = cache.withLock({ $0[key] }) { return known }
        let computed = cluster.isolatingPolicies(for: pod, direction)
        cache.withLock { $0[key] = computed }
        return computed
    }
}
