/// A namespaced Kubernetes object: `metadata.namespace` and `metadata.name`, which together name it
/// within its kind (https://kubernetes.io/docs/concepts/overview/working-with-objects/names/).
public protocol NamespacedObject {
    var namespace: String { get }
    var name: String { get }
}

extension NamespacedObject {
    /// `namespace/name`: how the cluster indexes the object and reports name it.
    public var key: ObjectKey { ObjectKey(namespace, name) }
}
