import KeycardModel
import KeycardValues

extension ObjectDecoder {
    /// A `policy.networking.k8s.io/v1alpha2` ClusterNetworkPolicy, validated as its CRD's schema
    /// and CEL rules do (kubernetes-sigs/network-policy-api
    /// `config/crd/experimental/policy.networking.k8s.io_clusternetworkpolicies.yaml`): `tier`
    /// Admin|Baseline, `priority` 0–1000, `subject` with exactly one field, at most 25 rules per
    /// direction, each with `action`, 1–25 peers of exactly one field and 1–25 `protocols`;
    /// `networks` as `isCIDR` (no IPv4-mapped IPv6 address). Label selectors are held to
    /// `ValidateLabelSelector`, which the CRD's schema does not apply: a selector
    /// `metav1.LabelSelectorAsSelector` cannot parse (`operator: in`) is refused
    /// (docs/cluster-network-policy.md, "Stricter than the CRDs").
    /// Cluster-scoped: `metadata.namespace` is ignored, as the API server ignores it.
    mutating func clusterNetworkPolicy(_ value: YAMLValue) throws(ScenarioError) -> ClusterNetworkPolicy {
        let kind = "ClusterNetworkPolicy"
        let fields = try value.fields(kind, allowed: ["apiVersion", "kind", "metadata", "spec", "status"])
        let meta = try Metadata.read(fields.required("metadata"), kind: kind, namespaced: false, at: value.location)
        let spec = try fields.required("spec").fields("\(kind) spec", allowed: ["tier", "priority", "subject", "ingress", "egress"])
        let tierValue = try spec.required("tier")
        let tierText = try tierValue.string("spec.tier")
        guard let tier = ClusterNetworkPolicy.Tier(rawValue: tierText) else {
            throw tierValue.error("spec.tier must be Admin or Baseline, found \(tierText)")
        }
        let priority = try spec.required("priority").int("spec.priority", in: 0...1000)
        var policy = ClusterNetworkPolicy(
            name: meta.name, tier: tier, priority: priority, subject: try cnpSubject(spec.required("subject")))
        policy.ingress = try cnpRules(spec["ingress"], .ingress, limit: 25, actions: ClusterNetworkPolicy.Action.allCases, v1alpha1: false)
        policy.egress = try cnpRules(spec["egress"], .egress, limit: 25, actions: ClusterNetworkPolicy.Action.allCases, v1alpha1: false)
        failClosed(&policy, at: value)
        return policy
    }

    /// A v1alpha1 AdminNetworkPolicy or BaselineAdminNetworkPolicy, validated as its own CRD, then
    /// converted as the v1alpha2 announcement says (network-policy-api blog "ClusterNetworkPolicy",
    /// 2025-10-09): ANP → tier Admin with its priority, BANP (a singleton named `default`) → tier
    /// Baseline at priority 1000; `Allow` → `Accept`; `ports` → `protocols`. With a warning.
    mutating func adminNetworkPolicy(_ value: YAMLValue, baseline: Bool) throws(ScenarioError) -> ClusterNetworkPolicy {
        let kind = baseline ? "BaselineAdminNetworkPolicy" : "AdminNetworkPolicy"
        let fields = try value.fields(kind, allowed: ["apiVersion", "kind", "metadata", "spec", "status"])
        let metaValue = try fields.required("metadata")
        let meta = try Metadata.read(metaValue, kind: kind, namespaced: false, at: value.location)
        if baseline && meta.name != "default" {
            throw metaValue.error(
                "Only one baseline admin network policy with metadata.name=\"default\" can be created in the cluster (found \"\(meta.name)\")"
            )
        }
        let allowed = baseline ? ["subject", "ingress", "egress"] : ["priority", "subject", "ingress", "egress"]
        let spec = try fields.required("spec").fields("\(kind) spec", allowed: allowed)
        let priority = baseline ? 1000 : try spec.required("priority").int("spec.priority", in: 0...1000)
        var policy = ClusterNetworkPolicy(
            name: meta.name, tier: baseline ? .baseline : .admin, priority: priority,
            subject: try cnpSubject(spec.required("subject"), v1alpha1: true),
            origin: baseline ? .baselineAdminNetworkPolicy : .adminNetworkPolicy)
        let actions: [ClusterNetworkPolicy.Action] = baseline ? [.accept, .deny] : [.accept, .deny, .pass]
        policy.ingress = try cnpRules(spec["ingress"], .ingress, limit: 100, actions: actions, v1alpha1: true, baseline: baseline)
        policy.egress = try cnpRules(spec["egress"], .egress, limit: 100, actions: actions, v1alpha1: true, baseline: baseline)
        warnings.append(
            ScenarioWarning(
                location: value.location,
                message:
                    "\(kind) \(meta.name) is policy.networking.k8s.io/v1alpha1, replaced by v1alpha2 ClusterNetworkPolicy: read as a ClusterNetworkPolicy with tier \(policy.tier.rawValue), priority \(priority) (Allow is Accept)"
            ))
        failClosed(&policy, at: value)
        return policy
    }

