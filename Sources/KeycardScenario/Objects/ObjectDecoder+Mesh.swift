import KeycardModel
import KeycardValues

/// `security.istio.io/v1` and `v1beta1` PeerAuthentication and AuthorizationPolicy, validated as
/// Istio's `ValidatePeerAuthentication` / `ValidateAuthorizationPolicy` do (spec mesh.md R10, R22,
/// C-VALID), plus the refusals of what keycard/v1 does not model (spec mesh.md 2.2). Unknown fields
/// are errors, as the CRDs' structural schemas make them under kubectl's strict field validation.
extension ObjectDecoder {
    mutating func peerAuthentication(_ value: YAMLValue) throws(ScenarioError) -> PeerAuthentication {
        let fields = try value.fields("PeerAuthentication", allowed: ["apiVersion", "kind", "metadata", "spec", "status"])
        let metadataValue = try fields.required("metadata")
        let meta = try Metadata.read(
            metadataValue, kind: "PeerAuthentication", namespaced: true, at: value.location, defaultNamespace: defaultNamespace)
        var policy = PeerAuthentication(namespace: meta.namespace, name: meta.name)
        try IstioDryRun.refuseOnPeerAuthentication(meta.annotations, key: policy.key, metadata: metadataValue)
        try IstioDryRun.refuseInternalAnnotations(meta.annotations, metadata: metadataValue)
        guard let specValue = fields["spec"] else { return policy }
        let spec = try specValue.fields("PeerAuthentication spec", allowed: ["selector", "mtls", "portLevelMtls"])
        // `selector: null` is pruned by the API server (not nullable): absent, not empty.
        if let selector = spec["selector"], !selector.isNull { policy.selector = try workloadSelector(selector) }
        if let mtls = spec["mtls"] { policy.mode = try mutualTLSMode(mtls, "spec.mtls") }
        if let ports = spec["portLevelMtls"] {
            // R10: only with a non-empty selector; an empty map is rejected; ports 1–65535.
            guard let selector = policy.selector, !selector.matchLabels.isEmpty else {
                throw ports.error(
                    "portLevelMtls requires a workload selector with matchLabels (Istio refuses it on mesh- and namespace-wide policies)")
            }
            let entries = try ports.entries("spec.portLevelMtls")
            if entries.isEmpty { throw ports.error("portLevelMtls must not be empty") }
            for (key, keyLocation, modeValue) in entries {
                guard let port = Self.decimalPort(key), (1...65535).contains(port) else {
                    throw ScenarioError(keyLocation, "portLevelMtls key \"\(key)\" must be a port number from 1 to 65535")
                }
                policy.portLevelMtls[port] = try mutualTLSMode(modeValue, "portLevelMtls[\(key)]")
            }
        }
        return policy
    }

    private func mutualTLSMode(_ value: YAMLValue, _ what: String) throws(ScenarioError) -> PeerAuthentication.Mode {
        let fields = try value.fields(what, allowed: ["mode"])
        guard let modeValue = fields["mode"] else { return .unset }
        return try modeValue.choice("\(what).mode") { "\(what).mode \"\($0)\" is not one of UNSET, DISABLE, PERMISSIVE, STRICT" }
    }

