import Foundation
import KeycardModel
import Yams

/// The JSON types of well-known fields keycard does not otherwise read, in Containers
/// (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#Container) and
/// in the PodSpec (`podSpecTable`).
///
/// kubectl sends a manifest as JSON, and the API server's decoder refuses a value of the wrong
/// JSON type before any validation ("json: cannot unmarshal number into Go struct field
/// EnvVar.value of type string"); a chart with `value: 8080` in its env cannot be applied. These
/// are the fields where that mistake is common; the rest of the schema (affinity, tolerations,
/// security contexts) is left alone.
enum DecodedFieldType {
    /// A string (`workingDir`).
    case string
    /// A boolean (`stdin`).
    case bool
    /// An integer of the field's Go type (int64 or int32).
    case integer(ClosedRange<Int>)
    /// A string from a fixed set; `""` is defaulted by `SetDefaults_Container` and so accepted.
    case oneOf([String])
    /// A list of mappings (`envFrom`, `volumeMounts`).
    case objects
    /// `env`: a list of EnvVar, each a `name` (required) with a string `value` or a `valueFrom` mapping.
    case env
    /// `resources`: ResourceRequirements, whose `limits` and `requests` map names to Quantities.
    case resources
    /// A map of resource names to Quantities (`overhead`).
    case quantities
    /// `volumes`: a list of mappings, each with a string `name`; an `emptyDir`'s `sizeLimit` a Quantity.
    case volumes

    static let int64 = Int(Int64.min)...Int(Int64.max)
    static let int32 = Int(Int32.min)...Int(Int32.max)

    /// The checked Container fields (core/v1 Container; defaults from `SetDefaults_Container`,
    /// supported values from `validatePullPolicy` and `validateContainers`).
    static let containerTable: [(field: String, type: DecodedFieldType)] = [
        ("env", .env),
        ("envFrom", .objects),
        ("resources", .resources),
        ("imagePullPolicy", .oneOf(["Always", "IfNotPresent", "Never"])),
        ("workingDir", .string),
        ("terminationMessagePath", .string),
        ("terminationMessagePolicy", .oneOf(["File", "FallbackToLogsOnError"])),
        ("volumeMounts", .objects),
        ("stdin", .bool),
        ("stdinOnce", .bool),
        ("tty", .bool),
    ]

    /// The checked PodSpec fields and their Go types (core/v1 PodSpec).
    static let podSpecTable: [(field: String, type: DecodedFieldType)] = [
        ("terminationGracePeriodSeconds", .integer(int64)),
        ("activeDeadlineSeconds", .integer(int64)),
        ("automountServiceAccountToken", .bool),
        ("hostPID", .bool),
        ("hostIPC", .bool),
        ("shareProcessNamespace", .bool),
        ("hostUsers", .bool),
        ("schedulerName", .string),
        ("priorityClassName", .string),
        ("priority", .integer(int32)),
        ("runtimeClassName", .string),
        ("preemptionPolicy", .string),
        ("overhead", .quantities),
        ("volumes", .volumes),
    ]

    /// The PodStatus fields and their Go types (core/v1 PodStatus, 1.34). The API server decodes
    /// a created pod's status before it drops it (`PrepareForCreate`), so a value of the wrong
    /// type is refused as anywhere else; `status.podIP` is keycard's own pin (docs/scenario-format.md).
    static let podStatusTable: [(field: String, type: DecodedFieldType)] =
        [("observedGeneration", .integer(int64))]
        + ["phase", "message", "reason", "nominatedNodeName", "hostIP", "podIP", "startTime", "qosClass", "resize"].map {
            ($0, .string)
        }
        + [
            "conditions", "hostIPs", "podIPs", "initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses",
            "resourceClaimStatuses",
        ].map { ($0, .objects) }
}

extension ObjectDecoder {
    /// Refuses a field of `table` whose value the API server cannot decode or does not support, at
    /// the value. `fields`: the object's non-null fields; `name`: how a message names a field
    /// (`container "c": workingDir`, `spec.hostPID`).
    func checkFieldTypes(_ fields: [String: YAMLValue], _ table: [(field: String, type: DecodedFieldType)], name: (String) -> String)
        throws(ScenarioError)
    {
        for (field, type) in table {
            guard let value = fields[field] else { continue }
            let what = name(field)
            switch type {
            case .string: _ = try value.string(what)
            case .bool: _ = try value.bool(what)
            case .integer(let range): _ = try value.int(what, in: range)
            case .oneOf(let allowed):
                let text = try value.string(what)
                guard text.isEmpty || allowed.contains(text) else {
                    throw value.error("\(what): Unsupported value \"\(text)\": supported values: \(allowed.joined(separator: ", "))")
                }
            case .objects:
                for item in try value.items(what) where !item.isNull { _ = try item.entries("each entry of \(what)") }
            case .env: try checkEnv(value, what)
            case .resources: try checkResources(value, what)
            case .quantities:
                for (name, _, quantity) in try value.entries(what) where !quantity.isNull { try checkQuantity(quantity, "\(what).\(name)") }
            case .volumes: try checkVolumes(value, what)
            }
        }
    }

