import KeycardModel

extension ObjectDecoder {
    /// `spec.tolerations`, which keycard does not schedule by (lab nodes carry no taints), checked
    /// as the API server decodes and validates them (`validateTolerations`,
    /// pkg/apis/core/validation): a list of mappings of `key`, `operator`, `value`, `effect`,
    /// `tolerationSeconds`; a non-empty `key` is a qualified name; `operator` is Exists or Equal
    /// (empty: Equal); an empty `key` needs Exists; Exists takes no `value`; `effect` is NoSchedule,
    /// PreferNoSchedule or NoExecute (empty: all); `tolerationSeconds` (an integer) needs NoExecute.
    /// - Throws: `ScenarioError` at the first entry or field the API server refuses.
    func checkTolerations(_ value: YAMLValue?) throws(ScenarioError) {
        guard let value else { return }
        for (index, item) in try value.items("spec.tolerations").enumerated() {
            let what = "spec.tolerations[\(index)]"
            let fields = try item.fields(what, allowed: ["key", "operator", "value", "effect", "tolerationSeconds"])
            let key = try fields["key"]?.string("\(what).key") ?? ""
            let op = try fields["operator"]?.string("\(what).operator") ?? ""
            let text = try fields["value"]?.string("\(what).value") ?? ""
            let effect = try fields["effect"]?.string("\(what).effect") ?? ""
            if !key.isEmpty, let problem = NameRules.labelKeyProblem(key) {
                throw (fields["key"] ?? item).error("\(what).key: Invalid value: \"\(key)\": \(problem)")
            }
            switch op {
            case "", "Equal":
                if key.isEmpty {
                    throw (fields["operator"] ?? item).error(
                        "\(what).operator: Invalid value: \"\(op)\": operator must be Exists when `key` is empty, which means \"match all values and all keys\""
                    )
                }
                if let problem = NameRules.labelValueProblem(text) { throw (fields["value"] ?? item).error("\(what).value: \(problem)") }
            case "Exists":
                if !text.isEmpty {
                    throw (fields["value"] ?? item).error(
                        "\(what).operator: Invalid value: \"\(text)\": value must be empty when `operator` is 'Exists'")
                }
            default:
                throw (fields["operator"] ?? item).error(
                    "\(what).operator: Unsupported value: \"\(op)\": supported values: \"Equal\", \"Exists\"")
            }
            guard ["", "NoSchedule", "PreferNoSchedule", "NoExecute"].contains(effect) else {
                throw (fields["effect"] ?? item).error(
                    "\(what).effect: Unsupported value: \"\(effect)\": supported values: \"NoExecute\", \"NoSchedule\", \"PreferNoSchedule\""
                )
            }
            if let seconds = fields["tolerationSeconds"] {
                _ = try seconds.int("\(what).tolerationSeconds", in: Int(Int64.min)...Int(Int64.max))
                if effect != "NoExecute" {
                    throw seconds.error(
                        "\(what).effect: Invalid value: \"\(effect)\": effect must be 'NoExecute' when `tolerationSeconds` is set")
                }
            }
        }
    }
}
