import KeycardModel
import KeycardValues

extension ObjectDecoder {
    /// A networking.k8s.io/v1 NetworkPolicy, with the API server's defaults and validation
    /// (`SetDefaults_NetworkPolicy`, `ValidateNetworkPolicySpec`; docs/kubernetes-fidelity.md).
    /// `spec` and `spec.podSelector` are optional: omitted, the policy selects every pod of its
    /// namespace. The spec is read strictly: an unknown field there is an error, as kubectl's
    /// default strict field validation makes it.
    /// networking.k8s.io/v1 has no `status` (tombstoned in `k8s.io/api` networking/v1 types.go since
    /// 1.27), so a `status` is an unknown field, refused as strict decoding refuses it.
    /// `kind` and `extraSpecFields` serve the staged kind (`stagedPolicy`), whose spec is this one's
    /// (a custom resource: its `status` is allowed).
    mutating func networkPolicy(_ value: YAMLValue, kind: String = "NetworkPolicy", extraSpecFields: [String] = []) throws(ScenarioError)
        -> NetworkPolicy
    {
        let topLevel = ["apiVersion", "kind", "metadata", "spec"] + (extraSpecFields.isEmpty ? [] : ["status"])
        let fields = try value.fields(kind, allowed: topLevel)
        let meta = try Metadata.read(
            fields.required("metadata"), kind: kind, namespaced: true, at: value.location, defaultNamespace: defaultNamespace)
        var policy = NetworkPolicy(namespace: meta.namespace, name: meta.name, podSelector: .everything)
        guard let specValue = fields["spec"] else {
            policy.podSelectorOmitted = true
            return policy
        }
        let spec = try specValue.fields("\(kind) spec", allowed: ["podSelector", "policyTypes", "ingress", "egress"] + extraSpecFields)
        if let selector = spec["podSelector"] {
            policy.podSelector = try labelSelector(selector, "spec.podSelector")
        } else {
            policy.podSelectorOmitted = true
        }
        if let typesValue = spec["policyTypes"] {
            let items = try typesValue.items("policyTypes")
            if items.count > NetworkPolicy.PolicyType.allCases.count {
                throw typesValue.error("policyTypes may not list more than two types (Ingress, Egress)")
            }
            var types: [NetworkPolicy.PolicyType] = []
            for item in items {
                let type: NetworkPolicy.PolicyType = try item.choice("a policy type") {
                    "policy type \"\($0)\" is not one of Ingress, Egress"
                }
                // The API server accepts a type listed twice; it means the same as once.
                if !types.contains(type) { types.append(type) }
            }
            policy.policyTypes = types
        }
        for direction in NetworkPolicy.PolicyType.allCases {
            let key = direction == .ingress ? "ingress" : "egress"
            guard let value = spec[key] else { continue }
            let rules = try rules(value, direction: direction)
            if direction == .ingress { policy.ingress = rules } else { policy.egress = rules }
            // Valid, and a common mistake: written rules that the policy's own types switch off.
            if let types = policy.policyTypes, !types.isEmpty, !types.contains(direction), !rules.isEmpty {
                warnings.append(
                    ScenarioWarning(
                        location: value.location,
                        message:
                            "NetworkPolicy \(policy.key) has \(key) rules but its policyTypes [\(types.map(\.rawValue).joined(separator: ", "))] omit \(direction.rawValue): those rules have no effect"
                    ))
            }
        }
        return policy
    }

    private mutating func rules(_ value: YAMLValue, direction: NetworkPolicy.PolicyType) throws(ScenarioError) -> [NetworkPolicy.Rule] {
        let peerKey = direction == .ingress ? "from" : "to"
        let what = direction == .ingress ? "spec.ingress" : "spec.egress"
        var result: [NetworkPolicy.Rule] = []
        for item in try value.items(what) {
            let fields = try item.fields("an \(direction.rawValue.lowercased()) rule", allowed: [peerKey, "ports"])
            var rule = NetworkPolicy.Rule()
            if let peers = fields[peerKey] {
                var list: [NetworkPolicy.Peer] = []
                for peer in try peers.items(peerKey) { list.append(try self.peer(peer)) }
                rule.peers = list
            }
            if let ports = fields["ports"] {
                var list: [NetworkPolicy.Port] = []
                for port in try ports.items("ports") { list.append(try policyPort(port)) }
                rule.ports = list
            }
            result.append(rule)
        }
        return result
    }

