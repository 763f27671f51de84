import KeycardModel
import KeycardValues

extension ObjectDecoder {
    /// The pod spec fields about the pod's host identity that keycard does not use but the API
    /// server validates (`ValidatePodSpec`, pkg/apis/core/validation):
    /// - `hostname` and `subdomain`, when set, are DNS-1123 labels (not checked in a StatefulSet's
    ///   template, `checkHostname` false: its controller sets both, `initIdentity`);
    /// - with `hostNetwork: true`, a container's non-zero `hostPort` must equal its `containerPort`
    ///   (`validateHostNetwork`; a zero or absent one is defaulted to it).
    /// `hostPort` is otherwise only range-checked: the lab publishes no port on its nodes (no
    /// portmap plugin), so a pod is reached at its pod address and `containerPort`.
    mutating func checkPodHost(_ spec: [String: YAMLValue], hostNetwork: Bool, checkHostname: Bool, into pod: inout Pod)
        throws(ScenarioError)
    {
        for field in ["hostname", "subdomain"] where checkHostname {
            guard let value = spec[field] else { continue }
            let name = try value.string("spec.\(field)")
            if !name.isEmpty, let problem = NameRules.dns1123LabelProblem(name) {
                throw value.error("spec.\(field) \"\(name)\" \(problem)")
            }
            if !name.isEmpty { if field == "hostname" { pod.hostname = name } else { pod.subdomain = name } }
        }
        if let fqdn = spec["setHostnameAsFQDN"] {
            pod.setHostnameAsFQDN = try fqdn.bool("spec.setHostnameAsFQDN")
            if ProgramEnvironment.kernelHostname(of: pod, domain: DNSRecords.defaultDomain) == nil {
                warnings.append(
                    ScenarioWarning(
                        location: fqdn.location,
                        message:
                            "pod \(pod.key): its fully qualified name is longer than 64 characters, which the kubelet refuses as a host name (its containers would not start); keycard gives its program the short name"
                    ))
            }
        }
        // ValidateHostAliases (pkg/apis/core/validation): an IP address and DNS-1123 subdomains.
        for (index, alias) in try (spec["hostAliases"]?.items("spec.hostAliases") ?? []).enumerated() {
            let fields = try nonNullFields(alias, "spec.hostAliases[\(index)]")
            guard let ipValue = fields["ip"] else { throw alias.error("spec.hostAliases[\(index)].ip: Required value") }
            let ip = try ipValue.string("spec.hostAliases[\(index)].ip")
            guard let address = Self.legacyIP(ip) else {
                throw ipValue.error("spec.hostAliases[\(index)].ip: Invalid value: \"\(ip)\": must be a valid IP address")
            }
            var names: [String] = []
            for (position, nameValue) in try (fields["hostnames"]?.items("spec.hostAliases[\(index)].hostnames") ?? []).enumerated() {
                let name = try nameValue.string("spec.hostAliases[\(index)].hostnames[\(position)]")
                if let problem = NameRules.dns1123SubdomainProblem(name) {
                    throw nameValue.error("spec.hostAliases[\(index)].hostnames[\(position)]: Invalid value: \"\(name)\": \(problem)")
                }
                names.append(name)
            }
            if !names.isEmpty {
                pod.hostAliases.append(([address.text.split(separator: "/").first.map(String.init) ?? ip] + names).joined(separator: "\t"))
            }
        }
        guard hostNetwork else { return }
        let containers =
            try (spec["initContainers"]?.items("spec.initContainers") ?? []) + (spec["containers"]?.items("spec.containers") ?? [])
        for container in containers {
            for portValue in try nonNullFields(container, "a container")["ports"]?.items("container ports") ?? [] {
                let port = try nonNullFields(portValue, "a container port")
                guard let hostPortValue = port["hostPort"], let containerPortValue = port["containerPort"] else { continue }
                let hostPort = try hostPortValue.int("hostPort", in: 0...65535)
                let containerPort = try containerPortValue.int("containerPort", in: 1...65535)
                if hostPort != 0, hostPort != containerPort {
                    throw hostPortValue.error(
                        "hostPort \(hostPort) must match `containerPort` (\(containerPort)) when `hostNetwork` is true")
                }
            }
        }
    }