    /// `subject`: exactly one of `namespaces` (a label selector) and `pods`.
    private func cnpSubject(_ value: YAMLValue, v1alpha1: Bool = false) throws(ScenarioError) -> ClusterNetworkPolicy.Subject {
        let fields = try value.fields("spec.subject", allowed: ["namespaces", "pods"])
        try exactlyOne(fields, of: ["namespaces", "pods"], value, "spec.subject")
        if let namespaces = fields["namespaces"] {
            return .namespaces(try labelSelector(namespaces, "spec.subject.namespaces", customResource: true))
        }
        let (namespaces, pods) = try namespacedPod(try fields.required("pods"), "spec.subject.pods", v1alpha1: v1alpha1)
        return .pods(namespaces: namespaces, pods: pods)
    }

    /// `NamespacedPod`: `podSelector` required, `namespaceSelector` optional in v1alpha2 (absent:
    /// every namespace) and required in v1alpha1 (its CRD: `required: [namespaceSelector,
    /// podSelector]`, apis/v1alpha1/shared_types.go).
    private func namespacedPod(_ value: YAMLValue, _ what: String, v1alpha1: Bool = false) throws(ScenarioError) -> (
        LabelSelector, LabelSelector
    ) {
        let fields = try value.fields(what, allowed: ["namespaceSelector", "podSelector"])
        if v1alpha1, fields["namespaceSelector"] == nil { throw value.error("\(what).namespaceSelector: Required value") }
        let pods = try labelSelector(fields.required("podSelector"), "\(what).podSelector", customResource: true)
        let namespaces = try fields["namespaceSelector"].map { (selector) throws(ScenarioError) in
            try labelSelector(selector, "\(what).namespaceSelector", customResource: true)
        }
        return (namespaces ?? .everything, pods)
    }

    /// The CRD's MinProperties=1 / MaxProperties=1 on a union: exactly one field written.
    private func exactlyOne(_ fields: Fields, of names: [String], _ value: YAMLValue, _ what: String) throws(ScenarioError) {
        // A null member is absent: the API server prunes it before the CRD's one-of rule runs.
        let written = names.filter { fields[$0] != nil }
        guard written.count == 1 else {
            throw value.error(
                "\(what) must have exactly one of \(names.joined(separator: ", "))"
                    + (written.isEmpty ? "" : " (found \(written.joined(separator: " and ")))"))
        }
    }