    /// Istio's `WorkloadSelector` as the CRD schema and `validateWorkloadSelector` check it: at most
    /// 4096 `matchLabels`, keys not empty and without `*`, values at most 63 characters without `*`.
    /// Nothing else: a key or value Kubernetes would refuse on a pod (`Foo Bar`, `a b`) is valid and
    /// selects no pod (istio/istio pkg/config/validation/validation.go, manifests crd-all.gen.yaml).
    private func workloadSelector(_ value: YAMLValue) throws(ScenarioError) -> WorkloadSelector {
        let fields = try value.fields("selector", allowed: ["matchLabels"])
        var selector = WorkloadSelector(matchLabelsWritten: fields["matchLabels"].map { !$0.isNull } ?? false)
        let entries = try fields["matchLabels"]?.entries("selector.matchLabels") ?? []
        if entries.count > 4096, let labels = fields["matchLabels"] {
            throw labels.error("selector.matchLabels has \(entries.count) entries, more than the 4096 the CRD allows")
        }
        // A null value is pruned before validation (`PruneNonNullableNullsWithoutDefaults`: the
        // schema's string values are not nullable), so its key selects nothing.
        for (key, keyLocation, labelValue) in entries where !labelValue.isNull {
            if key.isEmpty { throw ScenarioError(keyLocation, "selector.matchLabels: key must not be empty") }
            if key.contains("*") { throw ScenarioError(keyLocation, "selector.matchLabels: wildcard not allowed in label key match") }
            let text = try labelValue.labelValue("matchLabels \"\(key)\"")
            if text.contains("*") { throw labelValue.error("selector.matchLabels: wildcard not allowed in label value match") }
            // OpenAPI maxLength counts characters (runes), not bytes.
            if text.unicodeScalars.count > 63 {
                throw labelValue.error("selector.matchLabels \"\(key)\" value is longer than 63 characters")
            }
            selector.matchLabels[key] = text
        }
        return selector
    }

    /// The kinds a policy's `targetRef(s)` may name, as (canonical group, kind): istiod's
    /// `allowedTargetRefs` (`istio/istio` `pkg/config/validation/validation.go`: Service,
    /// ServiceEntry, KubernetesGateway, GatewayClass; an empty group is `core`).
    static let allowedTargetKinds: [(group: String, kind: String)] = [
        ("core", "Service"), ("networking.istio.io", "ServiceEntry"), ("gateway.networking.k8s.io", "Gateway"),
        ("gateway.networking.k8s.io", "GatewayClass"),
    ]

    /// One `PolicyTargetReference` (`istio/api` `type/v1beta1/selector.proto`), refused where the
    /// CRD schema or istiod's `validatePolicyTargetReference` refuse it: fields other than group,
    /// kind, name and namespace; `kind` or `name` missing or empty (CRD: required, minLength 1);
    /// `name` over 253 characters; a non-empty `namespace` ("cross namespace referencing is not
    /// supported"); a group/kind not in `allowedTargetKinds` (which also covers the CRD's
    /// patterns and lengths for group and kind). Throws a `ScenarioError` at the offending field.
    private func policyTargetReference(_ value: YAMLValue, _ what: String) throws(ScenarioError) {
        let fields = try value.fields(what, allowed: ["group", "kind", "name", "namespace"])
        let group = try fields["group"]?.string("\(what).group") ?? ""
        guard let kindValue = fields["kind"] else { throw value.error("\(what) needs the field \"kind\"") }
        let kind = try kindValue.string("\(what).kind")
        guard let nameValue = fields["name"] else { throw value.error("\(what) needs the field \"name\"") }
        let name = try nameValue.string("\(what).name")
        if name.isEmpty { throw nameValue.error("\(what).name must be set (not empty)") }
        if name.unicodeScalars.count > 253 { throw nameValue.error("\(what).name is longer than 253 characters") }
        if let namespaceValue = fields["namespace"], !(try namespaceValue.string("\(what).namespace")).isEmpty {
            throw namespaceValue.error("\(what).namespace must not be set: cross namespace referencing is not supported")
        }
        let canonicalGroup = group.isEmpty ? "core" : group
        guard Self.allowedTargetKinds.contains(where: { $0.group == canonicalGroup && $0.kind == kind }) else {
            let allowed = Self.allowedTargetKinds.map { "\($0.group)/\($0.kind)" }.joined(separator: ", ")
            throw kindValue.error("\(what) must name one of \(allowed), found \(group.isEmpty ? "" : group + "/")\(kind)")
        }
    }

