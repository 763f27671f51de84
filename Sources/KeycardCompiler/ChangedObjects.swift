import KeycardModel

/// Which objects of a cluster changed between two versions: what the incremental compiler
/// re-examines. The caller that made the change can say it directly (constant cost); otherwise
/// `init(from:to:)` compares the two clusters object by object.
public struct ChangedObjects: Hashable, Sendable {
    /// Policies added, changed or deleted.
    public var policies: Set<ObjectKey>
    /// Pods added, deleted, relabelled, or whose ports or address changed.
    public var pods: Set<ObjectKey>
    /// Namespaces added, deleted or relabelled.
    public var namespaces: Set<String>

    public init(policies: Set<ObjectKey> = [], pods: Set<ObjectKey> = [], namespaces: Set<String> = []) {
        self.policies = policies
        self.pods = pods
        self.namespaces = namespaces
    }

    /// Every object whose value differs between `old` and `new` (O(objects) comparisons).
    public init(from old: Cluster, to new: Cluster) {
        self.init(
            policies: Self.changedKeys(old.policies, new.policies),
            pods: Self.changedKeys(old.pods, new.pods).union(Self.changedKeys(old.addresses, new.addresses)),
            namespaces: Self.changedKeys(old.namespaces, new.namespaces))
    }

    private static func changedKeys<Key: Hashable, Value: Equatable>(_ old: [Key: Value], _ new: [Key: Value]) -> Set<Key> {
        var keys = Set<Key>()
        for (key, value) in new where old[key] != value { keys.insert(key) }
        for key in old.keys where new[key] == nil { keys.insert(key) }
        return keys
    }

    /// Nothing changed.
    public var isEmpty: Bool { policies.isEmpty && pods.isEmpty && namespaces.isEmpty }
}
