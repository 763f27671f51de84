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
    /// `srcNamespaceGenerator`, at 86c9f01f) splits the value at each `*`, quotes every literal
    /// part (`regexp.QuoteMeta`, istio/istio#59992), joins the parts with `.*` and builds the regex
    /// `.*/ns/<value>/.*`, which Envoy's RBAC filter matches in full against the peer
    /// certificate's URI SAN (`Authenticated.principal_name`). Every form goes through that regex,
    /// exact, prefix (`abc*`), suffix (`*abc`), a `*` in the middle and `*` alike, so a `*` may run
    /// across `/` into the service account: `*a` matches `spiffe://cluster.local/ns/prod/sa/web`
    /// (`prod/sa` ends in `a`), `pro*` matches a namespace `prod` and `prometheus`, `*` matches
    /// every identity with a `/ns/<x>/` segment. Every other character is literal: `pr.d` matches
    /// only a namespace named `pr.d`, `[a-z]+` only one named `[a-z]+`. ztunnel matches the
    /// namespace alone (`matches`).
    /// - Parameters:
    ///   - pattern: the policy's value, e.g. `prod`, `*a`, `team-*`, `*`.
    ///   - uri: the peer's URI SAN, `spiffe://<trust domain>/ns/<namespace>/sa/<account>`.
    /// - Returns: whether the regex fully matches `uri`. The regex is matched here without a regex
    ///   engine, on bytes as RE2 does: `/ns/` and the literal parts in order, each gap any run of
    ///   bytes, the last part followed by `/`. RE2's `.` matches every byte but `\n`, so a URI
    ///   holding a newline matches no value (keycard's choice for a value that holds one too; a
    ///   namespace name never does).
    public static func sidecarNamespaceMatches(_ pattern: String, uri: String) -> Bool {
        if uri.utf8.contains(UInt8(ascii: "\n")) { return false }
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        // `.*/ns/` P0 `.*` P1 ... `.*` Pn `/.*`, matched in full: the literal sequence
        // `/ns/` P0 must start somewhere, and the last part must be followed by `/`.
        var literals = parts
        literals[0] = "/ns/" + literals[0]
        literals[literals.count - 1] += "/"
        return globMatches(literals.map { Array($0.utf8) }, in: Array(uri.utf8)[...])
    }

    /// Whether `text` holds `literals` in order without overlap: the full match of
    /// `.*L0.*L1 … .*Ln.*`. Placing each literal at its earliest occurrence after the previous one
    /// leaves the most room for the rest, so that placement finds a match whenever one exists.
    /// Bytes, as Go's and RE2's regexes compare them.
    private static func globMatches(_ literals: [[UInt8]], in text: ArraySlice<UInt8>) -> Bool {
        var rest = text
        for literal in literals {
            if literal.isEmpty { continue }
            guard let range = rest.firstRange(of: literal) else { return false }
            rest = rest[range.upperBound...]
        }
        return true
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