    private mutating func peer(_ value: YAMLValue) throws(ScenarioError) -> NetworkPolicy.Peer {
        let fields = try value.fields("a peer", allowed: ["podSelector", "namespaceSelector", "ipBlock"])
        var peer = NetworkPolicy.Peer()
        if let selector = fields["podSelector"] { peer.podSelector = try labelSelector(selector, "podSelector") }
        if let selector = fields["namespaceSelector"] { peer.namespaceSelector = try labelSelector(selector, "namespaceSelector") }
        if let block = fields["ipBlock"] {
            if peer.podSelector != nil || peer.namespaceSelector != nil {
                throw block.error("a peer with ipBlock may not also have podSelector or namespaceSelector (use separate peers)")
            }
            peer.ipBlock = try ipBlock(block)
        }
        if peer.podSelector == nil && peer.namespaceSelector == nil && peer.ipBlock == nil {
            throw value.error("a peer must specify podSelector, namespaceSelector or ipBlock")
        }
        return peer
    }

    private mutating func ipBlock(_ value: YAMLValue) throws(ScenarioError) -> NetworkPolicy.IPBlock {
        let fields = try value.fields("ipBlock", allowed: ["cidr", "except"])
        let cidrValue = try fields.required("cidr")
        let cidrText = try cidrValue.string("ipBlock.cidr")
        guard let cidr = CIDR.parseLegacy(cidrText) else {
            throw cidrValue.error("ipBlock.cidr \"\(cidrText)\" is not a valid CIDR (like 10.0.0.0/16)")
        }
        warnNonStandard(cidr, written: cidrText, at: cidrValue)
        if cidr.family == .ipv6 {
            warnings.append(
                ScenarioWarning(
                    location: cidrValue.location,
                    message:
                        "ipBlock \(cidrText) is IPv6 and the lab is IPv4 only: this peer matches no lab address, and IPv6 traffic is not probed"
                ))
        }
        var block = NetworkPolicy.IPBlock(cidr: cidr)
        for item in try fields["except"]?.items("ipBlock.except") ?? [] {
            let text = try item.string("an except entry")
            guard let except = CIDR.parseLegacy(text) else { throw item.error("except \"\(text)\" is not a valid CIDR") }
            warnNonStandard(except, written: text, at: item)
            // The API server compares the prefix lengths as written: an IPv4-mapped IPv6 CIDR
            // (::ffff:10.0.0.0/104) keeps its 128-bit mask there.
            guard cidr.contains(except), Self.writtenPrefixLength(except, text) > Self.writtenPrefixLength(cidr, cidrText) else {
                throw item.error("except \"\(text)\" must be a strict subset of cidr \(cidrText)")
            }
            block.except.append(except)
        }
        return block
    }

    /// The prefix length as written: 96 more for an IPv4-mapped IPv6 CIDR that `parseLegacy` read
    /// as IPv4.
    private static func writtenPrefixLength(_ cidr: CIDR, _ text: String) -> Int {
        cidr.family == .ipv4 && text.contains(":") ? cidr.prefixLength + 96 : cidr.prefixLength
    }

    /// What the API server accepts with a warning (KEP-4858, 1.33+; `GetWarningsForCIDR`): leading
    /// zeros, an IPv4-mapped IPv6 block, host bits. Used for every legacy CIDR field (ipBlock,
    /// a Service's `loadBalancerSourceRanges`).
    mutating func warnNonStandard(_ cidr: CIDR, written: String, at value: YAMLValue) {
        if cidr.text != written {
            warnings.append(
                ScenarioWarning(
                    location: value.location,
                    message:
                        "non-standard CIDR value \"\(written)\" is read as \(cidr.text), as the API server does today; a future Kubernetes release will refuse it"
                ))
        }
        if cidr.hasHostBits {
            let block = "\(IPv4(cidr.network))/\(cidr.prefixLength)"
            let address = cidr.text.split(separator: "/")[0]
            warnings.append(
                ScenarioWarning(
                    location: value.location,
                    message:
                        "CIDR value \"\(written)\" is ambiguous (\(block) or \(address)/32?); Kubernetes uses \(block), and so does keycard"
                ))
        }
    }

