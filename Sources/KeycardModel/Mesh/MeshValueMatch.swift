/// Istio's value matching for AuthorizationPolicy strings (spec mesh.md R42–R46).
public enum MeshValueMatch {
    /// R42/R43: `*` alone is presence (a non-empty value); a leading `*` is a suffix match, a
    /// trailing `*` a prefix match (checked in that order); any other `*` is a literal character.
    /// `ignoringCase` for hosts (R45).
    public static func matches(_ pattern: String, _ value: String, ignoringCase: Bool = false) -> Bool {
        let pattern = ignoringCase ? pattern.lowercased() : pattern
        let value = ignoringCase ? value.lowercased() : value
        if pattern == "*" { return !value.isEmpty }
        if pattern.hasPrefix("*") { return value.hasSuffix(pattern.dropFirst()) }
        if pattern.hasSuffix("*") { return value.hasPrefix(pattern.dropLast()) }
        return pattern == value
    }

    /// A `namespaces`/`notNamespaces` value, or a `source.namespace` condition value, as a sidecar
    /// enforces it. istiod (`istio/istio` `pilot/pkg/security/authz/model/generator.go`
    /// `srcNamespaceGenerator`) replaces each `*` of the value with `.*`, quoting nothing, and
    /// builds the regex `.*/ns/<value>/.*`, which Envoy's RBAC filter matches in full against the
    /// peer certificate's URI SAN (`Authenticated.principal_name`). Every form goes through that
    /// regex, exact, prefix (`abc*`), suffix (`*abc`) and `*` alike, so a `*` may run across `/`
    /// into the service account: `*a` matches `spiffe://cluster.local/ns/prod/sa/web` (`prod/sa`
    /// ends in `a`), `pro*` matches a namespace `prod` and `prometheus`, `*` matches every identity
    /// with a `/ns/<x>/` segment; and the value's other characters are regex syntax as written
    /// (`pr.d` matches `prod`). ztunnel matches the namespace alone (`matches`).
    /// - Parameters:
    ///   - pattern: the policy's value, e.g. `prod`, `*a`, `team-*`, `*`.
    ///   - uri: the peer's URI SAN, `spiffe://<trust domain>/ns/<namespace>/sa/<account>`.
    /// - Returns: whether the regex fully matches `uri`; false when the value does not make a
    ///   valid regex (keycard's choice: Envoy would refuse the filter and keep its old one). Swift's
    ///   `Regex` stands in for Envoy's RE2: the same for the characters a namespace and a SPIFFE
    ///   URI hold (a `.` matches none of `\n`, `\r`; RE2 without `s` refuses only `\n`); syntax RE2
    ///   lacks (lookaround) is accepted here where Envoy would refuse it.
    public static func sidecarNamespaceMatches(_ pattern: String, uri: String) -> Bool {
        let expression = ".*/ns/" + pattern.replacing("*", with: ".*") + "/.*"
        guard let regex = try? Regex(expression) else { return false }
        return (try? regex.wholeMatch(in: uri)) != nil
    }

    /// R46, Istio's default `BASE` path normalization, then the query and fragment removed:
    /// percent-encoded unreserved characters decoded, `\\` turned into `/`, dot segments
    /// resolved; consecutive slashes kept. Returns nil for a path with `%00` (HTTP 400).
    public static func normalizedPath(_ raw: String) -> String? {
        var path = raw
        if let cut = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = String(path[..<cut]) }
        if path.lowercased().contains("%00") { return nil }
        path = String(decodeUnreserved(path).map { $0 == "\\" ? "/" : $0 })
        return removeDotSegments(path)
    }

    private static func decodeUnreserved(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var index = 0
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 48...57: byte - 48
            case 65...70: byte - 55
            case 97...102: byte - 87
            default: nil
            }
        }
        while index < bytes.count {
            if bytes[index] == 37, index + 2 < bytes.count, let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2]) {
                let decoded = high << 4 | low
                let unreserved =
                    (65...90).contains(decoded) || (97...122).contains(decoded) || (48...57).contains(decoded)
                    || [45, 46, 95, 126].contains(decoded)
                if unreserved {
                    out.append(decoded)
                    index += 3
                    continue
                }
            }
            out.append(bytes[index])
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 3986 5.2.4 on the segments; empty segments (`//`) stay (no MERGE_SLASHES).
    private static func removeDotSegments(_ path: String) -> String {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var output: [String] = []
        for (index, segment) in segments.enumerated() {
            let last = index == segments.count - 1
            switch segment {
            case ".":
                if last { output.append("") }
            case "..":
                if output.count > 1 { output.removeLast() }
                if last { output.append("") }
            default: output.append(segment)
            }
        }
        let joined = output.joined(separator: "/")
        return joined.hasPrefix("/") ? joined : "/" + joined
    }
}
