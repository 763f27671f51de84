import Foundation
import KeycardKernel

/// Runs a witness command (ip, ping) and returns its stdout; tests only, never product code.
func runWitness(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// `ip -n NS -j <args>` parsed as a JSON array of objects.
func ipJSON(_ namespace: String, _ arguments: [String]) throws -> [[String: Any]] {
    let (_, output) = try runWitness(["ip", "-n", namespace, "-j"] + arguments)
    return (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]) ?? []
}

/// Two throwaway namespaces with a unique prefix, deleted at the end whatever happens.
struct ScratchNamespaces {
    let names: [String]

    init(_ count: Int) throws {
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        names = (0..<count).map { "kc-linktest\(tag).n\($0)" }
        for name in names { try NetworkNamespace.create(name) }
    }

    func remove() {
        for name in names { try? NetworkNamespace.delete(name) }
    }
}

func ipv4(_ text: String) -> UInt32 {
    text.split(separator: ".").reduce(UInt32(0)) { $0 << 8 | (UInt32($1) ?? 0) }
}
