import Glibc

/// Sysctls of one network namespace. /proc/sys/net resolves against the namespace of the thread
/// that opens the file, so the file is opened and written while the thread is inside the namespace.
public enum Sysctl {
    /// Writes `value` to /proc/sys/`key` (e.g. "net/ipv4/ip_forward") inside namespace `name`.
    public static func write(_ key: String, _ value: String, inNamespace name: String) throws(KernelError) {
        try within(name) { () throws(KernelError) in try write(key, value) }
    }

    /// Reads /proc/sys/`key` inside namespace `name`, without the trailing newline.
    public static func read(_ key: String, inNamespace name: String) throws(KernelError) -> String {
        try within(name) { () throws(KernelError) in try read(key) }
    }

    /// Writes /proc/sys/`key` in the calling thread's namespace.
    public static func write(_ key: String, _ value: String) throws(KernelError) {
        let path = "/proc/sys/" + key
        let fd = try syscall("open", path) { open(path, O_WRONLY | O_CLOEXEC) }
        defer { close(fd) }
        let bytes = Array((value + "\n").utf8)
        let written = try syscall("write", path) { bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } }
        if written != bytes.count { throw KernelError("write", subject: path, errno: EIO) }
    }

    /// Reads /proc/sys/`key` in the calling thread's namespace.
    public static func read(_ key: String) throws(KernelError) -> String {
        let path = "/proc/sys/" + key
        let fd = try syscall("open", path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = try syscall("read", path) { buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) } }
        var text = String(decoding: buffer[0..<count], as: UTF8.self)
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    private static func within<T>(_ name: String, _ body: () throws(KernelError) -> T) throws(KernelError) -> T {
        do {
            return try NetworkNamespace.perform(in: name) { try body() }
        } catch let error as KernelError {
            throw error
        } catch {
            throw KernelError("sysctl", subject: name, errno: EIO)
        }
    }
}
