import Yams

extension YAMLDocuments {
    /// `node` as kubectl reads it (go-yaml v2, then sigs.k8s.io/yaml's conversion to JSON), where
    /// Yams' reading differs, so that every reader of a document sees plain scalars and string keys:
    /// - a mapping key that is not a plain string becomes the string kubectl makes of it
    ///   (`GoYAMLScalar.keyString`: `on` → `"true"`, `0x10` → `"16"`); a null key, or two keys
    ///   that become one (`on` and `"true"`), are refused;
    /// - a scalar with an explicit tag becomes the value go-yaml gives it (`!!int "0x50"` → 80,
    ///   `!!str 80` → `"80"`), or is refused as go-yaml refuses it (`!!null x`).
    /// Only what changes is rebuilt: a document without tags and with string keys is returned as is.
    static func asKubectlReadsIt(_ node: Node, file: String, marks: MarkMap) throws(ScenarioError) -> Node {
        try rewritten(node, file: file, marks: marks) ?? node
    }

    /// The rewritten node, or nil when nothing in it changes.
    private static func rewritten(_ node: Node, file: String, marks: MarkMap) throws(ScenarioError) -> Node? {
        func location(_ node: Node) -> SourceLocation { marks.location(node.mark, file: file) }
        switch node {
        case .scalar(let scalar):
            guard Self.isDecisive(scalar.tag) else { return nil }
            switch GoYAMLScalar.tagged(scalar.string, tag: scalar.tag.description) {
            case .failure(let error): throw ScenarioError(location(node), "invalid YAML: \(error.message) (kubectl refuses it)")
            case .success(let value): return .scalar(kubectlScalar(value, like: scalar))
            }
        case .alias: return nil
        case .sequence(let sequence):
            var items = Array(sequence)
            var changed = false
            for index in items.indices {
                if let item = try rewritten(items[index], file: file, marks: marks) {
                    items[index] = item
                    changed = true
                }
            }
            return changed ? .sequence(Node.Sequence(items, sequence.tag, sequence.style, sequence.mark)) : nil
        case .mapping(let mapping):
            var pairs: [(Node, Node)] = []
            var changed = false
            var seen: [String: Node] = [:]
            for (key, value) in mapping {
                var newKey = key
                if case .scalar(let scalar) = key, let converted = try keyScalar(scalar, at: location(key)) {
                    newKey = .scalar(converted)
                    changed = true
                }
                if case .scalar(let scalar) = newKey, !(scalar.style == .plain && scalar.string == "<<") {
                    if let first = seen[scalar.string] {
                        throw ScenarioError(
                            location(key),
                            "duplicate key \"\(scalar.string)\" in a mapping: \(first.string.map { "`\($0)`" } ?? "a key") (line \(location(first).line)) and `\(key.string ?? "")` are the same key to kubectl"
                        )
                    }
                    seen[scalar.string] = key
                }
                let newValue = try rewritten(value, file: file, marks: marks)
                if newValue != nil { changed = true }
                pairs.append((newKey, newValue ?? value))
            }
            return changed ? .mapping(Node.Mapping(pairs, mapping.tag, mapping.style, mapping.mark)) : nil
        }
    }

    /// Whether a scalar's tag changes what it is: not when absent, `!` (non-specific) or `!!str`,
    /// which Yams also gives every quoted and block scalar: those are strings to both readers and
    /// stay as written (a block scalar's style places its lines for the truth-table parser).
    private static func isDecisive(_ tag: Tag) -> Bool {
        !["", "!", Tag.Name.str.rawValue].contains(tag.description)
    }

    /// A key scalar as the string key kubectl makes of it, or nil when it is already that string.
    /// A plain `<<` stays the merge key.
    private static func keyScalar(_ scalar: Node.Scalar, at location: SourceLocation) throws(ScenarioError) -> Node.Scalar? {
        if scalar.style == .plain && scalar.string == "<<" { return nil }
        // `!!str on` and `! on` are the string as written (go-yaml resolves neither tag). Yams gives
        // an untagged plain scalar it reads as a string the tag `!!str` too: where go-yaml reads
        // it as a number (`0X10`, `+.8e2`: ParseInt base 0, yamlStyleFloat) it is that number.
        // (An explicit `!!str 0X10` key looks the same to keycard and is read as the number.)
        let goNumber: GoYAMLScalar? =
            if scalar.style == .plain, scalar.tag.description == Tag.Name.str.rawValue {
                switch GoYAMLScalar.plain(scalar.string) {
                case .int(let number): .int(number)
                case .uint(let number): .uint(number)
                case .float(let number): .float(number)
                default: nil
                }
            } else { nil }
        if goNumber == nil && !scalar.tag.description.isEmpty && !Self.isDecisive(scalar.tag) { return nil }
        let value: GoYAMLScalar
        if let goNumber {
            value = goNumber
        } else if Self.isDecisive(scalar.tag) {
            switch GoYAMLScalar.tagged(scalar.string, tag: scalar.tag.description) {
            case .failure(let error): throw ScenarioError(location, "invalid YAML: \(error.message) (kubectl refuses it)")
            case .success(let tagged): value = tagged
            }
        } else if scalar.style == .plain {
            value = GoYAMLScalar.plain(scalar.string)
        } else {
            return nil
        }
        guard let key = value.keyString else {
            throw ScenarioError(
                location,
                "a mapping key may not be \(value == .null ? "null" : "the integer \(scalar.string), beyond 64-bit signed") (kubectl: unsupported map key); quote it to make it a string"
            )
        }
        if case .string = value, goNumber == nil, !Self.isDecisive(scalar.tag) { return nil }
        var converted = scalar
        converted.string = key
        converted.tag = .implicit
        converted.style = .doubleQuoted
        return converted
    }

    /// A scalar holding `value` as keycard's readers take it: a string double-quoted, anything else
    /// plain in a form Yams' resolver reads as the same type and value.
    private static func kubectlScalar(_ value: GoYAMLScalar, like scalar: Node.Scalar) -> Node.Scalar {
        var converted = scalar
        converted.tag = .implicit
        converted.style = .plain
        switch value {
        case .string(let text):
            converted.string = text
            converted.style = .doubleQuoted
        case .bool(let flag): converted.string = flag ? "true" : "false"
        case .int(let number): converted.string = String(number)
        case .uint(let number): converted.string = String(number)
        case .float(let number):
            converted.string = number.isNaN ? ".nan" : number.isInfinite ? (number < 0 ? "-.inf" : ".inf") : "\(number)"
        case .null: converted.string = "null"
        case .timestamp(let text): converted.string = text
        }
        return converted
    }
}
