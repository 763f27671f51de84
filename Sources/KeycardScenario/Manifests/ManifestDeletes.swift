import KeycardModel

/// What `keycard delete -f FILE` deletes, read as `kubectl delete -f` reads a manifest: each
/// object's (or `...List` item's) `apiVersion` and `kind` (resolved as apply resolves them,
/// `BuiltInKinds.held`), `metadata.name` and `metadata.namespace` (default `default`; none for
/// cluster-scoped kinds). The rest (a spec, or none at all) is not read, so a
/// manifest trimmed to names deletes as well as the one that was applied. Kinds keycard does not
/// hold (a ConfigMap) name nothing to delete here.
public enum ManifestDeletes {
    /// The objects `path` names, and warnings about documents kubectl would not read either (a
    /// second document in one part of the file, as `keycard apply` and `check` warn about them).
    /// - Throws: `ScenarioError` at the field when a document is no object or names no name.
    /// `namespace` (`keycard delete -n`, as kubectl's) is where objects that name none are; one
    /// naming another is refused as kubectl refuses it.
    public static func targets(in path: String, namespace: String? = nil) throws(ScenarioError) -> (
        targets: [DeleteTarget], warnings: [ScenarioWarning]
    ) {
        let text = try ScenarioLoader.readText(path, at: SourceLocation.start(of: path))
        var targets: [DeleteTarget] = []
        var warnings: [ScenarioWarning] = []
        for document in try YAMLDocuments.parse(text, file: path, warnings: &warnings) {
            targets += try self.targets(document, namespace: namespace)
        }
        return (targets, warnings)
    }

    /// How many objects the manifest at `path` passes to `kubectl apply -f` or `delete -f`: its
    /// documents that are not empty (a file of comments only, or `---` alone, holds none), a
    /// `...List`'s non-null items in its place, whatever their kinds (a ConfigMap counts, as
    /// kubectl sends it). kubectl refuses a command whose files hold none ("error: no objects
    /// passed to apply", `pkg/cmd/apply`).
    /// - Throws: `ScenarioError` when the file cannot be read or is not YAML.
    public static func objectCount(in path: String) throws(ScenarioError) -> Int {
        let text = try ScenarioLoader.readText(path, at: SourceLocation.start(of: path))
        var count = 0
        for document in try YAMLDocuments.parse(text, file: path) where !document.isNull {
            guard case let entries = (try? document.entries("a Kubernetes object")) ?? [],
                let kind = entries.first(where: { $0.key == "kind" })?.value, (try? kind.string("kind"))?.hasSuffix("List") == true,
                let items = entries.first(where: { $0.key == "items" })?.value
            else {
                count += 1
                continue
            }
            // `items: null` is an empty list; `items` that is no list counts as an object, so the
            // decoder that reads it next refuses it at its place ("items must be a list").
            if let list = try? items.items("items") {
                count += list.filter { !$0.isNull }.count
            } else if !items.isNull {
                count += 1
            }
        }
        return count
    }

    /// `itemOf`: a typed list's item kind and apiVersion (`NetworkPolicyList` → NetworkPolicy),
    /// for items that name none, as apimachinery's `UnstructuredList` fills them in.
    private static func targets(_ value: YAMLValue, itemOf list: (kind: String, apiVersion: String?)? = nil, namespace given: String?)
        throws(ScenarioError)
        -> [DeleteTarget]
    {
        if value.isNull { return [] }
        let entries = try value.entries("a Kubernetes object")
        var fields: [String: YAMLValue] = [:]
        for entry in entries where !entry.value.isNull { fields[entry.key] = entry.value }
        // A typed list's item takes the list's kind and apiVersion only when it names neither
        // (apimachinery's `decodeToList`), as `ObjectDecoder` reads it.
        let inherits = list != nil && fields["kind"] == nil && fields["apiVersion"] == nil
        guard let kindText = inherits ? list?.kind : try fields["kind"]?.string("kind") else {
            throw value.error("a Kubernetes object needs \"kind\"")
        }
        let kindAt = fields["kind"]?.location ?? value.location
        let apiVersion = inherits ? list?.apiVersion : try fields["apiVersion"]?.string("apiVersion")
        // Any `...List` with `items`, null or not, is a list (kubectl's builder, as `ObjectDecoder`).
        if kindText.hasSuffix("List"), entries.contains(where: { $0.key == "items" }) {
            var targets: [DeleteTarget] = []
            let typed = kindText == "List" ? nil : (kind: String(kindText.dropLast(4)), apiVersion: apiVersion)
            for item in try fields["items"]?.items("items") ?? [] { targets += try Self.targets(item, itemOf: typed, namespace: given) }
            return targets
        }
        // The kind as kubectl delete maps it: a kind its group/version does not serve is refused
        // (it had deleted nothing and said so with exit 0), another group's kind deletes nothing here.
        guard let apiVersion else { throw value.error("\(kindText) needs \"apiVersion\" to be deleted") }
        guard
            let kind = try BuiltInKinds.held(
                kindText, apiVersion: apiVersion, kindAt: kindAt, apiVersionAt: fields["apiVersion"]?.location ?? value.location)
        else { return [] }
        guard let metadata = fields["metadata"] else { throw value.error("\(kindText) needs metadata.name to be deleted") }
        var name: String?
        var namespace = given ?? "default"
        for (key, _, field) in try metadata.entries("metadata") where !field.isNull {
            if key == "name" { name = try field.string("metadata.name") }
            if key == "namespace", case let text = try field.string("metadata.namespace"), !text.isEmpty {
                if let given, given != text, kind.isNamespaced {
                    throw field.error(
                        "the namespace from the provided object \"\(text)\" does not match the namespace \"\(given)\"; you must pass '--namespace=\(text)' to perform this operation"
                    )
                }
                namespace = text
            }
        }
        guard let name, !name.isEmpty else { throw metadata.error("\(kindText) needs metadata.name to be deleted") }
        return [
            DeleteTarget(ref: ObjectRef(kind: kind, namespace: kind.isNamespaced ? namespace : nil, name: name), location: value.location)
        ]
    }
}