    private mutating func cnpRules(
        _ value: YAMLValue?, _ direction: NetworkPolicy.PolicyType, limit: Int, actions: [ClusterNetworkPolicy.Action],
        v1alpha1: Bool, baseline: Bool = false
    ) throws(ScenarioError) -> [ClusterNetworkPolicy.Rule] {
        guard let value else { return [] }
        let key = direction == .ingress ? "ingress" : "egress"
        let items = try value.objectItems("spec.\(key)")
        if items.count > limit { throw value.error("spec.\(key) may have at most \(limit) rules, found \(items.count)") }
        let peerKey = direction == .ingress ? "from" : "to"
        let portsKey = v1alpha1 ? "ports" : "protocols"
        var rules: [ClusterNetworkPolicy.Rule] = []
        for item in items {
            let fields = try item.fields("an \(key) rule", allowed: ["name", "action", peerKey, portsKey])
            var name: String?
            if let nameValue = fields["name"] {
                let text = try nameValue.string("name")
                // The CRD's maxLength counts code points (kube-openapi `validate.MaxLength`: RuneCountInString).
                if text.unicodeScalars.count > 100 {
                    throw nameValue.error("a rule name may be at most 100 characters, found \(text.unicodeScalars.count)")
                }
                name = text.isEmpty ? nil : text
            }
            let actionValue = try fields.required("action")
            let actionText = try actionValue.string("action")
            let written = v1alpha1 && actionText == "Allow" ? "Accept" : actionText
            guard let action = ClusterNetworkPolicy.Action(rawValue: written), actions.contains(action),
                !(v1alpha1 && actionText == "Accept")
            else {
                let names = actions.map { v1alpha1 && $0 == .accept ? "Allow" : $0.rawValue }
                throw actionValue.error("action must be one of \(names.joined(separator: ", ")), found \(actionText)")
            }
            let peersValue = try fields.required(peerKey)
            let peerItems = try peersValue.objectItems(peerKey)
            let peerLimit = v1alpha1 ? 100 : 25
            guard (1...peerLimit).contains(peerItems.count) else {
                throw peersValue.error("\(peerKey) must list from 1 to \(peerLimit) peers, found \(peerItems.count)")
            }
            var peers: [ClusterNetworkPolicy.Peer] = []
            for peer in peerItems { peers.append(try cnpPeer(peer, direction, baseline: baseline, v1alpha1: v1alpha1)) }
            var rule = ClusterNetworkPolicy.Rule(name: name, action: action, peers: peers)
            if let protocolsValue = fields[portsKey] {
                let entries = try protocolsValue.objectItems(portsKey)
                let protocolLimit = v1alpha1 ? 100 : 25
                guard (1...protocolLimit).contains(entries.count) else {
                    throw protocolsValue.error("\(portsKey) must list from 1 to \(protocolLimit) entries, found \(entries.count)")
                }
                var protocols: [ClusterNetworkPolicy.ProtocolMatch] = []
                for entry in entries { protocols.append(v1alpha1 ? try anpPort(entry) : try cnpProtocol(entry)) }
                rule.protocols = protocols
                // CEL on the egress rule: named ports exist only on pods.
                let addressPeer = peers.contains {
                    switch $0 {
                    case .networks, .nodes, .domainNames: true
                    case .namespaces, .pods: false
                    }
                }
                let named = protocols.contains { if case .namedPort = $0 { true } else { false } }
                if addressPeer && named {
                    throw item.error(
                        "networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames"
                    )
                }
            }
            rules.append(rule)
        }
        return rules
    }

