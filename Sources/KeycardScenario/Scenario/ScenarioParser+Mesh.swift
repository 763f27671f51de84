import KeycardModel
import KeycardValues

/// The mesh extension of the scenario format (spec mesh.md 2.1, 2.4, 2.7).
extension ScenarioParser {
    /// `spec.mesh`: `rootNamespace` (default istio-system) and `trustDomain` (default cluster.local).
    func meshSettings(_ value: YAMLValue?) throws(ScenarioError) -> MeshSettings {
        var settings = MeshSettings()
        guard let value else { return settings }
        let fields = try value.fields("spec.mesh", allowed: ["rootNamespace", "trustDomain"])
        if let root = fields["rootNamespace"] {
            let text = try root.string("spec.mesh.rootNamespace")
            if let problem = NameRules.dns1123LabelProblem(text) { throw root.error("spec.mesh.rootNamespace \"\(text)\" \(problem)") }
            settings.rootNamespace = text
        }
        if let domain = fields["trustDomain"] {
            let text = try domain.string("spec.mesh.trustDomain")
            if let problem = NameRules.dns1123SubdomainProblem(text) { throw domain.error("spec.mesh.trustDomain \"\(text)\" \(problem)") }
            settings.trustDomain = text
        }
        return settings
    }

    /// A probe's `identity`, `via` and `http`.
    func meshRequest(_ fields: Fields) throws(ScenarioError) -> MeshRequest {
        var request = MeshRequest()
        if let identity = fields["identity"] { request.identity = try probeIdentity(identity) }
        if let via = fields["via"] {
            request.route = try via.choice("probe.via", expected: "service or pod-ip")
        }
        if let http = fields["http"] { request.http = try httpRequest(http) }
        return request
    }

    /// `mesh | none | {spoofed: spiffe://...} | {stolen: spiffe://<trustDomain>/ns/<ns>/sa/<sa>}`.
    func probeIdentity(_ value: YAMLValue) throws(ScenarioError) -> ProbeIdentity {
        if case .scalar = value.node {
            let text = try value.string("identity")
            switch text {
            case "mesh": return .mesh
            case "none": return .none
            default: throw value.error("identity must be mesh, none, {spoofed: spiffe://...} or {stolen: spiffe://...}, found \(text)")
            }
        }
        let fields = try value.fields("identity", allowed: ["spoofed", "stolen"])
        if fields["spoofed"] != nil && fields["stolen"] != nil { throw value.error("identity is either spoofed or stolen, not both") }
        if let spoofed = fields["spoofed"] {
            let uri = try spoofed.string("identity.spoofed")
            if let problem = MeshSettings.spoofedIdentityProblem(uri, field: "identity.spoofed") { throw spoofed.error(problem) }
            return .spoofed(uri)
        }
        guard let stolen = fields["stolen"] else { throw value.error("identity needs spoofed or stolen") }
        let uri = try stolen.string("identity.stolen")
        if let problem = mesh.stolenIdentityProblem(uri, field: "identity.stolen") { throw stolen.error(problem) }
        return .stolen(uri)
    }

    /// `http: {method, path, host, headers}`.
    private func httpRequest(_ value: YAMLValue) throws(ScenarioError) -> HTTPRequest {
        var request = HTTPRequest()
        if value.isNull { return request }
        let fields = try value.fields("probe.http", allowed: ["method", "path", "host", "headers"])
        if let method = fields["method"] {
            let text = try method.string("http.method")
            if let reason = HTTPRequest.unsupportedMethodReason(text) {
                throw method.error("http.method \"\(text)\" cannot be probed: \(reason)")
            }
            request.method = text
        }
        if let path = fields["path"] {
            let text = try path.string("http.path")
            guard text.hasPrefix("/"), !text.contains(" "), text.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
                throw path.error("http.path \"\(text)\" must start with / and hold printable ASCII without spaces")
            }
            // R46: Istio's proxies answer 400 to %00; keycard does not probe it.
            if text.lowercased().contains("%00") { throw path.error("http.path with %00 gets HTTP 400 from Istio's proxies (R46)") }
            request.path = text
        }
        if let host = fields["host"] {
            let text = try host.string("http.host")
            // Printable ASCII without spaces: a control character would end the header line.
            if text.isEmpty || !text.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) {
                throw host.error("http.host must be a non-empty host[:port] of printable ASCII")
            }
            request.host = text
        }
        if let headers = fields["headers"] {
            // Lower-cased names seen so far: YAML refuses a key written twice, not X-Evil beside x-evil.
            var seen: Set<String> = []
            for (name, location, headerValue) in try headers.entries("http.headers") {
                // RFC 9110 5.1 `token` (tchar): Envoy's codec answers 400 to any other name
                // (balsa_parser.cc `isHeaderNameValid`), which keycard does not model.
                let tchars = Set("!#$%&'*+-.^_`|~".utf8)
                let token =
                    !name.isEmpty
                    && name.utf8.allSatisfy {
                        (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || tchars.contains($0)
                    }
                guard token else {
                    throw ScenarioError(
                        location, "http header name \"\(name)\" is not a valid token (Istio's proxies answer 400 to it)")
                }
                if ["host", "content-length", "transfer-encoding", "connection"].contains(name.lowercased()) {
                    throw ScenarioError(location, "http header \(name) is set by keycard (use http.host for Host)")
                }
                guard seen.insert(name.lowercased()).inserted else {
                    throw ScenarioError(location, HTTPRequest.duplicateHeaderProblem(name))
                }
                let value = try headerValue.string("http header \(name)")
                // RFC 9110 field values: visible characters, spaces and tabs; never CR, LF or NUL.
                guard value.utf8.allSatisfy({ $0 == 9 || ($0 >= 32 && $0 != 127) }) else {
                    throw headerValue.error("http header \(name) holds a control character (CR, LF and NUL would end or break the header)")
                }
                request.headers[name] = value
            }
        }
        return request
    }
}
