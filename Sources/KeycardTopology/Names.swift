import KeycardValues

/// The fixed naming scheme of namespaces and interfaces, and the name checks.
enum Names {
    static func labNameIsValid(_ name: String) -> Bool { LabName.isValid(name) }

    /// DNS label: [a-z0-9-]{1,63}, starting and ending with a letter or digit.
    static func isDNSLabel(_ name: String) -> Bool { name.utf8.count <= 63 && isSubdomainPart(name) }

    /// DNS subdomain as the API server checks it (`IsDNS1123Subdomain`, apimachinery
    /// pkg/util/validation): at most 253 characters, dot-separated parts of [a-z0-9-] that start
    /// and end with a letter or digit. Unlike a DNS label, a part may be longer than 63.
    static func isDNSSubdomain(_ name: String) -> Bool {
        name.utf8.count <= 253 && name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isSubdomainPart(String($0)) }
    }

    private static func isSubdomainPart(_ part: String) -> Bool {
        let bytes = Array(part.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        return isLowerAlnum(first) && isLowerAlnum(last) && bytes.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    private static func isLowerAlnum(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    static func router(_ lab: String) -> String { "kc-\(lab).router" }
    static func node(_ lab: String, _ index: Int) -> String { "kc-\(lab).node\(index)" }
    static func external(_ lab: String, _ name: String) -> String { "kc-\(lab).ext.\(name)" }
    /// `kc-<lab>.pod.<namespace>.<name>`, fitted to a file name (`LabFileName.fitted`).
    static func pod(_ lab: String, _ namespace: String, _ name: String) -> String {
        LabFileName.fitted("kc-\(lab).pod.\(namespace).\(name)")
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

/// A name made of a pod's names, fitted to one file name (Linux allows 255 bytes; pod names may
/// have 253 characters): at most 200 bytes as written, else its first 180 characters, `~` and a
/// hash of the whole (FNV-1a, base 36), so distinct names stay distinct.
public enum LabFileName {
    /// `name` itself when it has at most 200 UTF-8 bytes; otherwise its first 180 characters, `~` and
    /// the hash, which stays under NAME_MAX (255 bytes).
    public static func fitted(_ name: String) -> String {
        guard name.utf8.count > 200 else { return name }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(name.prefix(180)) + "~" + String(hash, radix: 36)
    }
}