    private mutating func cnpPeer(_ value: YAMLValue, _ direction: NetworkPolicy.PolicyType, baseline: Bool, v1alpha1: Bool)
        throws(ScenarioError) -> ClusterNetworkPolicy.Peer
    {
        var names = ["namespaces", "pods"]
        if direction == .egress { names += baseline ? ["nodes", "networks"] : ["nodes", "networks", "domainNames"] }
        let fields = try value.fields("a peer", allowed: names)
        try exactlyOne(fields, of: names, value, "a peer")
        if let selector = fields["namespaces"] { return .namespaces(try labelSelector(selector, "namespaces", customResource: true)) }
        if let pods = fields["pods"] {
            let (namespaces, selector) = try namespacedPod(pods, "pods", v1alpha1: v1alpha1)
            return .pods(namespaces: namespaces, pods: selector)
        }
        if let selector = fields["nodes"] { return .nodes(try labelSelector(selector, "nodes", customResource: true)) }
        if let networks = fields["networks"] {
            let items = try networks.items("networks")
            guard (1...25).contains(items.count) else {
                throw networks.error("networks must list from 1 to 25 CIDRs, found \(items.count)")
            }
            var cidrs: [CIDR] = []
            for item in items {
                let text = try item.string("a network")
                guard text.count <= 43, let cidr = CIDR.parse(text) else {
                    throw item.error("Invalid CIDR format provided: \"\(text)\"")
                }
                // The CRD's `isCIDR(self)` (netip.ParsePrefix) refuses an IPv4-mapped IPv6 address.
                if cidr.isIPv4Mapped {
                    throw item.error("Invalid CIDR format provided: \"\(text)\" (an IPv4-mapped IPv6 address is not allowed)")
                }
                // listType=set: the API server refuses a duplicate.
                if cidrs.contains(where: { $0.text == text }) { throw item.error("Duplicate value: \"\(text)\" in networks") }
                if cidr.family == .ipv6 {
                    warnings.append(
                        ScenarioWarning(
                            location: item.location, message: "network \(text) is IPv6 and the lab is IPv4 only: it matches no lab address")
                    )
                }
                cidrs.append(cidr)
            }
            return .networks(cidrs)
        }
        let domains = try fields.required("domainNames")
        let items = try domains.strings("domainNames")
        guard (1...25).contains(items.count) else { throw domains.error("domainNames must list from 1 to 25 names, found \(items.count)") }
        for (index, name) in items.enumerated() {
            if !Self.isDomainName(name) {
                throw domains.error(
                    "domainNames[\(index)] \"\(name)\" must be a domain name, optionally starting with \"*.\" (like kubernetes.io or *.kubernetes.io)"
                )
            }
            if items[..<index].contains(name) { throw domains.error("Duplicate value: \"\(name)\" in domainNames") }
        }
        return .domainNames(items)
    }

