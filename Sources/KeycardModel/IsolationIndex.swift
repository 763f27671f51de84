import Synchronization

/// The NetworkPolicies isolating each pod in each direction, computed once per engine on first
/// use. Every verdict needs them, and filtering every policy of the cluster for every verdict made
/// the model's matrix (pods × pods × ports) cost pods² × ports × policies.
final class IsolationIndex: Sendable {
    private struct Key: Hashable {
        var pod: ObjectKey
        var direction: NetworkPolicy.PolicyType
    }

    /// The policies and their keys: every verdict on the pod lists the keys, and sharing one array
    /// keeps a million-cell probe from holding a million copies.
    struct Entry {
        var policies: [NetworkPolicy]
        var keys: [ObjectKey]
    }

    private let cache = Mutex<[Key: Entry]>([:])

    /// `cluster.isolatingPolicies(for: pod, direction)` and their keys, remembered; `cluster` must
    /// be the one the engine was made for (an engine's cluster never changes).
    func policies(for pod: Pod, _ direction: NetworkPolicy.PolicyType, in cluster: Cluster) -> Entry {
        let key = Key(pod: pod.key, direction: direction)
        if let known = cache.withLock({ $0[key] }) { return known }
        let policies = cluster.isolatingPolicies(for: pod, direction)
        let computed = Entry(policies: policies, keys: policies.map(\.key))
        cache.withLock { $0[key] = computed }
        return computed
    }
}
