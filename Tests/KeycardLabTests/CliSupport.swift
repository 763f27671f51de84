import Foundation
import Glibc
import KeycardKernel
import KeycardTestSupport
import KeycardTopology
import KeycardValues
import Testing

/// The built `keycard` binary (a product of the package, built beside this test bundle) and a way
/// to run it as a user would.
enum KeycardCLI {
    /// .build/<triple>/<config>/keycard, next to the running test executable.
    static var binary: String {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return exe.deletingLastPathComponent().appendingPathComponent("keycard").path
    }

    struct Result {
        var code: Int32
        var out: String
        var err: String
        /// The process id it ran as (labs it derives their names from it, as `diff --prove` does).
        var pid: Int32 = 0
    }

    /// Runs `keycard arguments...` to completion. The lab process it may start takes no pipe with it
    /// (it closes every descriptor above 2), so reading to EOF does not wait for it.
    @discardableResult
    static func run(_ arguments: [String], in directory: String? = nil, stdin: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        try process.run()
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try input.fileHandleForWriting.close()
        }
        // Read both pipes concurrently so a chatty stderr cannot block the child.
        nonisolated(unsafe) var errData = Data()
        let reader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !reader.isFinished { usleep(1000) }
        return Result(
            code: process.terminationStatus, out: String(decoding: outData, as: UTF8.self),
            err: String(decoding: errData, as: UTF8.self), pid: process.processIdentifier)
    }

    /// `keycard status LAB -o json`, the lab's object.
    static func status(_ lab: String) throws -> [String: Any] {
        let result = try run(["status", lab, "-o", "json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any], "\(result.err)")
        let labs = try #require(document["labs"] as? [[String: Any]])
        return try #require(labs.first)
    }

    /// `keycard probe LAB --from F --to T --ports P -o json`: the one cell's observed value and the exit code.
    static func probeOne(_ lab: String, from: String, to: String, port: String = "TCP/80") throws -> (
        observed: String, model: String, code: Int32
    ) {
        let result = try run(["probe", lab, "--from", from, "--to", to, "--ports", port, "-o", "json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any], "\(result.err)")
        let cell = try #require((document["results"] as? [[String: Any]])?.first)
        return (cell["observed"] as? String ?? "", cell["model"] as? String ?? "", result.code)
    }
}

/// A scenario written to a fresh temporary folder, with a unique lab name.
struct CliScenario {
    let lab: String
    let folder: String
    var file: String { "\(folder)/scenario.yaml" }

    /// Pods as (namespace, name, labels); every pod serves TCP/80. `extra` are more resource items (YAML, indented for the list);
    /// `settings` more `spec.lab` entries (`serviceCIDR: 10.100.0.0/16`).
    init(stem: String, nodes: Int = 1, settings: String = "", pods: [(String, String)], extra: [String] = []) throws {
        lab = uniqueLabName(stem)
        folder = NSTemporaryDirectory() + "keycard-cli-\(lab)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var lines = [
            "apiVersion: keycard/v1", "kind: Scenario", "metadata:", "  name: \(lab)", "spec:",
            "  lab: {nodes: \(nodes)\(settings.isEmpty ? "" : ", " + settings)}", "  resources:",
        ]
        for namespace in Set(pods.map(\.0)).sorted() {
            lines.append("    - {apiVersion: v1, kind: Namespace, metadata: {name: \(namespace), labels: {ns: \(namespace)}}}")
        }
        for (namespace, name) in pods {
            lines.append(
                "    - {apiVersion: v1, kind: Pod, metadata: {name: \(name), namespace: \(namespace), labels: {pod: \(name)}}, "
                    + "spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}}")
        }
        lines += extra
        lines.append("  steps: []")
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
    }

    /// Writes `text` as `name` in the scenario's folder and returns its path.
    func write(_ name: String, _ text: String) throws -> String {
        let path = "\(folder)/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Tears the lab down (through the CLI) and removes the folder.
    func cleanUp() {
        _ = try? KeycardCLI.run(["down", lab])
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// A NetworkPolicy isolating pods labelled pod=`target` in `namespace` for ingress.
    static func denyIngress(_ namespace: String, podLabel target: String?) -> String {
        let selector = target.map { "{matchLabels: {pod: \($0)}}" } ?? "{}"
        return """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny-in, namespace: \(namespace)}
            spec:
              podSelector: \(selector)
              policyTypes: [Ingress]

            """
    }
}

/// Reads the line a served TCP port writes, from a socket created inside `netns` (checked to be
/// there before it connects: a host socket would leave the machine).
func readServedLine(from netns: String, to address: String, port: UInt16) throws -> String? {
    let expected = try #require(NetworkNamespace.inode(of: netns))
    let target = try #require(IPv4(address))
    let fd = try NetworkNamespace.perform(in: netns) { socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
    guard fd >= 0 else { throw KernelError("socket", subject: netns, errno: errno) }
    defer { close(fd) }
    guard try NetworkNamespace.inode(ofSocket: fd) == expected, expected != NetworkNamespace.hostInode() else {
        throw KernelError("socket namespace check", subject: netns, errno: EPERM)
    }
    var timeout = timeval(tv_sec: 2, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var sin = TCPCheck.socketAddress(target, port)
    let rc = withUnsafePointer(to: &sin) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard rc == 0 else { return nil }
    var buffer = [UInt8](repeating: 0, count: 256)
    let count = read(fd, &buffer, buffer.count)
    guard count > 0 else { return nil }
    return String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// keycard's tables in `netns`, through `nft -j list tables` run inside it (a witness).
func keycardTables(in netns: String) throws -> [String] {
    let output = try runWitness(["ip", "netns", "exec", netns, "nft", "-j", "list", "tables"])
    let document = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
    let entries = document?["nftables"] as? [[String: Any]] ?? []
    return entries.compactMap { ($0["table"] as? [String: Any])?["name"] as? String }.filter { $0.hasPrefix("kc-") }
}

/// Pids of running `keycard serve LAB` processes (from /proc/PID/cmdline).
func servePids(_ lab: String) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { pid in
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let argv = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return argv.count >= 3 && argv[1] == "serve" && argv[2] == lab
    }
}

/// A library scenario copied into a fresh folder under a unique lab name, for `keycard up`:
/// `metadata.name: <name>` becomes the lab's name. `cleanUp()` takes the lab down and removes the folder.
struct LibraryScenarioCopy {
    let lab: String
    let folder: String
    let file: String

    /// - Parameters: `path` relative to the repository, `name` its `metadata.name`, `stem` the lab name's prefix.
    init(_ path: String, name: String, stem: String) throws {
        lab = uniqueLabName(stem)
        folder = NSTemporaryDirectory() + "keycard-cli-\(lab)"
        file = folder + "/scenario.yaml"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let original = try String(contentsOfFile: RepositoryFiles.absolute(path), encoding: .utf8)
        try original.replacingOccurrences(of: "name: \(name)", with: "name: \(lab)").write(toFile: file, atomically: true, encoding: .utf8)
    }

    func cleanUp() {
        _ = try? KeycardCLI.run(["down", lab])
        try? FileManager.default.removeItem(atPath: folder)
    }
}