    /// `spec.dnsPolicy` and `spec.dnsConfig` as `ValidatePodSpec` checks them (`validateDNSPolicy`,
    /// `validatePodDNSConfig`, pkg/apis/core/validation): ClusterFirstWithHostNet, ClusterFirst,
    /// Default or None ("" is unset, defaulted to ClusterFirst); None needs `spec.dnsConfig` with at
    /// least one nameserver. `dnsConfig` with any policy: at most three nameservers, each an IP
    /// address; at most 32 search domains, 2048 characters joined by spaces, each a DNS subdomain
    /// (a trailing dot, `_` and a lone "." allowed, as RelaxedDNSSearchValidation, GA in 1.34);
    /// every option named.
    mutating func checkDNSPolicy(_ spec: [String: YAMLValue], into pod: inout Pod) throws(ScenarioError) {
        if let value = spec["dnsPolicy"] {
            let text = try value.string("spec.dnsPolicy")
            if !text.isEmpty {
                guard let policy = Pod.DNSPolicy(rawValue: text) else {
                    let supported = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"].map { "\"\($0)\"" }
                        .joined(separator: ", ")
                    throw value.error("spec.dnsPolicy: Unsupported value: \"\(text)\": supported values: \(supported)")
                }
                pod.dnsPolicy = policy
            }
        }
        if let config = spec["dnsConfig"], !config.isNull { pod.dnsConfig = try dnsConfig(config) }
        guard pod.dnsPolicy == .none, let policy = spec["dnsPolicy"] else { return }
        guard let config = pod.dnsConfig, let written = spec["dnsConfig"] else {
            throw policy.error("spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None")
        }
        if config.nameservers.isEmpty {
            throw written.error(
                "spec.dnsConfig.nameservers: Required value: must provide at least one DNS nameserver when `dnsPolicy` is None")
        }
    }

    /// `spec.dnsConfig`'s nameservers, searches and options (`validatePodDNSConfig`).
    private mutating func dnsConfig(_ config: YAMLValue) throws(ScenarioError) -> ResolvConf {
        try warnUnknownFields(config, "spec.dnsConfig", known: ["nameservers", "searches", "options"])
        let fields = try nonNullFields(config, "spec.dnsConfig")
        var result = ResolvConf()
        let nameservers = try fields["nameservers"]?.items("spec.dnsConfig.nameservers") ?? []
        if nameservers.count > 3 {
            throw config.error("spec.dnsConfig.nameservers: Invalid value: must not have more than 3 nameservers")
        }
        for server in nameservers {
            let address = try server.string("a nameserver")
            guard IPv4(address) != nil || address.contains(":") else {
                throw server.error("spec.dnsConfig.nameservers: Invalid value: \"\(address)\": must be a valid IP address")
            }
            result.nameservers.append(address)
        }
        let searches = try fields["searches"]?.items("spec.dnsConfig.searches") ?? []
        for search in searches { result.searches.append(try search.string("a search domain")) }
        if result.searches.count > 32 {
            throw config.error("spec.dnsConfig.searches: Invalid value: must not have more than 32 search paths")
        }
        if result.searches.joined(separator: " ").utf8.count > 2048 {
            throw config.error(
                "spec.dnsConfig.searches: Invalid value: must not have more than 2048 characters (including spaces) in the search list")
        }
        for (search, value) in zip(result.searches, searches) where search != "." {
            let trimmed = search.hasSuffix(".") ? String(search.dropLast()) : search
            if trimmed.utf8.count > 253 || !Self.isSubdomainWithUnderscore(trimmed) {
                throw value.error(
                    "spec.dnsConfig.searches: Invalid value: \"\(search)\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '_', '-' or '.', and must start and end with an alphanumeric character (at most 253 characters)"
                )
            }
        }
        for option in try fields["options"]?.items("spec.dnsConfig.options") ?? [] {
            try warnUnknownFields(option, "spec.dnsConfig.options", known: ["name", "value"])
            let entry = try nonNullFields(option, "spec.dnsConfig.options")
            let name = try entry["name"]?.string("spec.dnsConfig.options.name") ?? ""
            guard !name.isEmpty else { throw option.error("spec.dnsConfig.options.name: Required value: Option.Name must not be empty") }
            let optionValue = try entry["value"]?.string("spec.dnsConfig.options.value")
            result.options.append(optionValue.map { "\(name):\($0)" } ?? name)
        }
        return result
    }

    /// `IsDNS1123SubdomainWithUnderscore` (apimachinery pkg/util/validation): dot-separated labels
    /// `_?[a-z0-9]([-_a-z0-9]*[a-z0-9])?`: one leading underscore, underscores and dashes inside.
    static func isSubdomainWithUnderscore(_ text: String) -> Bool {
        func alnum(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            var bytes = Array(label.utf8)[...]
            if bytes.first == UInt8(ascii: "_") { bytes = bytes.dropFirst() }
            guard let first = bytes.first, let last = bytes.last, alnum(first), alnum(last) else { return false }
            return bytes.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
        }
    }
}
