import KeycardModel
import KeycardValues

extension ObjectDecoder {
    /// A v1 Service: metadata, `spec.type`, `selector`, `clusterIP` (an address, `None`, or absent
    /// for allocation), `ports` (name, protocol, port, targetPort, appProtocol), `externalName`. Validated as the
    /// API server's `ValidateService` does for these fields, with its defaults (protocol TCP,
    /// targetPort = port, type ClusterIP). Pinned addresses are checked against the lab's service
    /// CIDR when the object is applied (`ClusterChange`). NodePort and LoadBalancer add `nodePort`,
    /// `externalTrafficPolicy`, `healthCheckNodePort`, `allocateLoadBalancerNodePorts`
    /// (`externalTraffic`). IP families, external IPs, session affinity, traffic policies and load
    /// balancer fields are validated (`serviceSpecFields`); loadBalancerIP and the rest are ignored.
    /// https://kubernetes.io/docs/reference/kubernetes-api/service-resources/service-v1/
    mutating func service(_ value: YAMLValue) throws(ScenarioError) -> Service {
        let fields = try nonNullServiceFields(value, "Service")
        guard let metadata = fields["metadata"] else { throw value.error("Service needs \"metadata\"") }
        let meta = try Metadata.read(
            metadata, kind: "Service", namespaced: true, at: value.location, defaultNamespace: defaultNamespace)
        // Service names (and generateName prefixes) are DNS-1035 labels: `Metadata.read`.
        var service = Service(namespace: meta.namespace, name: meta.name, labels: meta.labels)
        if let specValue = fields["spec"] { try warnUnknownFields(specValue, "Service spec", known: KnownFields.serviceSpec) }
        let spec = try fields["spec"].map { spec throws(ScenarioError) in try nonNullServiceFields(spec, "Service spec") } ?? [:]
        let specLocation = fields["spec"] ?? value
        // "" is unset: SetDefaults_Service makes it ClusterIP (as it defaults sessionAffinity and,
        // on node ports, externalTrafficPolicy; below).
        if let typeValue = spec["type"], try !typeValue.string("spec.type").isEmpty {
            service.kind = try typeValue.choice("spec.type") {
                "spec.type must be one of ClusterIP, NodePort, LoadBalancer, ExternalName, found \"\($0)\""
            }
        }
        if let selectorValue = spec["selector"] {
            service.selector = try Metadata.labelMap(selectorValue, "spec.selector", entry: "selector")
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
            // Refused, unless an update from a type with a ClusterIP keeps them unchanged (`TypeDependentField`).
            if let ipValue = spec["clusterIP"], case let text = try ipValue.string("spec.clusterIP"), !text.isEmpty {
                keepUntilApplied(.clusterIP(text), ipValue, "spec.clusterIP must be empty for an ExternalName Service")
            }
            // ValidateService: "must have nil families and nil policy" on ExternalName.
            if let familiesValue = spec["ipFamilies"], case let families = try familiesValue.strings("spec.ipFamilies", nullIsEmpty: true),
                !families.isEmpty
            {
                keepUntilApplied(
                    .ipFamilies(families), familiesValue, "spec.ipFamilies: Forbidden: may not be set for ExternalName services")
            }
            if let policyValue = spec["ipFamilyPolicy"] {
                keepUntilApplied(
                    .ipFamilyPolicy(try policyValue.string("spec.ipFamilyPolicy")), policyValue,
                    "spec.ipFamilyPolicy: Forbidden: may not be set for ExternalName services")
            }
            service.externalName = name
            service.address = .none
        } else if let ipValue = spec["clusterIP"] {
            let text = try ipValue.string("spec.clusterIP")
            if text == "None" {
                guard service.kind == .clusterIP else { throw ipValue.error("clusterIP None (headless) needs type ClusterIP") }
                service.address = .headless
            } else if !text.isEmpty {
                guard let block = Self.legacyIP(text), block.family == .ipv4 else {
                    throw ipValue.error("spec.clusterIP \"\(text)\" is not an IPv4 address or None")
                }
                warnNonStandardIP(block, written: text, field: "spec.clusterIPs[0]", at: ipValue)
                service.address = .ip(block.firstAddress)
            }
        }
        try Self.checkClusterIPs(spec)
        if let affinity = spec["sessionAffinity"] {
            let text = try affinity.string("spec.sessionAffinity")
            guard text.isEmpty || text == "None" || text == "ClientIP" else {
                throw affinity.error("spec.sessionAffinity must be None or ClientIP, found \"\(text)\"")
            }
        }
        try serviceSpecFields(spec, of: &service)
        try sourceRangesAnnotation(meta.annotations, metadata: metadata, of: &service)
        let portItems = try spec["ports"]?.items("spec.ports") ?? []
        if portItems.isEmpty && service.kind != .externalName && service.address != .headless {
            throw specLocation.error("Service \(service.key) needs spec.ports (only a headless or ExternalName Service may have none)")
        }
        var seenNames: Set<String> = []
        var seenPorts: Set<ProtocolPort> = []
        var seenNodePorts: Set<ProtocolPort> = []
        for (index, item) in portItems.enumerated() {
            var port = try servicePort(item, needsName: portItems.count > 1)
            if let name = port.name, !seenNames.insert(name).inserted {
                throw item.error("spec.ports: port name \"\(name)\" is used twice")
            }
            if !seenPorts.insert(port.protocolPort).inserted { throw item.error("spec.ports: \(port.protocolPort) is listed twice") }
            port.nodePort = try nodePort(item, index: index, of: service)
            if let number = port.nodePort, !seenNodePorts.insert(ProtocolPort(port.proto, number)).inserted {
                throw item.error("spec.ports[\(index)].nodePort: Duplicate value: \(number) (\(port.proto.rawValue))")
            }
            service.ports.append(port)
        }
        try externalTraffic(spec, into: &service)
        return service
    }