    mutating func authorizationPolicy(_ value: YAMLValue) throws(ScenarioError) -> AuthorizationPolicy {
        let fields = try value.fields("AuthorizationPolicy", allowed: ["apiVersion", "kind", "metadata", "spec", "status"])
        let metadataValue = try fields.required("metadata")
        let meta = try Metadata.read(
            metadataValue, kind: "AuthorizationPolicy", namespaced: true, at: value.location,
            defaultNamespace: defaultNamespace)
        var policy = AuthorizationPolicy(namespace: meta.namespace, name: meta.name)
        let dryRunText = meta.annotations[IstioDryRun.annotation]
        guard let specValue = fields["spec"] else {
            policy.dryRun = try IstioDryRun.authorizationPolicy(dryRunText, action: policy.action, key: policy.key, metadata: metadataValue)
            try IstioDryRun.refuseInternalAnnotations(meta.annotations, metadata: metadataValue)
            if policy.dryRun { warnDryRun(value, policy) }
            return policy
        }
        let spec = try specValue.fields(
            "AuthorizationPolicy spec", allowed: ["selector", "targetRef", "targetRefs", "rules", "action", "provider"])
        // `selector: null` is pruned by the API server (not nullable): absent, not empty.
        if let selector = spec["selector"], !selector.isNull { policy.selector = try workloadSelector(selector) }
        // The CRD's rule counts each field present (CEL has(), so `targetRefs: []` too); istiod binds
        // by targetRef only when GetTargetRefs is non-empty (policyattachment.go), so an empty
        // list applies by selector like an absent one.
        let present = [spec["selector"], spec["targetRef"], spec["targetRefs"]].compactMap { $0 }
        if present.count > 1 { throw present[1].error("selector, targetRef and targetRefs are mutually exclusive: only one can be set") }
        let targetRefs = try spec["targetRefs"]?.objectItems("spec.targetRefs") ?? []
        if let list = spec["targetRefs"], targetRefs.count > 16 {
            throw list.error("spec.targetRefs has \(targetRefs.count) entries, more than the 16 the CRD allows")
        }
        if let targetRef = spec["targetRef"] { try policyTargetReference(targetRef, "spec.targetRef") }
        for (index, targetRef) in targetRefs.enumerated() { try policyTargetReference(targetRef, "spec.targetRefs[\(index)]") }
        if let targetRef = spec["targetRef"] ?? (targetRefs.isEmpty ? nil : spec["targetRefs"]) {
            policy.hasTargetRef = true
            warn(
                targetRef,
                "AuthorizationPolicy \(policy.key) binds gateways or waypoints by targetRef(s); keycard has neither, so it applies to no pod (R20)"
            )
        }
        if let actionValue = spec["action"] {
            policy.action = try actionValue.choice("spec.action") { "spec.action \"\($0)\" is not one of ALLOW, DENY, AUDIT, CUSTOM" }
        }
        if let provider = spec["provider"] {
            let providerFields = try provider.fields("spec.provider", allowed: ["name"])
            guard policy.action == .custom else { throw provider.error("provider must only be used with the CUSTOM action") }
            let name = try providerFields["name"]?.string("spec.provider.name") ?? ""
            if name.isEmpty { throw provider.error("spec.provider.name must not be empty") }
            policy.provider = name
        }
        policy.dryRun = try IstioDryRun.authorizationPolicy(dryRunText, action: policy.action, key: policy.key, metadata: metadataValue)
        try IstioDryRun.refuseInternalAnnotations(meta.annotations, metadata: metadataValue)
        if policy.dryRun { warnDryRun(value, policy) }
        let ruleValues = try spec["rules"]?.objectItems("spec.rules") ?? []
        if let list = spec["rules"], ruleValues.count > Self.maxAuthorizationListItems {
            throw list.error(
                "spec.rules has \(ruleValues.count) items, more than the \(Self.maxAuthorizationListItems) the CRD allows (maxItems)")
        }
        for (index, ruleValue) in ruleValues.enumerated() {
            policy.rules.append(try authorizationRule(ruleValue, index: index, policy: policy))
        }
        switch policy.action {
        case .deny where policy.rules.isEmpty:
            throw specValue.error("a DENY AuthorizationPolicy needs rules")
        case .custom:
            if policy.rules.isEmpty { throw specValue.error("a CUSTOM AuthorizationPolicy needs rules") }
            if policy.provider == nil { throw specValue.error("a CUSTOM AuthorizationPolicy needs provider.name") }
            warn(
                specValue,
                "AuthorizationPolicy \(policy.key) is CUSTOM and no extension provider exists: sidecars deny what its rules match, ztunnel ignores it (R28, R53)"
            )
        default: break
        }
        return policy
    }

