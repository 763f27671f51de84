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
    func checkPodHost(_ spec: [String: YAMLValue], hostNetwork: Bool, checkHostname: Bool, into pod: inout Pod) throws(ScenarioError) {
        for field in ["hostname", "subdomain"] where checkHostname {
            guard let value = spec[field] else { continue }
            let name = try value.string("spec.\(field)")
            if !name.isEmpty, let problem = NameRules.dns1123LabelProblem(name) {
                throw value.error("spec.\(field) \"\(name)\" \(problem)")
            }
            if !name.isEmpty { if field == "hostname" { pod.hostname = name } else { pod.subdomain = name } }
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

    /// `spec.dnsPolicy` as `ValidatePodSpec` checks it (`validateDNSPolicy`, `validatePodDNSConfig`,
    /// pkg/apis/core/validation): ClusterFirstWithHostNet, ClusterFirst, Default or None ("" is
    /// unset, defaulted to ClusterFirst); None needs `spec.dnsConfig` with at least one and at most
    /// three nameservers, each an IP address.
    func checkDNSPolicy(_ spec: [String: YAMLValue], into pod: inout Pod) throws(ScenarioError) {
        guard let value = spec["dnsPolicy"] else { return }
        let text = try value.string("spec.dnsPolicy")
        guard !text.isEmpty else { return }
        guard let policy = Pod.DNSPolicy(rawValue: text) else {
            let supported = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"].map { "\"\($0)\"" }.joined(separator: ", ")
            throw value.error("spec.dnsPolicy: Unsupported value: \"\(text)\": supported values: \(supported)")
        }
        pod.dnsPolicy = policy
        guard policy == .none else { return }
        guard let config = spec["dnsConfig"], !config.isNull else {
            throw value.error("spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None")
        }
        let nameservers = try nonNullFields(config, "spec.dnsConfig")["nameservers"]?.items("spec.dnsConfig.nameservers") ?? []
        guard !nameservers.isEmpty else {
            throw config.error(
                "spec.dnsConfig.nameservers: Required value: must provide at least one DNS nameserver when `dnsPolicy` is None")
        }
        if nameservers.count > 3 {
            throw config.error("spec.dnsConfig.nameservers: Invalid value: must not have more than 3 nameservers")
        }
        for server in nameservers {
            let address = try server.string("a nameserver")
            guard IPv4(address) != nil || address.contains(":") else {
                throw server.error("spec.dnsConfig.nameservers: Invalid value: \"\(address)\": must be a valid IP address")
            }
        }
    }
}