    /// `spec.ports[i].nodePort`: 0 or absent means "allocate"; any other value is pinned. A
    /// ClusterIP Service may not carry one (`ValidateService`: "may not be used when `type` is
    /// 'ClusterIP'"); an ExternalName Service's is accepted and unused; whether it lies in the node-port range and is free is checked when
    /// the Service is applied (`ClusterChange`), as the API server's allocator does.
    private mutating func nodePort(_ value: YAMLValue, index: Int, of service: Service) throws(ScenarioError) -> Int? {
        try value.requireKnownFields("a Service port", known: KnownFields.servicePort)
        let fields = try nonNullServiceFields(value, "a Service port")
        guard let nodePortValue = fields["nodePort"] else { return nil }
        let number = try nodePortValue.int("nodePort", in: 0...65535)
        guard number != 0 else { return nil }
        // ValidateService forbids it on ClusterIP only; an ExternalName Service keeps it unused.
        // Settled when applied: an update from a NodePort that held it drops it (`TypeDependentField`).
        if service.kind == .clusterIP {
            keepUntilApplied(
                .nodePort(number), nodePortValue, "spec.ports[\(index)].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'")
            return nil
        }
        guard service.isExternallyAccessible else { return nil }
        // The allocator's range check, at the field (keycard's range is fixed): "already
        // allocated" needs the cluster and is checked when the Service is applied.
        try Self.checkNodePortRange(number, nodePortValue, "spec.ports[\(index)].nodePort", service)
        return number
    }

    /// A field the Service's type does not allow, written at `value`: kept with validation's
    /// `refusal` until the Service is applied, where an update may drop it (`TypeDependentField`).
    mutating func keepUntilApplied(_ field: TypeDependentField.Value, _ value: YAMLValue, _ refusal: String) {
        typeDependentFields.append(TypeDependentField(value: field, location: value.location, refusal: refusal))
    }

    /// `externalTrafficPolicy`, `healthCheckNodePort` and `allocateLoadBalancerNodePorts`, validated
    /// and defaulted as the API server does (pkg/apis/core/validation `validateServiceExternalTrafficPolicy`,
    /// pkg/apis/core/v1 `SetDefaults_Service`): the policy defaults to Cluster for NodePort and
    /// LoadBalancer and may not be set on other types; a health-check node port only on a
    /// LoadBalancer with the Local policy; `allocateLoadBalancerNodePorts` only on a LoadBalancer,
    /// defaulted to true.
    private mutating func externalTraffic(_ spec: [String: YAMLValue], into service: inout Service) throws(ScenarioError) {
        // `externalIPs` also make a Service externally accessible to the API server
        // (`apiservice.ExternallyAccessible`); the lab does not build them.
        var accessible = service.isExternallyAccessible
        if let ipsValue = spec["externalIPs"], service.kind == .clusterIP, !(try ipsValue.items("spec.externalIPs")).isEmpty {
            accessible = true
            warnings.append(
                ScenarioWarning(
                    location: ipsValue.location,
                    message: "Service \(service.key): spec.externalIPs are not built in the lab; probe its ClusterIP or use a NodePort"))
        }
        if let policyValue = spec["externalTrafficPolicy"], try !policyValue.string("spec.externalTrafficPolicy").isEmpty {
            let text = try policyValue.string("spec.externalTrafficPolicy")
            guard let policy = ExternalTrafficPolicy(rawValue: text) else {
                throw policyValue.error(
                    "spec.externalTrafficPolicy: Unsupported value: \"\(text)\": supported values: \"Cluster\", \"Local\"")
            }
            if accessible {
                service.externalTrafficPolicy = policy
            } else {
                keepUntilApplied(
                    .externalTrafficPolicy(policy), policyValue,
                    "spec.externalTrafficPolicy: Invalid value: \"\(text)\": may only be set for externally-accessible services")
            }
        } else if accessible {
            service.externalTrafficPolicy = .cluster
        }
        if let allocateValue = spec["allocateLoadBalancerNodePorts"] {
            let allocate = try allocateValue.bool("spec.allocateLoadBalancerNodePorts")
            if service.kind == .loadBalancer {
                service.allocateLoadBalancerNodePorts = allocate
            } else {
                keepUntilApplied(
                    .allocateLoadBalancerNodePorts(allocate), allocateValue,
                    "spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` is 'LoadBalancer'")
            }
        } else if service.kind == .loadBalancer {
            service.allocateLoadBalancerNodePorts = true
        }
        if let checkValue = spec["healthCheckNodePort"] {
            let number = try checkValue.int("spec.healthCheckNodePort", in: 0...65535)
            if number != 0 {
                if service.needsHealthCheckNodePort {
                    try Self.checkNodePortRange(number, checkValue, "spec.healthCheckNodePort", service)
                    service.healthCheckNodePort = number
                } else {
                    keepUntilApplied(
                        .healthCheckNodePort(number), checkValue,
                        "spec.healthCheckNodePort: Invalid value: \(number): may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"
                    )
                }
            }
        }
    }