    private mutating func authorizationRule(_ value: YAMLValue, index: Int, policy: AuthorizationPolicy) throws(ScenarioError)
        -> AuthorizationPolicy.Rule
    {
        let fields = try value.fields("rules[\(index)]", allowed: ["from", "to", "when"])
        var rule = AuthorizationPolicy.Rule()
        var ipv6: [ScenarioWarning] = []
        rule.from = try ruleEntries(fields.values["from"], "from", index: index, key: "source") { value throws(ScenarioError) in
            try source(value, custom: policy.action == .custom, ipv6: &ipv6)
        }
        warnings += ipv6
        rule.to = try ruleEntries(fields.values["to"], "to", index: index, key: "operation") { value throws(ScenarioError) in
            try operation(value)
        }
        if let whenValue = fields["when"] {
            var conditions: [AuthorizationPolicy.Condition] = []
            for item in try whenValue.objectItems("rules[\(index)].when") {
                conditions.append(try condition(item, custom: policy.action == .custom))
            }
            rule.when = conditions
        }
        // Istio's own warning (C-VALID, `Self.istioWarnsOnlyHTTP`); R40, R50 give its effect.
        if policy.action == .deny, Self.istioWarnsOnlyHTTP(rule) {
            warn(value, "AuthorizationPolicy \(policy.key) rules[\(index)]: \(Self.onlyHTTPWarning) (Istio's warning; R40, R50)")
        }
        return rule
    }

    /// Istio's warning for a DENY rule, word for word (`ValidateAuthorizationPolicy`).
    static let onlyHTTPWarning =
        "configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to the use of only HTTP attributes in a DENY rule; it is recommended to explicitly specify the port"

    /// Whether Istio warns about a DENY rule (istio/istio `pkg/config/validation/validation.go`
    /// `ValidateAuthorizationPolicy`, end of the rule loop): `from` is set, `to` is not, and no
    /// source sets a TCP field (principals, namespaces, ipBlocks, serviceAccounts or their
    /// negations); or `to` is set and no operation sets `ports` or `notPorts`. `when` conditions
    /// never count, HTTP or not, and `requestPrincipals` is not a TCP field.
    static func istioWarnsOnlyHTTP(_ rule: AuthorizationPolicy.Rule) -> Bool {
        let sources = rule.from ?? []
        let operations = rule.to ?? []
        let tcpInFrom = sources.contains(where: \.hasL4Field)
        let tcpInTo = operations.contains(where: \.hasL4Field)
        return (!sources.isEmpty && operations.isEmpty && !tcpInFrom) || (!operations.isEmpty && !tcpInTo)
    }

    /// The CRD's `maxItems` on `spec.rules` and on each rule's `from` (istio/api
    /// `kubernetes/customresourcedefinitions.gen.yaml`, AuthorizationPolicy v1 and v1beta1; `to`,
    /// `when` and the value lists have none but `serviceAccounts`/`notServiceAccounts`, 16, and
    /// `targetRefs`, 16).
    static let maxAuthorizationListItems = 512

    private static let sourceFields = [
        "principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals", "namespaces", "notNamespaces", "ipBlocks",
        "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks", "serviceAccounts", "notServiceAccounts", "trustDomains",
        "notTrustDomains",
    ]

    /// A rule's `from` or `to` (`list`): absent or null matches anything (nil); otherwise a non-empty
    /// list of entries with the one field `key` (`- source: {...}`), whose values `read` reads.
    private func ruleEntries<Entry>(
        _ value: YAMLValue?, _ list: String, index: Int, key: String, _ read: (YAMLValue) throws(ScenarioError) -> Entry
    ) throws(ScenarioError) -> [Entry]? {
        guard let value, !value.isNull else { return nil }
        let items = try value.objectItems("rules[\(index)].\(list)")
        if items.isEmpty { throw value.error("rules[\(index)].\(list) must not be empty (omit it to match any \(key))") }
        if list == "from", items.count > Self.maxAuthorizationListItems {
            throw value.error(
                "rules[\(index)].from has \(items.count) items, more than the \(Self.maxAuthorizationListItems) the CRD allows (maxItems)")
        }
        var entries: [Entry] = []
        for item in items {
            let entry = try item.fields("a \(list) entry", allowed: [key])
            guard let entryValue = entry[key] else { throw item.error("a \(list) entry needs \"\(key)\"") }
            entries.append(try read(entryValue))
        }
        return entries
    }

