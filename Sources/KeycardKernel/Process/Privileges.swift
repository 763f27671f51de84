import Glibc

/// What the current process may do.
public enum Privileges {
    /// Effective uid 0: needed to create namespaces and program nftables.
    public static var isRoot: Bool { geteuid() == 0 }

    /// The path of the running executable (/proc/self/exe resolved), for re-executing keycard.
    public static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