    private func servicePort(_ value: YAMLValue, needsName: Bool) throws(ScenarioError) -> ServicePort {
        try value.requireKnownFields("a Service port", known: KnownFields.servicePort)
        let fields = try nonNullServiceFields(value, "a Service port")
        guard let numberValue = fields["port"] else { throw value.error("a Service port needs \"port\"") }
        var port = ServicePort(port: try numberValue.int("port", in: 1...65535))
        if let protoValue = fields["protocol"] { port.proto = try Self.defaultedProtocol(protoValue) }
        port.name = try Self.optionalPortName(fields["name"], "Service port name", NameRules.dns1123LabelProblem)
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
            // A quoted number ("8080") is a string to IntOrString, and no port name: names need a
            // letter (ValidatePortNumOrName, IsValidPortName).
            // An empty string is unset too (`SetDefaults_Service`: `intstr.FromString("")`).
            if targetValue.isPlainNumber {
                let number = try targetValue.int("targetPort", in: 0...65535)
                if number != 0 { port.target = .number(number) }
            } else {
                let name = try targetValue.string("targetPort")
                if !name.isEmpty {
                    if let problem = NameRules.portNameProblem(name) {
                        throw targetValue.error(
                            "targetPort \"\(name)\" is neither a number from 1 to 65535 nor a valid port name: it \(problem)")
                    }
                    port.target = .name(name)
                }
            }
        }
        return port
    }

    /// The allocator's "provided port is not in the valid range" (pkg/registry/core/service/portallocator).
    private static func checkNodePortRange(_ number: Int, _ value: YAMLValue, _ field: String, _ service: Service) throws(ScenarioError) {
        guard !NodePorts.range.contains(number) else { return }
        throw value.error(
            "Service \(service.key): \(field): Invalid value: \(number): provided port is not in the valid range. The range of valid ports is \(NodePorts.range.lowerBound)-\(NodePorts.range.upperBound)"
        )
    }

    /// `spec.clusterIPs` beside `spec.clusterIP` (validateServiceClusterIPsRelatedFields): its
    /// first entry must be `clusterIP`, and it must be empty when `clusterIP` is not given.
    private static func checkClusterIPs(_ spec: [String: YAMLValue]) throws(ScenarioError) {
        guard let ipsValue = spec["clusterIPs"] else { return }
        let ips = try ipsValue.strings("spec.clusterIPs", nullIsEmpty: true)
        guard let first = ips.first else { return }
        let clusterIP = try spec["clusterIP"]?.string("spec.clusterIP") ?? ""
        if clusterIP.isEmpty {
            throw ipsValue.error("spec.clusterIPs must be empty when spec.clusterIP is not specified")
        }
        if first != clusterIP {
            throw ipsValue.error("spec.clusterIPs: first value \"\(first)\" must match spec.clusterIP \"\(clusterIP)\"")
        }
        if ips.count > 2 { throw ipsValue.error("spec.clusterIPs may hold at most two addresses (one per IP family)") }
    }

    private func nonNullServiceFields(_ value: YAMLValue, _ what: String) throws(ScenarioError) -> [String: YAMLValue] {
        var fields: [String: YAMLValue] = [:]
        for entry in try value.entries(what) where !entry.value.isNull { fields[entry.key] = entry.value }
        return fields
    }
}
