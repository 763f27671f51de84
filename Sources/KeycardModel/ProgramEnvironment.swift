import KeycardValues

/// One `env` entry of a container that runs a command (core/v1 `EnvVar`): a literal value, or a
/// Downward API field the kubelet fills in when it starts the container
/// (`podFieldSelectorRuntimeValue`, pkg/kubelet/kubelet_pods.go).
public struct EnvironmentVariable: Hashable, Sendable, Codable {
    public var name: String
    /// The literal `value` ("" when absent), or nil when `fieldPath` gives it.
    public var value: String?
    /// `valueFrom.fieldRef.fieldPath`: `metadata.name`, `metadata.namespace`, `spec.nodeName`,
    /// `spec.serviceAccountName`, `status.podIP`(s), `status.hostIP`(s), `metadata.labels['KEY']`,
    /// `metadata.annotations['KEY']`.
    public var fieldPath: String?

    public init(name: String, value: String? = nil, fieldPath: String? = nil) {
        self.name = name
        self.value = value
        self.fieldPath = fieldPath
    }
}

/// What a container's program sees as its environment, as the kubelet builds it
/// (`makeEnvironmentVariables`, pkg/kubelet/kubelet_pods.go): `HOSTNAME` (set by the container
/// runtime), the Service links of its namespace (`serviceLinks`), then the container's `env` in
/// order, each value expanded against the variables before it and the links (`$(NAME)`; `$$` is a
/// literal `$`), a later entry of the same name replacing an earlier one. keycard reads no
/// ConfigMaps or Secrets, and runs no API server, so the `kubernetes` Service's links are not set.
public enum ProgramEnvironment {
    /// `NAME=value` strings for the program of `pod`'s container `index` (of `pod.commands`).
    /// - Parameters:
    ///   - podIP: the pod's address in the lab; `hostIP`: its node's.
    ///   - hostname: what the pod's containers see as their host name (`hostname(of:)`).
    ///   - services: the Services of the pod's namespace when its program starts.
    ///   - withRuntime: whether to add the runtime's `HOSTNAME`; without it, the variables the
    ///     kubelet expands `command` and `args` against (`expand(_:with:)`).
    public static func variables(
        of pod: Pod, container index: Int, podIP: IPv4?, hostIP: IPv4?, hostname: String, services: [Service] = [],
        withRuntime: Bool = true
    ) -> [String] {
        // HOSTNAME is the container runtime's, added after the kubelet expands (containerd
        // "Add HOSTNAME env"): `$(HOSTNAME)` stays as written.
        var order: [String] = []
        var values: [String: String] = [:]
        if pod.enableServiceLinks {
            for (name, value) in serviceLinks(services) where values[name] == nil {
                order.append(name)
                values[name] = value
            }
        }
        for variable in index < pod.environments.count ? pod.environments[index] : [] {
            let raw: String
            if let path = variable.fieldPath {
                guard let resolved = field(path, of: pod, podIP: podIP, hostIP: hostIP) else { continue }
                raw = resolved
            } else {
                raw = expand(variable.value ?? "", values)
            }
            if values[variable.name] == nil { order.append(variable.name) }
            values[variable.name] = raw
        }
        let runtime = values["HOSTNAME"] == nil && withRuntime ? ["HOSTNAME=\(hostname)"] : []
        return runtime + order.map { "\($0)=\(values[$0] ?? "")" }
    }

