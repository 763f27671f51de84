import KeycardValues

/// The fixed naming scheme of namespaces and interfaces, and the name checks.
enum Names {
    static func labNameIsValid(_ name: String) -> Bool { LabName.isValid(name) }

    /// DNS label: [a-z0-9-]{1,63}, starting and ending with a letter or digit.
    static func isDNSLabel(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count), let first = bytes.first, let last = bytes.last else { return false }
        return isLowerAlnum(first) && isLowerAlnum(last)
            && bytes.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    /// DNS subdomain: dot-separated DNS labels, at most 253 characters.
    static func isDNSSubdomain(_ name: String) -> Bool {
        name.utf8.count <= 253
            && name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isDNSLabel(String($0)) }
    }

    private static func isLowerAlnum(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    static func router(_ lab: String) -> String { "kc-\(lab).router" }
    static func node(_ lab: String, _ index: Int) -> String { "kc-\(lab).node\(index)" }
    static func external(_ lab: String, _ name: String) -> String { "kc-\(lab).ext.\(name)" }
    /// `kc-<lab>.pod.<namespace>.<name>`; a name that would not fit a file name (pod names may
    /// have 253 characters) keeps its first part and gains a hash of the whole.
    static func pod(_ lab: String, _ namespace: String, _ name: String) -> String {
        let full = "kc-\(lab).pod.\(namespace).\(name)"
        guard full.utf8.count > 200 else { return full }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in full.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(full.prefix(180)) + "~" + String(hash, radix: 36)
    }

    /// Interface names: distinct prefixes per role, so two roles can never produce the same name in
    /// one namespace; base36 keeps every name far below IFNAMSIZ-1 (15).
    static let podSide = "eth0"
    static let nodeUplink = "kcu"
    static func nodePodVeth(_ podIndex: Int) -> String { "kcp" + base36(podIndex) }
    static func routerNodeVeth(_ nodeIndex: Int) -> String { "kcn" + base36(nodeIndex) }
    static func routerExternalVeth(_ externalIndex: Int) -> String { "kcx" + base36(externalIndex) }

    static func base36(_ value: Int) -> String { String(value, radix: 36) }
}
