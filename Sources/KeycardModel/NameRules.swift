/// Kubernetes' rules for names, label keys and values, and port names (apimachinery validation).
public enum NameRules {
    /// RFC 1123 label: at most 63 characters, lower-case alphanumerics and '-', alphanumeric at both ends.
    /// Namespace names follow it.
    public static func dns1123LabelProblem(_ text: String) -> String? {
        if text.isEmpty { return "must not be empty" }
        if text.utf8.count > 63 { return "must be at most 63 characters" }
        guard text.utf8.allSatisfy({ isLowerAlnum($0) || $0 == UInt8(ascii: "-") }),
            let first = text.utf8.first, let last = text.utf8.last, isLowerAlnum(first), isLowerAlnum(last)
        else { return "must consist of lower-case letters, digits and '-', and start and end with a letter or digit" }
        return nil
    }

    /// RFC 1035 label: an RFC 1123 label that starts with a letter. Service names follow it
    /// (`ValidateServiceName` is apimachinery's `NameIsDNS1035Label`).
    public static func dns1035LabelProblem(_ text: String) -> String? {
        if let problem = dns1123LabelProblem(text) { return problem }
        guard let first = text.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) else {
            return "must start with a letter"
        }
        return nil
    }

    /// RFC 1123 subdomain: at most 253 characters, dot-separated labels. Pod and policy names follow it.
    public static func dns1123SubdomainProblem(_ text: String) -> String? {
        if text.isEmpty { return "must not be empty" }
        if text.utf8.count > 253 { return "must be at most 253 characters" }
        for label in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard let first = label.utf8.first, let last = label.utf8.last, isLowerAlnum(first), isLowerAlnum(last),
                label.utf8.allSatisfy({ isLowerAlnum($0) || $0 == UInt8(ascii: "-") })
            else {
                return "must consist of lower-case letters, digits, '-' and '.', and start and end with a letter or digit"
            }
        }
        return nil
    }

    /// The longest RFC 1123 subdomain (`dns1123SubdomainProblem`).
    public static let subdomainMaxLength = 253

    /// `text` made an RFC 1123 subdomain of at most `maxLength` characters, for a name keycard
    /// derives from others (`keycard generate`'s policy names from label values, which may be
    /// upper case or hold `_`): lower-cased, every character but a letter, digit, `-` or `.` made
    /// `-`, each dot-separated part stripped of `-` at its ends and empty parts dropped, then cut
    /// to `maxLength` and stripped of a trailing `-` or `.`. `x` when nothing is left.
    public static func dns1123Subdomain(_ text: String, maxLength: Int = subdomainMaxLength) -> String {
        let mapped = String(
            text.lowercased().unicodeScalars.map { scalar -> Character in
                guard scalar.isASCII, let byte = UInt8(exactly: scalar.value), isLowerAlnum(byte) || scalar == "." else { return "-" }
                return Character(scalar)
            })
        var parts: [String] = []
        for part in mapped.split(separator: ".") {
            var piece = part
            while piece.first == "-" { piece.removeFirst() }
            while piece.last == "-" { piece.removeLast() }
            if !piece.isEmpty { parts.append(String(piece)) }
        }
        var name = String(parts.joined(separator: ".").prefix(max(1, maxLength)))
        while let last = name.last, last == "-" || last == "." { name.removeLast() }
        return name.isEmpty ? "x" : name
    }

    /// A label key: an optional DNS-subdomain prefix and '/', then a name of at most 63 characters
    /// (alphanumerics, '-', '_', '.', alphanumeric at both ends). `what` names the key in messages;
    /// `written`, when given, is the key as written, quoted in messages in place of `key`.
    public static func labelKeyProblem(_ key: String, as what: String = "label key", written: String? = nil) -> String? {
        let pieces = key.split(separator: "/", omittingEmptySubsequences: false)
        let shown = written ?? key
        guard pieces.count <= 2 else { return "\(what) \"\(shown)\" may contain at most one '/'" }
        if pieces.count == 2 {
            if let problem = dns1123SubdomainProblem(String(pieces[0])) {
                let prefix = shown.split(separator: "/", omittingEmptySubsequences: false).first ?? pieces[0]
                return "\(what) prefix \"\(prefix)\" \(problem)"
            }
        }
        let name = String(pieces[pieces.count - 1])
        if name.isEmpty { return "\(what) \"\(shown)\" has an empty name" }
        if let problem = qualifiedNamePartProblem(name) { return "\(what) \"\(shown)\" \(problem)" }
        return nil
    }

    /// A name that can be one segment of a URL path (apimachinery pkg/api/validation/path
    /// `IsValidPathSegmentName`): not `.` or `..`, no `/` or `%`. The RBAC kinds' names
    /// (`ValidateRBACName`, pkg/apis/rbac/validation), such as `system:aggregate-to-edit`.
    public static func pathSegmentNameProblem(_ name: String) -> String? {
        if name == "." || name == ".." { return "may not be '\(name)'" }
        for character in ["/", "%"] where name.contains(character) { return "may not contain '\(character)'" }
        return nil
    }

    /// An annotation key: a label key whose case does not matter. apimachinery's
    /// `ValidateAnnotations` (pkg/api/validation/objectmeta.go) checks `IsQualifiedName` on the
    /// lower-cased key ("case doesn't matter"), and `validateObjectFieldSelector`
    /// (pkg/apis/core/validation/validation.go) a `metadata.annotations['KEY']` subscript likewise:
    /// `Example.COM/Foo` is a valid key, stored as written. Messages quote the key as written.
    public static func annotationKeyProblem(_ key: String) -> String? {
        labelKeyProblem(key.lowercased(), as: "annotation key", written: key)
    }

    /// A label value: empty, or at most 63 characters of the same alphabet as a key's name.
    public static func labelValueProblem(_ value: String) -> String? {
        if value.isEmpty { return nil }
        if let problem = qualifiedNamePartProblem(value) { return "label value \"\(value)\" \(problem)" }
        return nil
    }

    /// IANA_SVC_NAME, the form of a named port: at most 15 characters, lower-case alphanumerics and
    /// '-', at least one letter, no '-' at either end and no "--".
    public static func portNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.utf8.count > 15 { return "must be at most 15 characters" }
        guard name.utf8.allSatisfy({ isLowerAlnum($0) || $0 == UInt8(ascii: "-") }) else {
            return "must contain only lower-case letters, digits and '-'"
        }
        guard name.utf8.contains(where: { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }) else {
            return "must contain at least one letter"
        }
        if name.hasPrefix("-") || name.hasSuffix("-") || name.contains("--") {
            return "must not start or end with '-' or contain '--'"
        }
        return nil
    }

    private static func qualifiedNamePartProblem(_ text: String) -> String? {
        if text.utf8.count > 63 { return "must be at most 63 characters" }
        guard let first = text.utf8.first, let last = text.utf8.last, isAlnum(first), isAlnum(last),
            text.utf8.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") })
        else { return "must consist of letters, digits, '-', '_' and '.', and start and end with a letter or digit" }
        return nil
    }

    private static func isLowerAlnum(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    private static func isAlnum(_ byte: UInt8) -> Bool {
        isLowerAlnum(byte) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }
}