    /// The Docker-link style variables of `services` (pkg/kubelet/envvars `FromServices`), each
    /// Service with a ClusterIP in name order: `NAME_SERVICE_HOST`, `NAME_SERVICE_PORT` (its first
    /// port), `NAME_SERVICE_PORT_PORTNAME` per named port, `NAME_PORT` (`tcp://IP:PORT` of the
    /// first port) and per port `NAME_PORT_PORT_PROTO` with `_PROTO`, `_PORT` and `_ADDR`; names
    /// upper-cased with `-` made `_`.
    public static func serviceLinks(_ services: [Service]) -> [(String, String)] {
        var links: [(String, String)] = []
        for service in services.sorted(by: { $0.name < $1.name }) {
            guard let ip = service.clusterIP, let first = service.ports.first else { continue }
            let name = linkName(service.name)
            links.append(("\(name)_SERVICE_HOST", ip.description))
            links.append(("\(name)_SERVICE_PORT", String(first.port)))
            for port in service.ports {
                if let portName = port.name, !portName.isEmpty {
                    links.append(("\(name)_SERVICE_PORT_\(linkName(portName))", String(port.port)))
                }
            }
            let firstProto = first.proto.rawValue.lowercased()
            links.append(("\(name)_PORT", "\(firstProto)://\(ip):\(first.port)"))
            for port in service.ports {
                let proto = port.proto.rawValue.lowercased()
                let prefix = "\(name)_PORT_\(port.port)_\(port.proto.rawValue.uppercased())"
                links.append((prefix, "\(proto)://\(ip):\(port.port)"))
                links.append(("\(prefix)_PROTO", proto))
                links.append(("\(prefix)_PORT", String(port.port)))
                links.append(("\(prefix)_ADDR", ip.description))
            }
        }
        return links
    }

    static func linkName(_ name: String) -> String { String(name.uppercased().map { $0 == "-" ? "_" : $0 }) }

