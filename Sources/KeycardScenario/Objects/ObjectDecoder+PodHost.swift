import KeycardModel

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
}
