/// Where a probe or scan starts. Probe steps key their sources by `ObjectKey`; an external host
/// (`spec.externals`) takes the key `external/NAME`, in the namespace keycard reserves for
/// externals (no pod can live there), so one key type names both kinds of source.
extension ObjectKey {
    /// The namespace reserved for externals: `external/NAME` is never a pod.
    public static let externalNamespace = "external"

    /// The source key of external `name`.
    public static func external(_ name: String) -> ObjectKey { ObjectKey(externalNamespace, name) }

    /// The external's name, when this key names an external rather than a pod.
    public var externalName: String? { namespace == Self.externalNamespace ? name : nil }
}

extension Endpoint {
    /// The endpoint a source key stands for: `.external(NAME)` for `external/NAME`, else the pod.
    public static func source(_ key: ObjectKey) -> Endpoint {
        key.externalName.map(Endpoint.external) ?? .pod(key)
    }
}
