import KeycardModel

/// Generated NetworkPolicies as `networking.k8s.io/v1` YAML documents (`---` between them), every
/// string quoted so that no label value reads as a number or a boolean.
public enum PolicyYAML {
    /// The policies as one multi-document YAML stream (`---` between them), `header` first as `#`
    /// comment lines.
    public static func render(_ policies: [NetworkPolicy], header: String? = nil) -> String {
        var out =
            header.map { $0.split(separator: "\n", omittingEmptySubsequences: false).map { "# \($0)" }.joined(separator: "\n") + "\n" }
            ?? ""
        for (index, policy) in policies.enumerated() {
            if index > 0 { out += "---\n" }
            out += "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            out += "metadata:\n  name: \(quote(policy.name))\n  namespace: \(quote(policy.namespace))\n"
            out += "spec:\n  podSelector:\(selector(policy.podSelector, indent: 4))\n"
            out += "  policyTypes: [\((policy.policyTypes ?? []).map(\.rawValue).joined(separator: ", "))]\n"
            for (key, rules) in [("ingress", policy.ingress ?? []), ("egress", policy.egress ?? [])] {
                guard !rules.isEmpty else {
                    out += "  \(key): []\n"
                    continue
                }
                out += "  \(key):\n"
                let field = key == "ingress" ? "from" : "to"
                for rule in rules {
                    out += "    - \(field):\n"
                    for peer in rule.peers ?? [] {
                        var lines: [String] = []
                        if let namespaces = peer.namespaceSelector { lines.append("namespaceSelector:\(selector(namespaces, indent: 12))") }
                        if let pods = peer.podSelector { lines.append("podSelector:\(selector(pods, indent: 12))") }
                        if let block = peer.ipBlock { lines.append("ipBlock: {cidr: \(quote(block.cidr.description))}") }
                        out += "        - " + lines.joined(separator: "\n          ") + "\n"
                    }
                    out += "      ports:\n"
                    for port in rule.ports ?? [] {
                        let value: String =
                            switch port.port {
                            case .name(let name): quote(name)
                            case .number(let number): "\(number)"
                            case nil: "null"
                            }
                        out += "        - {protocol: \(port.proto.rawValue), port: \(value)}\n"
                    }
                }
            }
        }
        return out
    }

    /// ` {}`, or the matchLabels and matchExpressions blocks at `indent`.
    static func selector(_ selector: LabelSelector, indent: Int) -> String {
        guard !selector.isEmpty else { return " {}" }
        let pad = String(repeating: " ", count: indent)
        var out = ""
        if !selector.matchLabels.isEmpty {
            out +=
                "\n\(pad)matchLabels:\n"
                + selector.matchLabels.sorted { $0.key < $1.key }.map { "\(pad)  \(quote($0.key)): \(quote($0.value))" }.joined(
                    separator: "\n")
        }
        if !selector.matchExpressions.isEmpty {
            out +=
                "\n\(pad)matchExpressions:\n"
                + selector.matchExpressions.map { requirement in
                    let values = requirement.values.isEmpty ? "" : ", values: [\(requirement.values.map(quote).joined(separator: ", "))]"
                    return "\(pad)  - {key: \(quote(requirement.key)), operator: \(requirement.operator.rawValue)\(values)}"
                }.joined(separator: "\n")
        }
        return out
    }

    /// A double-quoted YAML scalar.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