    /// `argv` with `$(NAME)` references expanded against `environment` (`NAME=value` strings), as
    /// the kubelet expands a container's `command` and `args` (`ExpandContainerCommandAndArgs`).
    public static func expand(_ argv: [String], with environment: [String]) -> [String] {
        var values: [String: String] = [:]
        for entry in environment {
            guard let equals = entry.firstIndex(of: "=") else { continue }
            values[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        return argv.map { expand($0, values) }
    }

    /// The host name of `pod`'s containers: `spec.hostname` or the pod's name, at most 63
    /// characters with trailing `-` and `.` removed (kubelet `GeneratePodHostNameAndDomain`,
    /// `truncatePodHostnameIfNeeded`).
    public static func hostname(of pod: Pod) -> String {
        var name = pod.hostname ?? pod.name
        if name.count > 63 {
            name = String(name.prefix(63))
            while let last = name.last, last == "-" || last == "." { name.removeLast() }
        }
        return name
    }

    /// What the kernel gives `pod`'s containers as their node name (`GetNodenameForKernel`,
    /// pkg/kubelet/util): the host name, or with `setHostnameAsFQDN` and a subdomain the fully
    /// qualified name; nil when that is longer than 64 characters (the kubelet refuses to start
    /// such a pod's containers).
    public static func kernelHostname(of pod: Pod, domain: String) -> String? {
        let name = hostname(of: pod)
        guard pod.setHostnameAsFQDN, let subdomain = pod.subdomain, !subdomain.isEmpty else { return name }
        let fqdn = "\(name).\(subdomain).\(pod.namespace).svc.\(domain)"
        return fqdn.count > 64 ? nil : fqdn
    }

    /// The kubelet's `/etc/hosts` for a pod off the host network (`managedHostsFileContent`): the
    /// loopback entries, then the pod's address with its fully qualified name (when `subdomain`
    /// is set) and its host name.
    public static func hostsFile(of pod: Pod, podIP: IPv4, domain: String) -> String {
        let hostname = hostname(of: pod)
        var names = hostname
        if let subdomain = pod.subdomain, !subdomain.isEmpty {
            names = "\(hostname).\(subdomain).\(pod.namespace).svc.\(domain)\t\(hostname)"
        }
        return """
            # Kubernetes-managed hosts file.
            127.0.0.1\tlocalhost
            ::1\tlocalhost ip6-localhost ip6-loopback
            fe00::0\tip6-localnet
            fe00::0\tip6-mcastprefix
            fe00::1\tip6-allnodes
            fe00::2\tip6-allrouters
            \(podIP)\t\(names)

            """ + hostAliasEntries(of: pod)
    }

    /// The lines the kubelet appends for `spec.hostAliases` (`hostsEntriesFromHostAliases`): a
    /// blank line, a comment, then `IP<TAB>name...` per alias; empty without aliases. A
    /// host-network pod gets them after the node's own file.
    public static func hostAliasEntries(of pod: Pod) -> String {
        pod.hostAliases.isEmpty ? "" : "\n# Entries added by HostAliases.\n" + pod.hostAliases.joined(separator: "\n") + "\n"
    }

    /// The plain `fieldRef` paths keycard fills in (`field`); labels and annotations are
    /// subscripted (`metadata.labels['KEY']`). `metadata.uid` is valid but has no value here.
    public static let fieldPaths: Set<String> = [
        "metadata.name", "metadata.namespace", "spec.nodeName", "spec.serviceAccountName", "status.podIP", "status.podIPs",
        "status.hostIP", "status.hostIPs",
    ]

    /// The value of a Downward API `fieldPath`; nil for one keycard does not know.
    static func field(_ path: String, of pod: Pod, podIP: IPv4?, hostIP: IPv4?) -> String? {
        switch path {
        case "metadata.name": return pod.name
        case "metadata.namespace": return pod.namespace
        case "spec.nodeName": return pod.nodeName
        case "spec.serviceAccountName": return pod.serviceAccountName
        case "status.podIP", "status.podIPs": return podIP?.description
        case "status.hostIP", "status.hostIPs": return hostIP?.description
        default: break
        }
        for (prefix, map) in [("metadata.labels['", pod.labels), ("metadata.annotations['", pod.annotations)]
        where path.hasPrefix(prefix) && path.hasSuffix("']") {
            let key = String(path.dropFirst(prefix.count).dropLast(2))
            return map[key] ?? ""
        }
        return nil
    }

    /// One string with `$(NAME)` replaced from `values` (an unknown name stays as written) and
    /// `$$` made `$`, byte for byte as the kubelet's `Expand` and `tryReadVariableName`
    /// (third_party/forked/golang/expansion/expand.go). A result that grows past
    /// `ExecLimits.maximumStringBytes` stops there, cut to one byte more: the kernel refuses any
    /// string that long at exec (E2BIG), and a chain of entries each doubling the one before
    /// (`A1: $(A0)$(A0)`, ...) would otherwise grow without bound before the program is started.
    static func expand(_ text: String, _ values: [String: String]) -> String {
        let dollar = UInt8(ascii: "$")
        guard text.utf8.contains(dollar) else { return text }
        let input = Array(text.utf8)
        let limit = ExecLimits.maximumStringBytes
        var result: [UInt8] = []
        var checkpoint = 0
        var cursor = 0
        while cursor < input.count, result.count <= limit {
            defer { cursor += 1 }
            guard input[cursor] == dollar, cursor + 1 < input.count else { continue }
            result += input[checkpoint..<cursor]
            let next = cursor + 1
            if input[next] == dollar {
                // `$$`: an escaped operator.
                result.append(dollar)
                cursor = next
            } else if input[next] == UInt8(ascii: "("), let close = input[(next + 1)...].firstIndex(of: UInt8(ascii: ")")) {
                let name = String(decoding: input[(next + 1)..<close], as: UTF8.self)
                if let value = values[name] { result += value.utf8 } else { result += input[cursor...close] }
                cursor = close
            } else {
                // `$(` without a closer, or `$` before anything else: both bytes as written.
                result += input[cursor...next]
                cursor = next
            }
            checkpoint = cursor + 1
        }
        if result.count > limit { return String(decoding: result.prefix(limit + 1), as: UTF8.self) }
        return String(decoding: result + input[checkpoint...], as: UTF8.self)
    }
}
