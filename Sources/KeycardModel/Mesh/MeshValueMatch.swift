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
    /// `srcNamespaceGenerator`) quotes the value's literal parts, joins them with `.*` where it had
    /// `*`, and builds the regex `.*/ns/<value>/.*`, which Envoy's RBAC filter matches in full
    /// against the peer certificate's URI SAN (`Authenticated.principal_name`). Every form goes
    /// through that regex, exact, prefix (`abc*`), suffix (`*abc`) and `*` alike, so a `*` may run
    /// across `/` into the service account: `*a` matches `spiffe://cluster.local/ns/prod/sa/web`
    /// (`prod/sa` ends in `a`), `pro*` matches a namespace `prod` and `prometheus`, `*` matches
    /// every identity with a `/ns/<x>/` segment. ztunnel matches the namespace alone (`matches`).
    /// - Parameters:
    ///   - pattern: the policy's value, e.g. `prod`, `*a`, `team-*`, `*`.
    ///   - uri: the peer's URI SAN, `spiffe://<trust domain>/ns/<namespace>/sa/<account>`.
    /// - Returns: whether RE2 would fully match `.*/ns/<pattern, * as .*>/.*` against `uri` (`.`
    ///   does not match a newline, as in RE2 without the `s` flag).
    public static func sidecarNamespaceMatches(_ pattern: String, uri: String) -> Bool {
        var tokens: [RegexToken] = [.any]
        tokens += "/ns/".unicodeScalars.map(RegexToken.literal)
        tokens += pattern.unicodeScalars.map { $0 == "*" ? RegexToken.any : .literal($0) }
        tokens += [.literal("/"), .any]
        return fullMatch(tokens, Array(uri.unicodeScalars))
    }

    /// One piece of the regexes istiod builds from a namespace value: `.*` or one quoted character.
    private enum RegexToken {
        case any
        case literal(Unicode.Scalar)
    }

    /// Whether `tokens` match all of `value`; `.any` is `.*` (any run of scalars but a newline).
    private static func fullMatch(_ tokens: [RegexToken], _ value: [Unicode.Scalar]) -> Bool {
        // reachable[j]: the tokens so far can match value[0..<j].
        var reachable = [Bool](repeating: false, count: value.count + 1)
        reachable[0] = true
        for token in tokens {
            var next = [Bool](repeating: false, count: value.count + 1)
            switch token {
            case .any:
                var open = false
                for j in 0...value.count {
                    if reachable[j] { open = true }
                    if open { next[j] = true }
                    // `.` stops at a newline: what follows it needs a fresh start.
                    if j < value.count, value[j] == "\n" { open = false }
                }
            case .literal(let scalar):
                for j in 0..<value.count where reachable[j] && value[j] == scalar { next[j + 1] = true }
            }
            reachable = next
        }
        return reachable[value.count]
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
