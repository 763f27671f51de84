import KeycardModel

extension ObjectDecoder {
    /// A v1 Pod: metadata, containers' ports and commands, nodeName, serviceAccountName, status.podIP.
    /// Other Pod fields (volumes, probes, resources...) are accepted and ignored.
    func pod(_ value: YAMLValue) throws(ScenarioError) -> Pod {
        let entries = try value.entries("Pod")
        var fields: [String: YAMLValue] = [:]
        for entry in entries where !entry.value.isNull { fields[entry.key] = entry.value }
        guard let metadata = fields["metadata"] else { throw value.error("Pod needs \"metadata\"") }
        let meta = try Metadata.read(metadata, kind: "Pod", namespaced: true)
        var pod = Pod(namespace: meta.namespace, name: meta.name, labels: meta.labels)
        guard let specValue = fields["spec"] else { throw value.error("Pod \(meta.namespace)/\(meta.name) needs \"spec\" with containers") }
        var spec: [String: YAMLValue] = [:]
        for entry in try specValue.entries("Pod spec") where !entry.value.isNull { spec[entry.key] = entry.value }
        guard let containers = spec["containers"] else { throw specValue.error("Pod spec needs \"containers\"") }
        let containerList = try containers.items("spec.containers")
        if containerList.isEmpty { throw containers.error("spec.containers must list at least one container") }
        var portNames: Set<String> = []
        var declared: Set<ProtocolPort> = []
        for container in containerList {
            var fields: [String: YAMLValue] = [:]
            for entry in try container.entries("a container") where !entry.value.isNull { fields[entry.key] = entry.value }
            guard let nameValue = fields["name"] else { throw container.error("a container needs \"name\"") }
            _ = try nameValue.string("container name")
            for portValue in try fields["ports"]?.items("container ports") ?? [] {
                let port = try containerPort(portValue)
                if let name = port.name {
                    guard portNames.insert(name).inserted else { throw portValue.error("port name \"\(name)\" is declared twice in this pod") }
                }
                guard declared.insert(ProtocolPort(port.proto, port.port)).inserted else {
                    throw portValue.error("\(port.proto.rawValue)/\(port.port) is declared twice in this pod")
                }
                pod.ports.append(port)
            }
            let command = try fields["command"]?.strings("command") ?? []
            let args = try fields["args"]?.strings("args") ?? []
            if !command.isEmpty { pod.commands.append(command + args) }
        }
        if let nodeName = spec["nodeName"] { pod.nodeName = try nodeName.string("spec.nodeName") }
        if let account = spec["serviceAccountName"] {
            let name = try account.string("spec.serviceAccountName")
            if let problem = NameRules.dns1123SubdomainProblem(name) { throw account.error("serviceAccountName \"\(name)\" \(problem)") }
            pod.serviceAccountName = name
        }
        if let status = fields["status"] {
            for (key, _, field) in try status.entries("status") where key == "podIP" && !field.isNull {
                let text = try field.string("status.podIP")
                guard let ip = IPv4(text) else { throw field.error("status.podIP \"\(text)\" is not an IPv4 address (the lab is IPv4 only)") }
                pod.podIP = ip
            }
        }
        return pod
    }

    private func containerPort(_ value: YAMLValue) throws(ScenarioError) -> ContainerPort {
        var fields: [String: YAMLValue] = [:]
        for entry in try value.entries("a container port") where !entry.value.isNull { fields[entry.key] = entry.value }
        guard let numberValue = fields["containerPort"] else { throw value.error("a container port needs \"containerPort\"") }
        let number = try numberValue.int("containerPort", in: 1...65535)
        var port = ContainerPort(port: number)
        if let protoValue = fields["protocol"] { port.proto = try Self.transportProtocol(protoValue) }
        if let nameValue = fields["name"] {
            let name = try nameValue.string("port name")
            if let problem = NameRules.portNameProblem(name) { throw nameValue.error("port name \"\(name)\" \(problem)") }
            port.name = name
        }
        return port
    }

    static func transportProtocol(_ value: YAMLValue) throws(ScenarioError) -> TransportProtocol {
        let text = try value.string("protocol")
        guard let proto = TransportProtocol(rawValue: text) else {
            throw value.error("protocol \"\(text)\" is not one of TCP, UDP, SCTP")
        }
        return proto
    }
}