    /// One `source`; `ipv6` gets a warning for each IPv6 block (valid to Istio, no lab address).
    private func source(_ value: YAMLValue, custom: Bool, ipv6: inout [ScenarioWarning]) throws(ScenarioError)
        -> AuthorizationPolicy.Source
    {
        let fields = try value.fields("source", allowed: Self.sourceFields)
        var source = AuthorizationPolicy.Source()
        func list(_ key: String) throws(ScenarioError) -> [String] { try strings(fields[key], "source.\(key)") }
        for key in ["remoteIpBlocks", "notRemoteIpBlocks", "trustDomains", "notTrustDomains"] {
            if let field = fields[key] {
                throw field.error(
                    "source.\(key) is not modelled by keycard/v1 (the lab has no proxies in front of pods and one trust domain)")
            }
        }
        source.principals = try list("principals")
        source.notPrincipals = try list("notPrincipals")
        source.requestPrincipals = try list("requestPrincipals")
        source.notRequestPrincipals = try list("notRequestPrincipals")
        source.namespaces = try list("namespaces")
        source.notNamespaces = try list("notNamespaces")
        source.serviceAccounts = try list("serviceAccounts")
        source.notServiceAccounts = try list("notServiceAccounts")
        source.ipBlocks = try addresses(fields["ipBlocks"], "source.ipBlocks")
        source.notIpBlocks = try addresses(fields["notIpBlocks"], "source.notIpBlocks")
        for key in ["ipBlocks", "notIpBlocks"] {
            for text in try list(key) where MatchContextCIDR.parse(text)?.family == .ipv6 {
                ipv6.append(
                    ScenarioWarning(location: (fields[key] ?? value).location, message: MatchContextCIDR.ipv6Warning("source.\(key)", text))
                )
            }
        }
        if source == AuthorizationPolicy.Source() { throw value.error("source must not be empty: set at least one field") }
        // R22, C-VALID: service accounts exclude principals and namespaces, and `*`; at most 16
        // values, each at most 320 characters with at most one '/'.
        let accounts = source.serviceAccounts + source.notServiceAccounts
        // The CRD's rule tests presence (CEL `has()`), so an empty list counts, on either side; a
        // null is pruned before it (no `nullable` in the schema), so it does not.
        func present(_ key: String) -> Bool { fields[key] != nil }
        if present("serviceAccounts") || present("notServiceAccounts") {
            if ["principals", "notPrincipals", "namespaces", "notNamespaces"].contains(where: present) {
                throw value.error(
                    "serviceAccounts/notServiceAccounts cannot be combined with principals or namespaces (CRD: Cannot set serviceAccounts with namespaces or principals)"
                )
            }
        }
        if !accounts.isEmpty {
            for key in ["serviceAccounts", "notServiceAccounts"] {
                let values = try list(key)
                if values.count > 16, let field = fields[key] { throw field.error("source.\(key) may list at most 16 values") }
                for account in values {
                    if account.contains("*") { throw (fields[key] ?? value).error("source.\(key) \"\(account)\" must not contain '*'") }
                    if account.count > 320 { throw (fields[key] ?? value).error("source.\(key) value is longer than 320 characters") }
                    if account.filter({ $0 == "/" }).count > 1 {
                        throw (fields[key] ?? value).error("source.\(key) \"\(account)\" must be \"namespace/name\" or \"name\"")
                    }
                    // istio pkg/config/security `CheckServiceAccount`: neither half of "ns/name" empty.
                    if account.contains("/") {
                        let halves = account.split(separator: "/", omittingEmptySubsequences: false)
                        if halves[0].isEmpty { throw (fields[key] ?? value).error("source.\(key) \"\(account)\": found empty namespace") }
                        if halves[1].isEmpty {
                            throw (fields[key] ?? value).error("source.\(key) \"\(account)\": found empty serviceAccount")
                        }
                    }
                }
            }
        }
        if custom,
            !(source.principals + source.notPrincipals + source.namespaces + source.notNamespaces + accounts
                + source.requestPrincipals + source.notRequestPrincipals).isEmpty
        {
            throw value.error("a CUSTOM policy cannot use identity fields (principals, namespaces, serviceAccounts, requestPrincipals)")
        }
        return source
    }

