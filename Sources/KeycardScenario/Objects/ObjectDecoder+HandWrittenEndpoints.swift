import KeycardModel
import KeycardValues

extension ObjectDecoder {
    /// A hand-written `discovery.k8s.io/v1` EndpointSlice or `v1` Endpoints, which keycard does not
    /// run but which marks its Service's cells as not judged (`handWrittenEndpoints`): validated as
    /// the API server validates it, so an object it would refuse neither passes nor changes the
    /// model. EndpointSlice (`ValidateEndpointSlice`, pkg/apis/discovery/validation): a DNS
    /// subdomain name; `addressType` IPv4, IPv6 or FQDN; at most 1,000 `endpoints`, each with 1 to
    /// 100 `addresses` of that type, a DNS-label `hostname`; at most 20,000 `ports`, each with a
    /// DNS-label `name` (unique), a `protocol` of TCP, UDP or SCTP and a `port` of 1 to 65535.
    /// Endpoints (`ValidateEndpoints`, pkg/apis/core/validation): each subset has addresses (or
    /// not-ready ones) with a valid `ip`, and ports with a `port` of 1 to 65535, a `protocol` of
    /// TCP, UDP or SCTP and, when there are several, a `name`. An IP address is read as
    /// `netutils.ParseIPSloppy` reads it (an IPv4 octet may have leading zeros) and may not be
    /// unspecified, loopback or link-local (`ValidateEndpointIP`).
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
            for (position, address) in addresses.enumerated() {
                let what = "endpoints[\(index)].addresses[\(position)]"
                guard Self.isAddress(address, of: type) else {
                    throw addressesValue.error(
                        "\(what): Invalid value: \"\(address)\": must be a valid \(type == "FQDN" ? "DNS subdomain" : type + " address")")
                }
                if type == "IPv4", let problem = Self.endpointIPProblem(address) {
                    throw addressesValue.error("\(what): Invalid value: \"\(address)\": \(problem)")
                }
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
        var names: Set<String> = []
        for (index, port) in ports.enumerated() {
            let name = try checkEndpointPort(port, "ports[\(index)]", portRequired: false, nameRequired: false)
            if !names.insert(name).inserted { throw port.error("ports[\(index)].name: Duplicate value: \"\(name)\"") }
        }
    }

    private func checkEndpointSubsets(_ fields: [String: YAMLValue]) throws(ScenarioError) {
        for (index, subset) in (try fields["subsets"]?.items("subsets") ?? []).enumerated() {
            let entry = try nonNullFields(subset, "subsets[\(index)]")
            var addressCount = 0
            for list in ["addresses", "notReadyAddresses"] {
                addressCount += (try entry[list]?.items("subsets[\(index)].\(list)") ?? []).count
            }
            if addressCount == 0 {
                throw subset.error("subsets[\(index)]: Required value: must specify `addresses` or `notReadyAddresses`")
            }
            for list in ["addresses", "notReadyAddresses"] {
                for (position, address) in (try entry[list]?.items("subsets[\(index)].\(list)") ?? []).enumerated() {
                    let what = "subsets[\(index)].\(list)[\(position)]"
                    guard let ipValue = try nonNullFields(address, what)["ip"] else { throw address.error("\(what).ip: Required value") }
                    let ip = try ipValue.string("\(what).ip")
                    guard Self.isAddress(ip, of: "IPv4") || Self.isAddress(ip, of: "IPv6") else {
                        throw ipValue.error("\(what).ip: Invalid value: \"\(ip)\": must be a valid IP address")
                    }
                    if let problem = Self.endpointIPProblem(ip) { throw ipValue.error("\(what).ip: Invalid value: \"\(ip)\": \(problem)") }
                }
            }
            let ports = try entry["ports"]?.items("subsets[\(index)].ports") ?? []
            for (position, port) in ports.enumerated() {
                _ = try checkEndpointPort(port, "subsets[\(index)].ports[\(position)]", portRequired: true, nameRequired: ports.count > 1)
            }
        }
    }

    /// One port of an EndpointSlice (`port` optional) or an Endpoints subset (`port` required, and
    /// a `name` when the subset has several ports). Returns its name ("" when none).
    private func checkEndpointPort(_ value: YAMLValue, _ what: String, portRequired: Bool, nameRequired: Bool) throws(ScenarioError)
        -> String
    {
        let fields = try nonNullFields(value, what)
        let name = try fields["name"]?.string("\(what).name") ?? ""
        if !name.isEmpty, let problem = NameRules.dns1123LabelProblem(name) {
            throw (fields["name"] ?? value).error("\(what).name: Invalid value: \"\(name)\": \(problem)")
        }
        if name.isEmpty && nameRequired { throw value.error("\(what).name: Required value") }
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
        return name
    }

    /// `ValidateEndpointIP`: an endpoint may not be the unspecified address, loopback or
    /// link-local (unicast or multicast).
    static func endpointIPProblem(_ text: String) -> String? {
        guard let octets = sloppyIPv4(text) else { return nil }
        if octets == [0, 0, 0, 0] { return "may not be unspecified (0.0.0.0)" }
        if octets[0] == 127 { return "may not be in the loopback range (127.0.0.0/8)" }
        if octets[0] == 169 && octets[1] == 254 { return "may not be in the link-local range (169.254.0.0/16)" }
        if octets[0] == 224 && octets[1] == 0 && octets[2] == 0 { return "may not be in the link-local multicast range (224.0.0.0/24)" }
        return nil
    }

    /// An IPv4 address as `netutils.ParseIPSloppy` reads it: four decimal octets of at most three
    /// digits each, leading zeros allowed (`010.244.1.5`); nil for anything else.
    static func sloppyIPv4(_ text: String) -> [Int]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [Int] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCII), part.allSatisfy(\.isNumber), let value = Int(part), value <= 255
            else { return nil }
            octets.append(value)
        }
        return octets
    }

    /// Whether `text` is an address of `type`: IPv4 (dotted quad, no leading zeros), IPv6, or FQDN
    /// (a DNS subdomain).
    static func isAddress(_ text: String, of type: String) -> Bool {
        switch type {
        case "IPv4": sloppyIPv4(text) != nil
        case "IPv6": text.contains(":") && CIDR.parse(text + "/128")?.family == .ipv6
        default: NameRules.dns1123SubdomainProblem(text) == nil
        }
    }
}
