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

    /// A `namespaces` value as sidecars read it (Part 3 #6): every `*` becomes `.*` of a regex.
    public static func matchesGlob(_ pattern: String, _ value: String) -> Bool {
        if pattern == "*" { return !value.isEmpty }
        return glob(Array(pattern), Array(value))
    }

    /// `*` matches any run of characters (possibly empty), everything else itself.
    private static func glob(_ pattern: [Character], _ value: [Character]) -> Bool {
        // reachable[j]: the pattern so far can match value[0..<j].
        var reachable = [Bool](repeating: false, count: value.count + 1)
        reachable[0] = true
        for character in pattern {
            var next = [Bool](repeating: false, count: value.count + 1)
            for j in 0...value.count where reachable[j] {
                if character == "*" {
                    for k in j...value.count { next[k] = true }
                    break
                } else if j < value.count, value[j] == character {
                    next[j + 1] = true
                }
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
