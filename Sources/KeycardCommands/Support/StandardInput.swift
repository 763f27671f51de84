import Foundation
import Glibc

/// Standard input read whole, for `-` and `-f -`. Read with read(2), not `FileHandle`: Foundation's
/// `readDataToEndOfFile` traps (an internal `try!`) when the read fails, as it does on a folder
/// (`< /tmp`, EISDIR) or a closed descriptor (`<&-`, EBADF).
enum StandardInput {
    /// A failed read: `STDIN: read: is a directory` (strerror, first letter lower-cased as Go's
    /// `syscall.Errno` strings are, which kubectl's messages show).
    struct ReadError: Error, CustomStringConvertible {
        var errno: Int32
        var description: String {
            let reason = String(cString: strerror(errno))
            return "STDIN: read: \(reason.prefix(1).lowercased() + reason.dropFirst())"
        }
    }

    /// Every byte of descriptor 0 up to end of file; a read interrupted by a signal is retried.
    /// Errors: `ReadError` with read(2)'s error number.
    static func readAll(from descriptor: Int32 = STDIN_FILENO) throws(ReadError) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw ReadError(errno: errno) }
            if count == 0 { return data }
            data.append(contentsOf: buffer[..<count])
        }
    }
}
