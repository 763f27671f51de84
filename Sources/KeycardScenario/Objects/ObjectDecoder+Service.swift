import KeycardModel
import KeycardValues

extension ObjectDecoder {
    /// A v1 Service: metadata, `spec.type`, `selector`, `clusterIP` (an address, `None`, or absent
    /// for allocation), `ports` (name, protocol, port, targetPort, appProtocol), `externalName`. Validated as the
    /// API server's `ValidateService` does for these fields, with its defaults (protocol TCP,
    /// targetPort = port, type ClusterIP). Pinned addresses are checked against the lab's service
    /// CIDR when the object is applied (`ClusterChange`). NodePort and LoadBalancer behave as
    /// ClusterIP in the lab, with a warning. Other fields (sessionAffinity, ...) are ignored.
    /// https://kubernetes.io/docs/reference/kubernetes-api/service-resources/service-v1/
    mutating func service(_ value: YAMLValue) throws(ScenarioError) -> Service {
        let fields = try nonNullServiceFields(value, "Service")
        guard let metadata = fields["metadata"] else { throw value.error("Service needs \"metadata\"") }
        let meta = try Metadata.read(
            metadata, kind: "Service", namespaced: true, at: value.location, defaultNamespace: defaultNamespace)
        // Service names are DNS-1035 labels (they become DNS names and environment variables).
        if let problem = NameRules.dns1123LabelProblem(meta.name) ?? (meta.name.first?.isLetter == true ? nil : "must start with a letter")
        {
            throw metadata.error("Service name \"\(meta.name)\" \(problem)")
        }
        var service = Service(namespace: meta.namespace, name: meta.name, labels: meta.labels)
        let spec = try fields["spec"].map { spec throws(ScenarioError) in try nonNullServiceFields(spec, "Service spec") } ?? [:]
        let specLocation = fields["spec"] ?? value
        if let typeValue = spec["type"] {
            let text = try typeValue.string("spec.type")
            guard let kind = Service.Kind(rawValue: text) else {
                throw typeValue.error("spec.type must be one of ClusterIP, NodePort, LoadBalancer, ExternalName, found \"\(text)\"")
            }
            service.kind = kind
            if kind == .nodePort || kind == .loadBalancer {
                warnings.append(
                    ScenarioWarning(
                        location: typeValue.location,
                        message:
                            "Service \(service.key): type \(text) keeps its ClusterIP behaviour in the lab; node ports and load balancers are not built"
                    ))
            }
        }
        if let selectorValue = spec["selector"] {
            var selector: Labels = [:]
            for (key, keyLocation, labelValue) in try selectorValue.entries("spec.selector") {
                if let problem = NameRules.labelKeyProblem(key) { throw ScenarioError(keyLocation, problem) }
                let text = try labelValue.labelValue("selector \"\(key)\"")
                if let problem = NameRules.labelValueProblem(text) { throw labelValue.error(problem) }
                selector[key] = text
            }
            service.selector = selector
        }
        if service.kind == .externalName {
            guard let nameValue = spec["externalName"] else {
                throw specLocation.error("Service \(service.key) of type ExternalName needs spec.externalName")
            }
            let name = try nameValue.string("spec.externalName")
            let trimmed = name.hasSuffix(".") ? String(name.dropLast()) : name
            if let problem = NameRules.dns1123SubdomainProblem(trimmed) {
                throw nameValue.error("spec.externalName \"\(name)\" \(problem)")
            }
            if let ipValue = spec["clusterIP"], try ipValue.string("spec.clusterIP") != "" {
                throw ipValue.error("spec.clusterIP must be empty for an ExternalName Service")
            }
            service.externalName = name
            service.address = .none
        } else if let ipValue = spec["clusterIP"] {
            let text = try ipValue.string("spec.clusterIP")
            if text == "None" {
                guard service.kind == .clusterIP else { throw ipValue.error("clusterIP None (headless) needs type ClusterIP") }
                service.address = .headless
            } else if !text.isEmpty {
                guard let ip = IPv4(text) else { throw ipValue.error("spec.clusterIP \"\(text)\" is not an IPv4 address or None") }
                service.address = .ip(ip)
            }
        }
        let portItems = try spec["ports"]?.items("spec.ports") ?? []
        if portItems.isEmpty && service.kind != .externalName && service.address != .headless {
            throw specLocation.error("Service \(service.key) needs spec.ports (only a headless or ExternalName Service may have none)")
        }
        var seenNames: Set<String> = []
        var seenPorts: Set<ProtocolPort> = []
        for item in portItems {
            let port = try servicePort(item, needsName: portItems.count > 1)
            if let name = port.name, !seenNames.insert(name).inserted {
                throw item.error("spec.ports: port name \"\(name)\" is used twice")
            }
            if !seenPorts.insert(port.protocolPort).inserted { throw item.error("spec.ports: \(port.protocolPort) is listed twice") }
            service.ports.append(port)
        }
        return service
    }

    private func servicePort(_ value: YAMLValue, needsName: Bool) throws(ScenarioError) -> ServicePort {
        let fields = try nonNullServiceFields(value, "a Service port")
        guard let numberValue = fields["port"] else { throw value.error("a Service port needs \"port\"") }
        var port = ServicePort(port: try numberValue.int("port", in: 1...65535))
        if let protoValue = fields["protocol"] { port.proto = try Self.transportProtocol(protoValue) }
        if let nameValue = fields["name"] {
            let name = try nameValue.string("port name")
            if !name.isEmpty {
                if let problem = NameRules.dns1123LabelProblem(name) { throw nameValue.error("Service port name \"\(name)\" \(problem)") }
                port.name = name
            }
        }
        if needsName && port.name == nil { throw value.error("a Service with several ports needs a name on each port") }
        if let appValue = fields["appProtocol"] {
            // The API server validates it as a qualified name (`ValidateQualifiedName`).
            let text = try appValue.string("appProtocol")
            if let problem = NameRules.labelKeyProblem(text) {
                throw appValue.error(
                    "appProtocol \"\(text)\" is not a qualified name (\(problem.replacingOccurrences(of: "label key ", with: "")))")
            }
            port.appProtocol = text
        }
        if let targetValue = fields["targetPort"] {
            // IntOrString: a number (0 means unset, the API server then defaults it to `port`), or
            // a container port name (an IANA service name).
            if targetValue.tagName == .int {
                let number = try targetValue.int("targetPort", in: 0...65535)
                if number != 0 { port.target = .number(number) }
            } else {
                let name = try targetValue.string("targetPort")
                if let number = Int(name), (1...65535).contains(number) {
                    port.target = .number(number)
                } else {
                    if let problem = NameRules.portNameProblem(name) { throw targetValue.error("targetPort \"\(name)\" \(problem)") }
                    port.target = .name(name)
                }
            }
        }
        return port
    }

    private func nonNullServiceFields(_ value: YAMLValue, _ what: String) throws(ScenarioError) -> [String: YAMLValue] {
        var fields: [String: YAMLValue] = [:]
        for entry in try value.entries(what) where !entry.value.isNull { fields[entry.key] = entry.value }
        return fields
    }
}
