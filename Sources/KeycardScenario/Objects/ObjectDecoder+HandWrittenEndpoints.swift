import KeycardModel
import KeycardValues

extension ObjectDecoder {
    /// A hand-written `discovery.k8s.io/v1` EndpointSlice or `v1` Endpoints, which keycard does not
    /// run but which marks its Service's cells as not judged (`handWrittenEndpoints`): validated as
    /// the API server validates it, so an object it would refuse neither passes nor changes the
    /// model. EndpointSlice (`ValidateEndpointSlice`, pkg/apis/discovery/validation): a DNS
    /// subdomain name; `addressType` IPv4, IPv6 or FQDN; at most 1,000 `endpoints`, each with 1 to
    /// 100 `addresses` of that type, a DNS-label `hostname`; at most 20,000 `ports`, each with a
    /// DNS-label `name`, a `protocol` of TCP, UDP or SCTP and a `port` of 1 to 65535. Endpoints
    /// (`ValidateEndpoints`, pkg/apis/core/validation): each subset's addresses have a valid `ip`,
    /// its ports a `port` of 1 to 65535 and a `protocol` of TCP, UDP or SCTP.
    /// - Throws: `ScenarioError` at the first field the API server refuses.
    func checkHandWrittenEndpoints(_ value: YAMLValue, slice: Bool) throws(ScenarioError) {
        let kind = slice ? "EndpointSlice" : "Endpoints"
        let fields = try nonNullFields(value, kind)
        if let metadata = fields["metadata"], let nameValue = try nonNullFields(metadata, "metadata")["name"] {
            let name = try nameValue.string("metadata.name")
            if let problem = NameRules.dns1123SubdomainProblem(name) { throw nameValue.error("\(kind) name \"\(name)\": \(problem)") }
        }
        if slice { try checkEndpointSlice(fields, of: value) } else { try checkEndpointSubsets(fields) }
    }

    private func checkEndpointSlice(_ fields: [String: YAMLValue], of value: YAMLValue) throws(ScenarioError) {
        guard let typeValue = fields["addressType"] else { throw value.error("EndpointSlice addressType: Required value") }
        let type = try typeValue.string("addressType")
        guard ["IPv4", "IPv6", "FQDN"].contains(type) else {
            throw typeValue.error("addressType: Unsupported value: \"\(type)\": supported values: \"FQDN\", \"IPv4\", \"IPv6\"")
        }
        let endpoints = try fields["endpoints"]?.items("endpoints") ?? []
        if endpoints.count > 1_000 { throw typeValue.error("endpoints: Too many: \(endpoints.count): must have at most 1000 items") }
        for (index, endpoint) in endpoints.enumerated() {
            let entry = try nonNullFields(endpoint, "endpoints[\(index)]")
            guard let addressesValue = entry["addresses"] else { throw endpoint.error("endpoints[\(index)].addresses: Required value") }
            let addresses = try addressesValue.strings("endpoints[\(index)].addresses")
            guard (1...100).contains(addresses.count) else {
                throw addressesValue.error("endpoints[\(index)].addresses: must have between 1 and 100 addresses, found \(addresses.count)")
            }
            for (position, address) in addresses.enumerated() where !Self.isAddress(address, of: type) {
                throw addressesValue.error(
                    "endpoints[\(index)].addresses[\(position)]: Invalid value: \"\(address)\": must be a valid \(type == "FQDN" ? "DNS subdomain" : type + " address")"
                )
            }
            if let hostnameValue = entry["hostname"] {
                let hostname = try hostnameValue.string("endpoints[\(index)].hostname")
                if let problem = NameRules.dns1123LabelProblem(hostname) {
                    throw hostnameValue.error("endpoints[\(index)].hostname: Invalid value: \"\(hostname)\": \(problem)")
                }
            }
        }
        let ports = try fields["ports"]?.items("ports") ?? []
        if ports.count > 20_000 { throw typeValue.error("ports: Too many: \(ports.count): must have at most 20000 items") }
        for (index, port) in ports.enumerated() {
            try checkEndpointPort(port, "ports[\(index)]", portRequired: false)
        }
    }

    private func checkEndpointSubsets(_ fields: [String: YAMLValue]) throws(ScenarioError) {
        for (index, subset) in (try fields["subsets"]?.items("subsets") ?? []).enumerated() {
            let entry = try nonNullFields(subset, "subsets[\(index)]")
            for list in ["addresses", "notReadyAddresses"] {
                for (position, address) in (try entry[list]?.items("subsets[\(index)].\(list)") ?? []).enumerated() {
                    let what = "subsets[\(index)].\(list)[\(position)]"
                    guard let ipValue = try nonNullFields(address, what)["ip"] else { throw address.error("\(what).ip: Required value") }
                    let ip = try ipValue.string("\(what).ip")
                    guard Self.isAddress(ip, of: "IPv4") || Self.isAddress(ip, of: "IPv6") else {
                        throw ipValue.error("\(what).ip: Invalid value: \"\(ip)\": must be a valid IP address")
                    }
                }
            }
            for (position, port) in (try entry["ports"]?.items("subsets[\(index)].ports") ?? []).enumerated() {
                try checkEndpointPort(port, "subsets[\(index)].ports[\(position)]", portRequired: true)
            }
        }
    }

    /// One port of an EndpointSlice (`port` optional) or an Endpoints subset (`port` required).
    private func checkEndpointPort(_ value: YAMLValue, _ what: String, portRequired: Bool) throws(ScenarioError) {
        let fields = try nonNullFields(value, what)
        if let nameValue = fields["name"] {
            let name = try nameValue.string("\(what).name")
            if !name.isEmpty, let problem = NameRules.dns1123LabelProblem(name) {
                throw nameValue.error("\(what).name: Invalid value: \"\(name)\": \(problem)")
            }
        }
        if let protocolValue = fields["protocol"] {
            let text = try protocolValue.string("\(what).protocol")
            guard ["TCP", "UDP", "SCTP"].contains(text) else {
                throw protocolValue.error("\(what).protocol: Unsupported value: \"\(text)\": supported values: \"SCTP\", \"TCP\", \"UDP\"")
            }
        }
        if let portValue = fields["port"] {
            _ = try portValue.int("\(what).port", in: 1...65535)
        } else if portRequired {
            throw value.error("\(what).port: Required value")
        }
    }

    /// Whether `text` is an address of `type`: IPv4 (dotted quad, no leading zeros), IPv6, or FQDN
    /// (a DNS subdomain).
    static func isAddress(_ text: String, of type: String) -> Bool {
        switch type {
        case "IPv4": IPv4(text) != nil
        case "IPv6": text.contains(":") && CIDR.parse(text + "/128")?.family == .ipv6
        default: NameRules.dns1123SubdomainProblem(text) == nil
        }
    }
}