    /// Each volume a mapping with a string `name`; an `emptyDir`'s `medium` a string and its
    /// `sizeLimit` a Quantity.
    private func checkVolumes(_ value: YAMLValue, _ what: String) throws(ScenarioError) {
        for (index, volume) in try value.items(what).enumerated() where !volume.isNull {
            let fields = try nonNullFields(volume, "\(what)[\(index)]")
            if let name = fields["name"] { _ = try name.string("\(what)[\(index)].name") }
            guard let emptyDir = fields["emptyDir"] else { continue }
            let emptyFields = try nonNullFields(emptyDir, "\(what)[\(index)].emptyDir")
            if let medium = emptyFields["medium"] { _ = try medium.string("\(what)[\(index)].emptyDir.medium") }
            if let limit = emptyFields["sizeLimit"] { try checkQuantity(limit, "\(what)[\(index)].emptyDir.sizeLimit") }
        }
    }

    /// EnvVar as `ValidateEnv` checks it (pkg/apis/core/validation): `name` a non-empty string of
    /// printable ASCII without `=` (`IsRelaxedEnvVarName`), `value` a string, `valueFrom` a mapping
    /// with exactly one source and no non-empty `value` beside it (`validateEnvVarValueFrom`), a
    /// `fieldRef` naming a field the env Downward API offers (`validEnvDownwardAPIFieldPathExpressions`,
    /// apiVersion `v1`, the default).
    private func checkEnv(_ value: YAMLValue, _ what: String) throws(ScenarioError) {
        for (index, item) in try value.items(what).enumerated() {
            let fields = try nonNullFields(item, "each entry of \(what)")
            let entry = "\(what)[\(index)]"
            guard let name = fields["name"] else { throw item.error("\(entry).name: Required value") }
            let text = try name.string("\(entry).name")
            if text.isEmpty { throw name.error("\(entry).name: Required value") }
            if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value > 0x7E || $0 == "=" }) {
                throw name.error(
                    "\(entry).name: Invalid value: \(text.debugDescription): a valid environment variable name must consist only of printable ASCII characters other than '='"
                )
            }
            var literal = ""
            if let written = fields["value"] { literal = try written.string("\(entry).value") }
            if let from = fields["valueFrom"] {
                let sources = try nonNullFields(from, "\(entry).valueFrom")
                if !literal.isEmpty {
                    throw from.error("\(entry).valueFrom: Invalid value: may not be specified when `value` is not empty")
                }
                let given = ["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef", "fileKeyRef"].filter { sources[$0] != nil }
                if given.isEmpty {
                    throw from.error(
                        "\(entry).valueFrom: Invalid value: must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"
                    )
                }
                if given.count > 1 {
                    throw from.error("\(entry).valueFrom: Invalid value: may not have more than one field specified at a time")
                }
                if let fieldRef = sources["fieldRef"] { try checkEnvFieldRef(fieldRef, "\(entry).valueFrom.fieldRef") }
            }
        }
    }

    /// `validateObjectFieldSelector` for env: `apiVersion` v1 (the default), `fieldPath` one of
    /// the env Downward API's fields, a label or annotation subscript with a valid key.
    private func checkEnvFieldRef(_ value: YAMLValue, _ what: String) throws(ScenarioError) {
        let fields = try nonNullFields(value, what)
        if let version = fields["apiVersion"] {
            let text = try version.string("\(what).apiVersion")
            guard text.isEmpty || text == "v1" else {
                throw version.error("\(what).fieldPath: Invalid value: error converting fieldPath: unsupported pod version: \(text)")
            }
        }
        guard let pathValue = fields["fieldPath"] else { throw value.error("\(what).fieldPath: Required value") }
        let path = try pathValue.string("\(what).fieldPath")
        for prefix in ["metadata.labels['", "metadata.annotations['"] where path.hasPrefix(prefix) && path.hasSuffix("']") {
            let key = String(path.dropFirst(prefix.count).dropLast(2))
            let problem =
                prefix.contains("labels") ? NameRules.labelKeyProblem(key) : NameRules.annotationKeyProblem(key)
            if let problem { throw pathValue.error("\(what).fieldPath: Invalid value: \(key.debugDescription): \(problem)") }
            return
        }
        let supported = ProgramEnvironment.fieldPaths.union(["metadata.uid"])
        guard supported.contains(path) else {
            let list = supported.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            throw pathValue.error("\(what).fieldPath: Unsupported value: \(path.debugDescription): supported values: \(list)")
        }
    }

    /// A request against its limit (`ValidateResourceRequirements` in
    /// pkg/apis/core/validation/validation.go): a request above its limit is refused; a resource that
    /// cannot be overcommitted (an extended resource such as `nvidia.com/gpu`, or `hugepages-*`:
    /// `IsOvercommitAllowed`) needs a limit, and its request must equal it.
    private static func checkRequest(
        _ name: String, _ text: String, against limit: (text: String, value: Decimal?)?, _ quantity: YAMLValue, _ what: String
    ) throws(ScenarioError) {
        let field = "\(what).requests"
        let request = text.trimmingCharacters(in: .whitespaces)
        let native = !name.contains("/") || name.contains("kubernetes.io/")
        let overcommit = native && !name.hasPrefix("hugepages-")
        guard let limit else {
            if !overcommit {
                throw quantity.error("\(what).limits: Required value: Limit must be set for non overcommitable resources (\(name))")
            }
            return
        }
        guard let requested = Quantity.value(request), let limited = limit.value else { return }
        if !overcommit && requested != limited {
            throw quantity.error("\(field): Invalid value: \"\(request)\": must be equal to \(name) limit of \(limit.text)")
        }
        if requested > limited {
            throw quantity.error("\(field): Invalid value: \"\(request)\": must be less than or equal to \(name) limit of \(limit.text)")
        }
    }

    /// ResourceRequirements: `limits` and `requests` map resource names to non-negative Quantities
    /// (`ValidateResourceQuantityValue`), a request at most its limit (`checkRequest`); `claims` is
    /// a list of mappings.
    private func checkResources(_ value: YAMLValue, _ what: String) throws(ScenarioError) {
        let fields = try nonNullFields(value, what)
        var limits: [String: (text: String, value: Decimal?)] = [:]
        for part in ["limits", "requests"] {
            guard let map = fields[part] else { continue }
            for (name, _, quantity) in try map.entries("\(what).\(part)") where !quantity.isNull {
                let field = "\(what).\(part).\(name)"
                defer {
                    if case .scalar(let scalar) = quantity.node {
                        let text = scalar.string.trimmingCharacters(in: .whitespaces)
                        if part == "limits" { limits[name] = (text, Quantity.value(text)) }
                    }
                }
                if part == "requests", case .scalar(let scalar) = quantity.node {
                    try Self.checkRequest(name, scalar.string, against: limits[name], quantity, what)
                }
                try checkQuantity(quantity, field)
            }
        }
        if let claims = fields["claims"] {
            for item in try claims.items("\(what).claims") where !item.isNull { _ = try item.entries("each entry of \(what).claims") }
        }
    }
}

