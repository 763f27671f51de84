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

/// A set-up command (`ip`, `nft`) a test's throwaway namespaces need, which must succeed.
public struct CommandFailed: Error, CustomStringConvertible {
    public let description: String
}

/// Runs `path` with `arguments` (and `stdin`), returns its output (stdout and stderr); throws
/// `CommandFailed` with that output on a non-zero exit.
@discardableResult
public func runChecked(_ path: String, _ arguments: [String], stdin: String? = nil) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    let input = Pipe()
    process.standardOutput = output
    process.standardError = output
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard process.terminationStatus == 0 else {
        throw CommandFailed(description: "\(path) \(arguments.joined(separator: " ")): \(text)")
    }
    return text
}