    /// An IP address as the API server reads a legacy field (`IsValidIPForLegacyField` while the
    /// StrictIPCIDRValidation gate is off: `netutils.ParseIPSloppy`; the ClusterIP allocator parses
    /// it so too): the `parseLegacy` forms of `CIDR`, one address long: IPv4 octets with leading
    /// zeros are decimal (`10.96.0.050` is 10.96.0.50), an IPv4-mapped IPv6 address is the IPv4
    /// address. Returns the address as a /32 (IPv4) or /128 (IPv6) block whose `text` is the
    /// canonical form; nil when `text` is no IP address.
    static func legacyIP(_ text: String) -> CIDR? {
        guard !text.contains("/"), !text.isEmpty else { return nil }
        return CIDR.parseLegacy("\(text)/\(text.contains(":") ? 128 : 32)")
    }

    /// `GetWarningsForIP`: an address `legacyIP` read in a non-standard form (leading zeros, an
    /// IPv4-mapped IPv6 address) is accepted with the API server's warning, naming `field`.
    mutating func warnNonStandardIP(_ address: CIDR, written: String, field: String, at value: YAMLValue) {
        guard address.family == .ipv4, case let canonical = "\(address.firstAddress)", canonical != written else { return }
        warnings.append(
            ScenarioWarning(
                location: value.location,
                message:
                    "\(field): non-standard IP address \"\(written)\" is read as \(canonical), as the API server does today; a future Kubernetes release will refuse it"
            ))
    }

    private func policyPort(_ value: YAMLValue) throws(ScenarioError) -> NetworkPolicy.Port {
        let fields = try value.fields("a policy port", allowed: ["protocol", "port", "endPort"])
        var port = NetworkPolicy.Port()
        if let proto = fields["protocol"] { port.proto = try Self.transportProtocol(proto) }
        if let portValue = fields["port"] {
            if portValue.isPlainNumber {
                port.port = .number(try portValue.int("port", in: 1...65535))
            } else {
                let name = try portValue.string("port")
                if let problem = NameRules.portNameProblem(name) {
                    throw portValue.error("port \"\(name)\" is neither a number from 1 to 65535 nor a valid port name: it \(problem)")
                }
                port.port = .name(name)
            }
        }
        if let endValue = fields["endPort"] {
            let end = try endValue.int("endPort", in: 1...65535)
            guard case .number(let first) = port.port else {
                throw endValue.error("endPort needs a numeric port")
            }
            guard end >= first else { throw endValue.error("endPort \(end) must not be less than port \(first)") }
            port.endPort = end
        }
        return port
    }

    /// A `metav1.LabelSelector`. In a built-in object a null `matchLabels` value is `""` and a null
    /// `values` entry `""` (the API server's JSON decoding); in a custom resource
    /// (`customResource`: ClusterNetworkPolicy, AdminNetworkPolicy) a null `matchLabels` value is
    /// pruned with its key before validation (apiextensions `PruneNonNullableNullsWithoutDefaults`:
    /// the schema's `additionalProperties: {type: string}` is not nullable), and a null `values`
    /// entry is refused by the schema's `items: {type: string}`.
    func labelSelector(_ value: YAMLValue, _ what: String, customResource: Bool = false) throws(ScenarioError) -> LabelSelector {
        let fields = try value.fields(what, allowed: ["matchLabels", "matchExpressions"])
        var selector = LabelSelector()
        if let labels = fields["matchLabels"] {
            selector.matchLabels = try Metadata.labelMap(
                labels, "\(what).matchLabels", entry: "matchLabels", pruningNulls: customResource)
        }
        for item in try fields["matchExpressions"]?.items("\(what).matchExpressions") ?? [] {
            let expression = try item.fields("a match expression", allowed: ["key", "operator", "values"])
            let keyValue = try expression.required("key")
            let key = try keyValue.string("key")
            if let problem = NameRules.labelKeyProblem(key) { throw keyValue.error(problem) }
            let operatorValue = try expression.required("operator")
            let operatorText = try operatorValue.string("operator")
            guard let op = LabelSelector.Requirement.Operator(rawValue: operatorText) else {
                throw operatorValue.error("operator \"\(operatorText)\" is not one of In, NotIn, Exists, DoesNotExist")
            }
            let values = try expression["values"]?.strings("values", nullIsEmpty: !customResource) ?? []
            switch op {
            case .in, .notIn:
                if values.isEmpty { throw item.error("operator \(operatorText) needs a non-empty \"values\" list") }
            case .exists, .doesNotExist:
                if !values.isEmpty { throw item.error("operator \(operatorText) takes no \"values\"") }
            }
            for text in values {
                if let problem = NameRules.labelValueProblem(text) { throw item.error(problem) }
            }
            selector.matchExpressions.append(LabelSelector.Requirement(key: key, operator: op, values: values))
        }
        return selector
    }
}