extension ObjectDecoder {
    /// A Quantity the API server decodes and accepts (`ParseQuantity`, `ValidateResourceQuantityValue`):
    /// a finite non-negative YAML number, or a string of the Quantity grammar, not negative.
    func checkQuantity(_ quantity: YAMLValue, _ field: String) throws(ScenarioError) {
        guard case .scalar(let scalar) = quantity.node, quantity.tagName != .bool else {
            throw quantity.error("\(field) must be a quantity (a number or a string such as 100m or 1Gi), found \(quantity.kindName)")
        }
        // A YAML number (`0x10`, `1e3`, `.5`) reaches the API server as a JSON number.
        if quantity.isPlainNumber {
            // go-yaml's number (`0X50`, `+.8e2`, a uint64 beyond Int64), Yams' where go-yaml finds none.
            let number: Double? =
                switch GoYAMLScalar.plain(scalar.string) {
                case .int(let value): Double(value)
                case .uint(let value): Double(value)
                case .float(let value): value
                default: quantity.tagName == .int ? Int.construct(from: scalar).map(Double.init) : Double.construct(from: scalar)
                }
            guard let number, number.isFinite else {
                throw quantity.error("\(field) must be a finite number or a quantity string, found \(scalar.string)")
            }
            if number < 0 { throw quantity.error("\(field): \(scalar.string) must be greater than or equal to 0") }
            return
        }
        guard let negative = Quantity.isNegative(scalar.string) else {
            throw quantity.error(
                "\(field): quantity \"\(scalar.string)\" is not valid (quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'; binary suffixes are Ki, Mi, Gi, Ti, Pi, Ei)"
            )
        }
        if negative { throw quantity.error("\(field): \(scalar.string) must be greater than or equal to 0") }
    }
}

