import KeycardModel

/// Turns YAML documents into Kubernetes objects, validating what Kubernetes' API server validates
/// for the fields keycard uses.
struct ObjectDecoder {
    var warnings: [ScenarioWarning] = []

    /// Decodes one document: an object, a `List` of objects, or an unknown kind (a warning).
    mutating func decode(_ value: YAMLValue) throws(ScenarioError) -> [LoadedObject] {
        if value.isNull { return [] }
        let header = try value.entries("a Kubernetes object")
        var apiVersion: String?
        var kind: String?
        for (key, _, field) in header where key == "apiVersion" || key == "kind" {
            let text = try field.string(key)
            if key == "apiVersion" { apiVersion = text } else { kind = text }
        }
        guard let kind else { throw value.error("a Kubernetes object needs \"kind\"") }
        guard let apiVersion else { throw value.error("\(kind) needs \"apiVersion\"") }
        if kind.hasSuffix("List") && ["List", "NamespaceList", "PodList", "NetworkPolicyList"].contains(kind) {
            let fields = Dictionary(header.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
            guard let items = fields["items"], !items.isNull else { return [] }
            var objects: [LoadedObject] = []
            for item in try items.items("items") { objects += try decode(item) }
            return objects
        }
        guard let known = ObjectKind(rawValue: kind) else {
            warnings.append(ScenarioWarning(location: value.location, message: "kind \(kind) (\(apiVersion)) is not understood by keycard; ignored"))
            return []
        }
        guard apiVersion == known.apiVersion else {
            throw value.error("\(kind) must have apiVersion \(known.apiVersion), found \(apiVersion)")
        }
        switch known {
        case .namespace: return [LoadedObject(.namespace(try namespace(value)), at: value.location)]
        case .pod: return [LoadedObject(.pod(try pod(value)), at: value.location)]
        case .networkPolicy: return [LoadedObject(.networkPolicy(try networkPolicy(value)), at: value.location)]
        }
    }

    private func namespace(_ value: YAMLValue) throws(ScenarioError) -> Namespace {
        let fields = try value.fields("Namespace", allowed: ["apiVersion", "kind", "metadata", "spec", "status"])
        let meta = try Metadata.read(fields.required("metadata"), kind: "Namespace", namespaced: false)
        return Namespace(name: meta.name, labels: meta.labels)
    }
}

/// The metadata fields keycard reads; the rest of what kubectl prints is accepted and ignored.
struct Metadata {
    var name: String
    var namespace: String
    var labels: Labels

    static func read(_ value: YAMLValue, kind: String, namespaced: Bool) throws(ScenarioError) -> Metadata {
        let entries = try value.entries("metadata")
        var fields: [String: YAMLValue] = [:]
        for entry in entries where !entry.value.isNull { fields[entry.key] = entry.value }
        guard let nameValue = fields["name"] else { throw value.error("\(kind) metadata needs \"name\"") }
        let name = try nameValue.string("metadata.name")
        let nameProblem = kind == "Namespace" ? NameRules.dns1123LabelProblem(name) : NameRules.dns1123SubdomainProblem(name)
        if let nameProblem { throw nameValue.error("\(kind) name \"\(name)\" \(nameProblem)") }
        var namespace = "default"
        if let namespaceValue = fields["namespace"] {
            namespace = try namespaceValue.string("metadata.namespace")
            if namespaced, let problem = NameRules.dns1123LabelProblem(namespace) {
                throw namespaceValue.error("namespace \"\(namespace)\" \(problem)")
            }
        }
        var labels: Labels = [:]
        if let labelsValue = fields["labels"] {
            for (key, keyLocation, labelValue) in try labelsValue.entries("metadata.labels") {
                if let problem = NameRules.labelKeyProblem(key) { throw ScenarioError(keyLocation, problem) }
                let text = try labelValue.string("label \"\(key)\"")
                if let problem = NameRules.labelValueProblem(text) { throw labelValue.error(problem) }
                labels[key] = text
            }
        }
        return Metadata(name: name, namespace: namespace, labels: labels)
    }
}