    private func operation(_ value: YAMLValue) throws(ScenarioError) -> AuthorizationPolicy.Operation {
        let fields = try value.fields(
            "operation", allowed: ["hosts", "notHosts", "ports", "notPorts", "methods", "notMethods", "paths", "notPaths"])
        var operation = AuthorizationPolicy.Operation()
        operation.hosts = try strings(fields["hosts"], "operation.hosts")
        operation.notHosts = try strings(fields["notHosts"], "operation.notHosts")
        operation.methods = try strings(fields["methods"], "operation.methods")
        operation.notMethods = try strings(fields["notMethods"], "operation.notMethods")
        operation.paths = try strings(fields["paths"], "operation.paths")
        operation.notPaths = try strings(fields["notPaths"], "operation.notPaths")
        for (key, field) in [("paths", fields["paths"]), ("notPaths", fields["notPaths"])] {
            for path in operation.paths + operation.notPaths where path.contains("{") || path.contains("}") {
                throw (field ?? value).error(
                    "operation.\(key) \"\(path)\": path templates ({*}, {**}) are not modelled by keycard/v1")
            }
        }
        operation.ports = try ports(fields["ports"], "operation.ports")
        operation.notPorts = try ports(fields["notPorts"], "operation.notPorts")
        if operation == AuthorizationPolicy.Operation() { throw value.error("operation must not be empty: set at least one field") }
        return operation
    }

    private mutating func condition(_ value: YAMLValue, custom: Bool) throws(ScenarioError) -> AuthorizationPolicy.Condition {
        let fields = try value.fields("a when condition", allowed: ["key", "values", "notValues"])
        guard let keyValue = fields["key"] else { throw value.error("a when condition needs \"key\"") }
        let key = try keyValue.string("when.key")
        if key.isEmpty { throw keyValue.error("when.key must not be empty") }
        let values = try strings(fields["values"], "when.values")
        let notValues = try strings(fields["notValues"], "when.notValues")
        if values.isEmpty && notValues.isEmpty { throw value.error("a when condition needs values or notValues") }
        let isHeader = key.hasPrefix("request.headers[") && key.hasSuffix("]") && key.count > "request.headers[]".count
        // validateMapKey (istio/istio pkg/config/security/security.go): a claim needs a name, a[b].
        if key == "request.auth.claims" || key.hasPrefix("request.auth.claims["),
            !(key.hasPrefix("request.auth.claims[") && key.hasSuffix("]") && key.count > "request.auth.claims[]".count)
        {
            throw keyValue.error("bad key (\(key)): should have format a[b], like request.auth.claims[iss]")
        }
        let isAuth =
            ["request.auth.principal", "request.auth.audiences", "request.auth.presenter"].contains(key)
            || key.hasPrefix("request.auth.claims[")
        let isL4 = AuthorizationPolicy.Condition.l4Keys.contains(key)
        guard isHeader || isAuth || isL4 else {
            let istioKeys = ["remote.ip", "connection.sni", "source.serviceAccount", "source.trustDomain"]
            if istioKeys.contains(key) || key.hasPrefix("experimental.") {
                throw keyValue.error("when key \"\(key)\" is not modelled by keycard/v1 (R36)")
            }
            throw keyValue.error("when key \"\(key)\" is not a supported condition key")
        }
        // Headers Envoy sets with values keycard cannot know (`AuthorizationAttributes.proxySetHeaders`):
        // only their presence can be judged.
        if isHeader,
            AuthorizationAttributes.proxySetHeaders.contains(String(key.dropFirst("request.headers[".count).dropLast()).lowercased()),
            let pattern = (values + notValues).first(where: { $0 != "*" })
        {
            throw keyValue.error(
                "when \(key) value \"\(pattern)\" is not modelled by keycard/v1: Istio's sidecar sets this header itself (a random request id, or the client certificate's details with its hash), so keycard can judge only its presence (\"*\")"
            )
        }
        if custom && (key.hasPrefix("source.") || isAuth) {
            throw keyValue.error("a CUSTOM policy cannot use the condition \"\(key)\"")
        }
        for text in values + notValues {
            switch key {
            case "source.ip", "destination.ip":
                guard let block = MatchContextCIDR.parse(text) else {
                    throw value.error("when \(key) value \"\(text)\" is not an IP or CIDR")
                }
                if block.family == .ipv6 { warn(value, MatchContextCIDR.ipv6Warning("when \(key)", text)) }
            case "destination.port":
                guard let port = Self.decimalPort(text), (0...65535).contains(port) else {
                    throw value.error("when destination.port value \"\(text)\" must be a port number from 0 to 65535")
                }
            default: break
            }
        }
        return AuthorizationPolicy.Condition(key: key, values: values, notValues: notValues)
    }

