import Yams

/// A YAML node with the file it came from, read through typed accessors whose errors say where.
struct YAMLValue {
    let node: Node
    let file: String
    /// Shared among all values of one document: caps the nodes visited, so an alias bomb (a few
    /// anchors referencing each other, expanding exponentially) is refused instead of walked.
    let budget: VisitBudget
    /// Where the node's mark is in the file: each piece of a file (`KubectlFraming`) is parsed
    /// alone, and its marks count from its first line.
    let marks: MarkMap

    init(_ node: Node, file: String, budget: VisitBudget, marks: MarkMap = MarkMap()) {
        self.node = node
        self.file = file
        self.budget = budget
        self.marks = marks
    }

    var location: SourceLocation { marks.location(node.mark, file: file) }

    func error(_ message: String) -> ScenarioError { ScenarioError(location, message) }

    private func child(_ node: Node) throws(ScenarioError) -> YAMLValue {
        try budget.spend(at: location)
        return YAMLValue(node, file: file, budget: budget, marks: marks)
    }

    /// The YAML 1.1 type of the node (str, int, bool, null, ...), as Kubernetes' YAML reader sees it.
    /// go-yaml v2 (kubectl's) has no base-60 numbers, which Yams' YAML 1.1 resolver reads: a plain
    /// `12:30` or `1:30:00` is a string there.
    var tagName: Tag.Name {
        let resolved = Resolver.default.resolveTag(of: node)
        // Yams' YAML 1.1 resolver gives a plain `=` the value type and `<<` the merge type; go-yaml
        // v2 has no value type, and `<<` merges only in key position (`entries`): as a value both
        // are the strings kubectl sends.
        if resolved == .value || resolved == .merge { return .str }
        if resolved == .int || resolved == .float, case .scalar(let scalar) = node, scalar.string.contains(":") { return .str }
        // go-yaml v2's resolve reads more plain scalars as numbers than YAML 1.1's patterns (Yams):
        // `strconv.ParseInt(text, 0, 64)` takes `0X50`, `0O120`, `0B1010000`, and its float
        // pattern a sign or nothing before the dot (`+.8e2`, `.5e1`). kubectl sends them as numbers.
        if resolved == .str, case .scalar(let scalar) = node, scalar.style == .plain, scalar.tag.description == Tag.Name.implicit.rawValue {
            switch GoYAMLScalar.plain(scalar.string) {
            case .int, .uint: return .int
            case .float: return .float
            default: break
            }
        }
        return resolved
    }

    /// `null`, `~` or nothing: Kubernetes treats it as the field being absent.
    var isNull: Bool {
        if case .scalar(let scalar) = node, tagName == .null, scalar.style == .plain { return true }
        return false
    }

