import Foundation

/// Runs a witness command (`ip`, `nft`, `cat`) and returns its stdout: tests look at the kernel
/// through tools other than keycard's own; product code never does this.
public func runWitness(_ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// `ip -n NS -j <args>` parsed as a JSON array of objects.
public func ipJSON(_ namespace: String, _ arguments: [String]) throws -> [[String: Any]] {
    let output = try runWitness(["ip", "-n", namespace, "-j"] + arguments)
    return (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]) ?? []
}