    /// A list of non-empty strings (R22: empty strings are refused in every list).
    private func strings(_ value: YAMLValue?, _ what: String) throws(ScenarioError) -> [String] {
        guard let value else { return [] }
        var result: [String] = []
        for item in try value.items(what) {
            let text = try item.string("each entry of \(what)")
            if text.isEmpty { throw item.error("\(what) must not contain an empty string") }
            result.append(text)
        }
        return result
    }

    /// A port written as decimal digits, leading zeros allowed (`"080"` is 80): Istio reads ports
    /// with Go's `strconv.ParseUint(text, 10, 32)`, which takes digits only, no sign or space.
    static func decimalPort(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 10, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            return nil
        }
        return Int(text)
    }

    private func ports(_ value: YAMLValue?, _ what: String) throws(ScenarioError) -> [Int] {
        guard let value else { return [] }
        var result: [Int] = []
        for text in try strings(value, what) {
            guard let port = Self.decimalPort(text), (0...65535).contains(port) else {
                throw value.error("\(what) \"\(text)\" must be a decimal port number from 0 to 65535 (as a string)")
            }
            result.append(port)
        }
        return result
    }

    private func addresses(_ value: YAMLValue?, _ what: String) throws(ScenarioError) -> [CIDR] {
        guard let value else { return [] }
        var result: [CIDR] = []
        for text in try strings(value, what) {
            guard let cidr = MatchContextCIDR.parse(text) else { throw value.error("\(what) \"\(text)\" is not an IP address or CIDR") }
            result.append(cidr)
        }
        return result
    }

    private mutating func warnDryRun(_ value: YAMLValue, _ policy: AuthorizationPolicy) {
        warn(value, "AuthorizationPolicy \(policy.key) is dry-run (istio.io/dry-run): it never changes a verdict (R21)")
    }

}

/// An IP or CIDR as Istio's `ValidateIPs` reads `ipBlocks`, `source.ip` and `destination.ip`
/// (istio/istio pkg/config/security/security.go): with a `/` Go's `netip.ParsePrefix`, else
/// `netip.ParseAddr`. A bare IPv4 address is a /32, a bare IPv6 one a /128 (with or without a
/// `%zone`, which `ParseAddr` accepts and a prefix may not carry).
enum MatchContextCIDR {
    static func parse(_ text: String) -> CIDR? {
        if text.contains("/") { return CIDR.parse(text) }
        if let ip = IPv4(text) { return CIDR.host(ip) }
        guard text.contains(":") else { return nil }
        let parts = text.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2 && parts[1].isEmpty { return nil }
        guard let block = CIDR.parse("\(parts[0])/128"), block.family == .ipv6 else { return nil }
        return block
    }

    /// The lab is IPv4 only: an IPv6 value is valid and matches no lab address (as an IPv6 ipBlock
    /// in a NetworkPolicy).
    static func ipv6Warning(_ what: String, _ text: String) -> String {
        "\(what) \(text) is IPv6 and the lab is IPv4 only: it matches no lab address, and IPv6 traffic is not probed"
    }
}