    var kindName: String {
        switch node {
        case .scalar: isNull ? "null" : "a scalar \"\(node.string ?? "")\""
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    /// The entries of a mapping, in order, with string keys. Merge keys (`<<: *anchor` or
    /// `<<: [*a, *b]`, YAML 1.1's merge type) are expanded as kubectl's go-yaml v2 does
    /// (`decoder.mapping`/`merge` in gopkg.in/yaml.v2 decode.go): the keys are applied in the order
    /// written, a merge key setting each of its mappings' keys in place, so a key written after
    /// `<<` replaces the merged one and a merged key replaces one written before `<<`; of a list
    /// of mappings the earlier ones win. An entry keeps the place where its key first appeared.
    func entries(_ what: String) throws(ScenarioError) -> [(key: String, keyLocation: SourceLocation, value: YAMLValue)] {
        guard case .mapping(let mapping) = node else { throw error("\(what) must be a mapping, found \(kindName)") }
        var result: [(key: String, keyLocation: SourceLocation, value: YAMLValue)] = []
        var place: [String: Int] = [:]
        func set(_ key: String, _ location: SourceLocation, _ value: YAMLValue) {
            if let index = place[key] {
                result[index] = (key, location, value)
            } else {
                place[key] = result.count
                result.append((key, location, value))
            }
        }
        for (keyNode, valueNode) in mapping {
            let key = try child(keyNode)
            guard case .scalar(let scalar) = keyNode else { throw key.error("keys of \(what) must be strings") }
            let value = try child(valueNode)
            // go-yaml v2 `isMerge`: a `<<` key merges when untagged or tagged `!!merge`; `!!str <<`
            // is an ordinary key.
            if scalar.style == .plain, scalar.string == "<<",
                [Tag.Name.implicit.rawValue, Tag.Name.merge.rawValue].contains(scalar.tag.description)
            {
                for entry in try value.mergeSources(what) { set(entry.0, entry.1, entry.2) }
                continue
            }
            set(scalar.string, key.location, value)
        }
        return result
    }

    /// The entries a merge key's value sets, in the order go-yaml v2 sets them: one mapping's, or
    /// for a list of mappings the last one's first, so that the earlier ones win.
    private func mergeSources(_ what: String) throws(ScenarioError) -> [(String, SourceLocation, YAMLValue)] {
        switch node {
        case .mapping: return try entries("the merge key of \(what)").map { ($0.key, $0.keyLocation, $0.value) }
        case .sequence:
            var result: [(String, SourceLocation, YAMLValue)] = []
            for item in try items("the merge key of \(what)").reversed() {
                guard case .mapping = item.node else {
                    throw item.error("each entry of a merge key (<<) must be a mapping, found \(item.kindName)")
                }
                result += try item.mergeSources(what)
            }
            return result
        default: throw error("a merge key (<<) takes a mapping or a list of mappings, found \(kindName)")
        }
    }

    /// A mapping whose keys must come from `allowed`; unknown keys are errors naming the allowed ones.
    /// A null is an object with no fields: the API server decodes a null list item (`ingress: [null]`,
    /// YAML `- ` with nothing after it) into the item type's zero value, so it is then validated as `{}`.
    func fields(_ what: String, allowed: [String]) throws(ScenarioError) -> Fields {
        var values: [String: YAMLValue] = [:]
        if isNull { return Fields(owner: self, what: what, values: values) }
        for (key, keyLocation, value) in try entries(what) {
            guard allowed.contains(key) else {
                throw ScenarioError(
                    keyLocation, "unknown field \"\(key)\" in \(what) (expected one of: \(allowed.joined(separator: ", ")))")
            }
            values[key] = value
        }
        return Fields(owner: self, what: what, values: values)
    }

    /// A list of objects in a custom resource (Istio, ClusterNetworkPolicy): the API server checks
    /// a custom resource against its structural schema, which refuses a null item of an object
    /// list (`rules: [null]`), where a built-in type's JSON decoder makes it the zero object
    /// (`fields`).
    func objectItems(_ what: String) throws(ScenarioError) -> [YAMLValue] {
        let list = try items(what)
        if let null = list.first(where: \.isNull) {
            throw null.error("\(what) items must be objects, found null (a custom resource's schema refuses a null list item)")
        }
        return list
    }

    func items(_ what: String) throws(ScenarioError) -> [YAMLValue] {
        guard case .sequence(let sequence) = node else { throw error("\(what) must be a list, found \(kindName)") }
        var result: [YAMLValue] = []
        for item in sequence { result.append(try child(item)) }
        return result
    }

    /// A string scalar. Numbers, booleans and null are refused, as Kubernetes refuses them for
    /// string fields (quote them: "1.0"). A timestamp (`2024-01-15T10:00:00Z`) is its text: go-yaml
    /// v2 keeps timestamps as strings when it decodes into kubectl's untyped objects.
    func string(_ what: String) throws(ScenarioError) -> String {
        guard case .scalar(let scalar) = node else { throw error("\(what) must be a string, found \(kindName)") }
        if scalar.style == .plain && tagName != .str && tagName != .timestamp {
            throw error("\(what) must be a string, found \(kindName) (quote it to make it a string)")
        }
        return scalar.string
    }

    /// An integer scalar in `range`, in any form YAML 1.1 gives an integer (`80`, `0x50`, `0120`,
    /// `8_0`, `-0`), as kubectl's YAML reader (go-yaml v2) decodes it before the API server sees a number.
    /// Sexagesimal `1:20` is a string there, and so refused here. A float with no fraction (`80.0`,
    /// `8e1`, `.8e2`) is that integer: kubectl sends it as the JSON number 80, which an integer field takes.
    func int(_ what: String, in range: ClosedRange<Int>) throws(ScenarioError) -> Int {
        guard case .scalar(let scalar) = node, scalar.style == .plain, tagName == .int || tagName == .float
        else {
            throw error("\(what) must be an integer, found \(kindName)")
        }
        // go-yaml v2's resolve decides the number (`-0` and `+0` are 0, through strconv.ParseInt;
        // `.5e1` is 5.0, through ParseFloat); Yams' constructors are asked only where it finds none.
        let integral: Int? =
            switch GoYAMLScalar.plain(scalar.string) {
            case .int(let value): Int(exactly: value)
            case .float(let value): Int(exactly: value)
            default: tagName == .int ? Int.construct(from: scalar) : Double.construct(from: scalar).flatMap { Int(exactly: $0) }
            }
        guard let value = integral, range.contains(value) else {
            throw error("\(what) must be an integer from \(range.lowerBound) to \(range.upperBound), found \(scalar.string)")
        }
        return value
    }

    /// Whether the node is a plain number (int or float), which an int-or-string field (`port`,
    /// `targetPort`) reads as its number, as the API server gets it from kubectl as JSON.
    var isPlainNumber: Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return tagName == .int || tagName == .float
    }

    /// A label value (of `metadata.labels` or `matchLabels`): a string, or null, which Kubernetes'
    /// JSON decoding stores as the empty value `""`.
    func labelValue(_ what: String) throws(ScenarioError) -> String {
        isNull ? "" : try string(what)
    }

    /// A boolean scalar (`true`, `false`, and YAML 1.1's `yes`/`no`/`on`/`off`). Plain `y` and `n`,
    /// booleans to go-yaml v2, are strings here, as Yams' resolver and YAML 1.2 read them.
    /// A boolean field. Plain `y`/`Y`/`n`/`N` count too: go-yaml v2 (kubectl's decoder) resolves
    /// them as booleans, and in a boolean field they cannot mean anything else (elsewhere keycard
    /// keeps them strings: docs/kubernetes-fidelity.md).
    func bool(_ what: String) throws(ScenarioError) -> Bool {
        if case .scalar(let scalar) = node, scalar.style == .plain, ["y", "Y", "n", "N"].contains(scalar.string) {
            return scalar.string.lowercased() == "y"
        }
        guard case .scalar(let scalar) = node, scalar.style == .plain, tagName == .bool, let value = Bool.construct(from: scalar) else {
            throw error("\(what) must be true or false, found \(kindName)")
        }
        return value
    }

    /// A list of strings. `nullIsEmpty`: a null entry is `""`, as the API server's JSON decoding
    /// leaves a Go string it reads null at its zero value (encoding/json: "unmarshaling a JSON
    /// null into any other Go type has no effect"), so a built-in object's `args: [a, null]`
    /// (Helm's `- {{ .Values.unset }}`) is `["a", ""]`; a custom resource's schema refuses it.
    func strings(_ what: String, nullIsEmpty: Bool = false) throws(ScenarioError) -> [String] {
        var result: [String] = []
        for item in try items(what) {
            result.append(nullIsEmpty && item.isNull ? "" : try item.string("each entry of \(what)"))
        }
        return result
    }

    /// A mapping of strings to strings (labels, `nodeSelector`). `nullIsEmpty`: a null value is
    /// `""`, as for `strings`.
    func stringMap(_ what: String, nullIsEmpty: Bool = false) throws(ScenarioError) -> [String: String] {
        var result: [String: String] = [:]
        for (key, _, value) in try entries(what) {
            result[key] = nullIsEmpty && value.isNull ? "" : try value.string("\(what).\(key)")
        }
        return result
    }
}

/// The fields of one mapping, looked up by name.
struct Fields {
    let owner: YAMLValue
    let what: String
    let values: [String: YAMLValue]

