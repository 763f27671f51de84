import Crypto
import Foundation

/// What a live lab's input files held when it came up (`LiveLabRecord.inputs`), to tell later
/// whether one was edited, added or removed since.
enum LiveInputDigests {
    /// SHA-256 (lower-case hex) of each file's bytes, by absolute path; a file that cannot be read
    /// maps to "unreadable".
    static func of(_ files: [String]) -> [String: String] {
        var digests: [String: String] = [:]
        for file in files {
            let path = LiveInput.absolute(file)
            digests[path] =
                FileManager.default.contents(atPath: path).map { SHA256.hash(data: $0).map { String(format: "%02x", $0) }.joined() }
                ?? "unreadable"
        }
        return digests
    }

    /// The files whose digest differs from `recorded` now, with how (`edited`, `added`, `removed`),
    /// in path order; empty when every input is as it was.
    static func changes(from recorded: [String: String], to now: [String: String]) -> [String] {
        Set(recorded.keys).union(now.keys).sorted().compactMap { path in
            switch (recorded[path], now[path]) {
            case (nil, _): "\(path) (added)"
            case (_, nil): "\(path) (removed)"
            case (let before?, let after?) where before != after: "\(path) (\(after == "unreadable" ? "unreadable" : "edited"))"
            default: nil
            }
        }
    }
}