/// The grammar of a resource Quantity, as `ParseQuantity` in k8s.io/apimachinery/pkg/api/resource
/// (quantity.go) reads it:
///
///     <quantity>     ::= <sign>? <number> <suffix>
///     <number>       ::= <digits> | <digits> "." <digits>? | "." <digits>
///     <suffix>       ::= <binarySI> | <decimalSI> | ("e" | "E") <sign>? <digits>
///     <binarySI>     ::= Ki | Mi | Gi | Ti | Pi | Ei
///     <decimalSI>    ::= n | u | m | "" | k | M | G | T | P | E
///
/// A YAML number is sent as a JSON number, whose text is parsed the same way; surrounding spaces
/// are trimmed (`Quantity.UnmarshalJSON`).
enum Quantity {
    static let binarySI: Set<String> = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
    static let decimalSI: Set<String> = ["n", "u", "m", "", "k", "M", "G", "T", "P", "E"]

    /// Whether `text` is a negative quantity; nil when it is not a quantity.
    static func isNegative(_ text: String) -> Bool? {
        guard let parts = parse(text) else { return nil }
        return parts.negative && !isZero(parts.whole, parts.fraction)
    }

    /// The amount `text` stands for (`100m` is 0.1, `1Ki` 1024, `1e3` 1000); nil when it is not a
    /// quantity or lies outside what `Decimal` holds. Used to compare a request with its limit.
    static func value(_ text: String) -> Decimal? {
        guard let parts = parse(text), var amount = Decimal(string: "\(parts.whole.isEmpty ? "0" : parts.whole).\(parts.fraction)0")
        else { return nil }
        let binary = ["Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6]
        let decimal = ["n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18]
        if let power = binary[parts.suffix] {
            for _ in 0..<power { amount *= 1024 }
        } else {
            let exponent = decimal[parts.suffix] ?? Int(parts.suffix.dropFirst()).map { $0 } ?? Int.max
            guard abs(exponent) <= 120 else { return nil }
            amount *= Decimal(sign: .plus, exponent: exponent, significand: 1)
        }
        // Digits and exponent together may still leave Decimal's range.
        guard !amount.isNaN else { return nil }
        return parts.negative ? -amount : amount
    }

    /// The parts of a quantity: sign, digits before and after the point, and the suffix as written
    /// (a binary or decimal SI suffix, or `e`/`E` with a signed exponent); nil when it is none.
    private static func parse(_ text: String) -> (negative: Bool, whole: Substring, fraction: Substring, suffix: String)? {
        var rest = Substring(text.trimmingSpaces)
        var negative = false
        if let sign = rest.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            rest = rest.dropFirst()
        }
        let whole = rest.prefix(while: \.isASCIIDigit)
        rest = rest.dropFirst(whole.count)
        var fraction: Substring = ""
        if rest.first == "." {
            rest = rest.dropFirst()
            fraction = rest.prefix(while: \.isASCIIDigit)
            rest = rest.dropFirst(fraction.count)
        }
        guard !whole.isEmpty || !fraction.isEmpty else { return nil }
        let suffix = String(rest)
        if binarySI.contains(suffix) || decimalSI.contains(suffix) { return (negative, whole, fraction, suffix) }
        guard let first = suffix.first, first == "e" || first == "E" else { return nil }
        var exponent = suffix.dropFirst()
        if let sign = exponent.first, sign == "+" || sign == "-" { exponent = exponent.dropFirst() }
        guard !exponent.isEmpty, exponent.allSatisfy(\.isASCIIDigit) else { return nil }
        return (negative, whole, fraction, suffix)
    }

    private static func isZero(_ whole: Substring, _ fraction: Substring) -> Bool {
        (whole + fraction).allSatisfy { $0 == "0" }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension String {
    fileprivate var trimmingSpaces: Substring {
        let space: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !space($0) }), let end = lastIndex(where: { !space($0) }) else { return "" }
        return self[start...end]
    }
}