    /// The field, or nil when absent or null.
    subscript(_ key: String) -> YAMLValue? {
        guard let value = values[key], !value.isNull else { return nil }
        return value
    }

    func required(_ key: String) throws(ScenarioError) -> YAMLValue {
        guard let value = self[key] else { throw owner.error("\(what) needs the field \"\(key)\"") }
        return value
    }

    var location: SourceLocation { owner.location }
}

/// Counts visited nodes, so that aliases cannot expand a text far beyond its written size.
///
/// YAML aliases are substituted when a document is composed, so walking a tree visits an anchored
/// node once per alias: a few hundred bytes of anchors (the "billion laughs") expand to billions of
/// nodes. Size alone is no attack (a `kubectl get netpol -A -o yaml` of 10,000 policies is about
/// 550,000 nodes); expansion far beyond what is written is.
final class VisitBudget {
    /// Nodes `written` nodes may expand to: ordinary anchors and merge keys repeat a block a few
    /// times; a floor leaves room for small files that use them a lot.
    static func limit(forWrittenNodes written: Int) -> Int { max(200_000, 10 * written) }

    /// How many nodes may be visited in all.
    let limit: Int
    /// How many have been visited so far.
    private(set) var spent = 0
    private let writtenNodes: Int?

    /// - Parameters:
    ///   - limit: how many nodes may be visited in all.
    ///   - writtenNodes: the written size, named in the error when the limit comes from it.
    init(limit: Int, writtenNodes: Int? = nil) {
        self.limit = limit
        self.writtenNodes = writtenNodes
    }

    /// `location` is worked out only when the budget is exceeded: a position in a line that the
    /// framing rewrote costs a walk along the line, and one per visited node made a long
    /// one-line JSON file quadratic.
    func spend(at location: @autoclosure () -> SourceLocation) throws(ScenarioError) {
        spent += 1
        if spent > limit {
            let written = writtenNodes.map { " from \($0) written" } ?? ""
            throw ScenarioError(location(), "aliases expand the document to more than \(limit) nodes\(written) (an alias/anchor bomb?)")
        }
    }
}