    /// The CRDs' DomainName pattern (network-policy-api `apis/v1alpha2/clusternetworkpolicy_types.go`
    /// and v1alpha1's, as the CRD YAML publishes it):
    /// `^(\*\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$`.
    /// Its first-character class writes `A-z`, the ASCII range that also holds `[`, `\`, `]`, `^`,
    /// `_` and backquote, so the API server stores `_http._tcp.example.com`; a label ends with a
    /// letter or digit and holds `-` and `_` inside.
    static func isDomainName(_ text: String) -> Bool {
        var body = Substring(text)
        if body.hasPrefix("*.") { body = body.dropFirst(2) }
        if body.hasSuffix(".") { body = body.dropLast() }
        let labels = body.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        func alphanumeric(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber) }
        // `[a-zA-z0-9]`: A (0x41) to z (0x7A) takes in 0x5B-0x60 too.
        func leading(_ c: Character) -> Bool { alphanumeric(c) || "[\\]^_`".contains(c) }
        func inner(_ c: Character) -> Bool { alphanumeric(c) || c == "-" || c == "_" }
        return labels.allSatisfy { label in
            guard let first = label.first, leading(first) else { return false }
            guard label.count > 1 else { return true }
            guard let last = label.last, alphanumeric(last) else { return false }
            return label.dropFirst().dropLast().allSatisfy(inner)
        }
    }

    /// v1alpha2 `protocols` entry: exactly one of tcp, udp, sctp (each with `destinationPort`,
    /// itself exactly one of `number` and `range`) or `destinationNamedPort`.
    private func cnpProtocol(_ value: YAMLValue) throws(ScenarioError) -> ClusterNetworkPolicy.ProtocolMatch {
        let names = ["tcp", "udp", "sctp", "destinationNamedPort"]
        let fields = try value.fields("a protocols entry", allowed: names)
        try exactlyOne(fields, of: names, value, "a protocols entry")
        if let named = fields["destinationNamedPort"] { return .namedPort(try named.string("destinationNamedPort")) }
        for (key, proto) in [("tcp", TransportProtocol.tcp), ("udp", .udp), ("sctp", .sctp)] {
            guard let entry = fields[key] else { continue }
            let portFields = try entry.fields(key, allowed: ["destinationPort"])
            let portValue = try portFields.required("destinationPort")
            let port = try portValue.fields("destinationPort", allowed: ["number", "range"])
            try exactlyOne(port, of: ["number", "range"], portValue, "destinationPort")
            if let number = port["number"] {
                let value = try number.int("destinationPort.number", in: 1...65535)
                return .port(proto, value...value)
            }
            let rangeValue = try port.required("range")
            let range = try rangeValue.fields("destinationPort.range", allowed: ["start", "end"])
            let start = try range.required("start").int("range.start", in: 1...65535)
            let end = try range.required("end").int("range.end", in: 1...65535)
            guard start < end else { throw rangeValue.error("Start port must be less than End port (start \(start), end \(end))") }
            return .port(proto, start...end)
        }
        throw value.error("a protocols entry must have exactly one of \(names.joined(separator: ", "))")
    }

    /// v1alpha1 `ports` entry: exactly one of `portNumber` {protocol (default TCP), port},
    /// `namedPort`, `portRange` {protocol (default TCP), start, end}. Stricter than the v1alpha1
    /// CRD, whose schema types `protocol` as any string and has no rule on the range's order: a
    /// protocol other than TCP, UDP, SCTP and a range whose `start` exceeds its `end` match no
    /// packet in an implementation (kube-network-policies compares them as written), so keycard
    /// refuses them (docs/cluster-network-policy.md, "Stricter than the CRDs").
    private func anpPort(_ value: YAMLValue) throws(ScenarioError) -> ClusterNetworkPolicy.ProtocolMatch {
        let names = ["portNumber", "namedPort", "portRange"]
        let fields = try value.fields("a ports entry", allowed: names)
        try exactlyOne(fields, of: names, value, "a ports entry")
        if let named = fields["namedPort"] { return .namedPort(try named.string("namedPort")) }
        if let number = fields["portNumber"] {
            let port = try number.fields("portNumber", allowed: ["protocol", "port"])
            let proto = try port["protocol"].map { (value) throws(ScenarioError) in try Self.transportProtocol(value) } ?? .tcp
            let value = try port.required("port").int("portNumber.port", in: 1...65535)
            return .port(proto, value...value)
        }
        let rangeValue = try fields.required("portRange")
        let range = try rangeValue.fields("portRange", allowed: ["protocol", "start", "end"])
        let proto = try range["protocol"].map { (value) throws(ScenarioError) in try Self.transportProtocol(value) } ?? .tcp
        let start = try range.required("start").int("portRange.start", in: 1...65535)
        let end = try range.required("end").int("portRange.end", in: 1...65535)
        guard start <= end else {
            throw rangeValue.error(
                "portRange end \(end) must not be less than start \(start) (the CRD stores such a range, but it matches no port)")
        }
        return .port(proto, start...end)
    }

    /// Fails closed where the API asks it for a peer an implementation cannot read
    /// (`ClusterNetworkPolicyEgressPeer`: "For \"Deny\" and \"Pass\" rules, \"fail closed\" means:
    /// \"treat the rule as a 'Deny all' rule\""): `domainNames` in a Deny or Pass rule, which the
    /// API supports for Accept only. The rule matches every destination (`PolicyEngine.matches`)
    /// and a Pass rule becomes a Deny rule: passing everything would fail open. With a warning.
    private mutating func failClosed(_ policy: inout ClusterNetworkPolicy, at value: YAMLValue) {
        for index in policy.egress.indices where policy.egress[index].action != .accept {
            let rule = policy.egress[index]
            guard rule.peers.contains(where: { if case .domainNames = $0 { true } else { false } }) else { continue }
            let effect =
                rule.action == .pass
                ? "this Pass rule fails closed: it is read as a Deny rule that matches every destination"
                : "this Deny rule fails closed and matches every destination"
            warnings.append(
                ScenarioWarning(
                    location: value.location,
                    message: "ClusterNetworkPolicy \(policy.name): domainNames are supported for Accept rules only; \(effect)"))
            policy.egress[index].action = .deny
        }
    }
}
