import Foundation
import Testing

/// Golden netlink bytes under Tests/KeycardKernelTests/Golden: one file per case, each netlink
/// message as a `# <type> len <n>` line and 16-byte hex rows. `KEYCARD_UPDATE_GOLDEN=1` rewrites
/// the files from what the code produces (review the diff before committing).
enum GoldenBytes {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// The text form of a datagram of whole netlink messages (split by nlmsg_len, little-endian).
    static func render(_ bytes: [UInt8]) -> String {
        var lines: [String] = []
        var offset = 0
        while offset + 16 <= bytes.count {
            let length = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3]) << 24
            let type = Int(bytes[offset + 4]) | Int(bytes[offset + 5]) << 8
            guard length >= 16 else { break }
            let end = min(bytes.count, offset + ((length + 3) & ~3))
            lines.append(String(format: "# type 0x%04x len %d", type, length))
            var row = offset
            while row < end {
                lines.append(bytes[row..<min(row + 16, end)].map { String(format: "%02x", $0) }.joined(separator: " "))
                row += 16
            }
            offset = end
        }
        if offset < bytes.count { lines.append("# trailing " + bytes[offset...].map { String(format: "%02x", $0) }.joined(separator: " ")) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Expects `bytes` to equal the golden file `name` (.hex), or rewrites it when updating.
    static func check(_ name: String, _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = directory.appendingPathComponent(name + ".hex")
        let actual = render(bytes)
        if ProcessInfo.processInfo.environment["KEYCARD_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(actual == expected, "golden \(name).hex differs", sourceLocation: sourceLocation)
    }
}
