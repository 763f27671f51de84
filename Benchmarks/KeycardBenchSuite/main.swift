import Foundation
import Glibc

// keycard run over many scenarios (root, release): 48 upstream-style cases of the 9-pod model in
// one `keycard run`, with the lab shared and with KEYCARD_LAB_REUSE=0; then one generated scenario
// with PODS pods and a full matrix on TCP/80 (PODS² probe cells): wall time, peak RSS, peak open
// descriptors. Usage: KeycardBenchSuite [CASES [PODS]]   (48 and 1000 by default; PODS 0 skips it)

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let cases = arguments.first ?? 48
let pods = arguments.dropFirst().first ?? 1000
let keycard = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("keycard").path
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kc-bench-suite-\(getpid())")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)

/// The 9-pod model (namespaces x, y, z; pods a, b, c serving TCP and UDP 80 and 81) and one policy.
func ninePodCase(_ index: Int) -> String {
    let namespaces = ["x", "y", "z"]
    let names = ["a", "b", "c"]
    var text = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: case-\(index)}
        spec:
          resources:

        """
    for namespace in namespaces {
        text += "    - {apiVersion: v1, kind: Namespace, metadata: {name: \(namespace), labels: {ns: \(namespace)}}}\n"
        for name in names {
            text +=
                "    - {apiVersion: v1, kind: Pod, metadata: {name: \(name), namespace: \(namespace), labels: {pod: \(name)}}, "
                + "spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}, {containerPort: 81}, "
                + "{containerPort: 80, protocol: UDP}, {containerPort: 81, protocol: UDP}]}]}}\n"
        }
    }
    let namespace = namespaces[index % 3]
    let target = names[(index / 3) % 3]
    let source = names[(index / 9) % 3]
    let port = 80 + index % 2
    switch index % 4 {
    case 0:
        text +=
            "    - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny, namespace: \(namespace)}, "
            + "spec: {podSelector: {matchLabels: {pod: \(target)}}, policyTypes: [Ingress]}}\n"
    case 1:
        text +=
            "    - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: from-pod, namespace: \(namespace)}, "
            + "spec: {podSelector: {matchLabels: {pod: \(target)}}, ingress: [{from: [{podSelector: {matchLabels: {pod: \(source)}}}], ports: [{port: \(port)}]}]}}\n"
    case 2:
        text +=
            "    - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: from-ns, namespace: \(namespace)}, "
            + "spec: {podSelector: {}, ingress: [{from: [{namespaceSelector: {matchLabels: {ns: \(namespaces[(index / 3) % 3])}}}]}]}}\n"
    default:
        text +=
            "    - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: egress, namespace: \(namespace)}, "
            + "spec: {podSelector: {matchLabels: {pod: \(source)}}, policyTypes: [Egress], egress: [{ports: [{port: \(port)}]}]}}\n"
    }
    let all = namespaces.flatMap { namespace in names.map { "\(namespace)/\($0)" } }.joined(separator: ", ")
    text += "  steps:\n    - probe: {from: [\(all)], ports: [TCP/80, TCP/81, UDP/80]}\n"
    return text
}

/// PODS pods over 10 namespaces on 4 nodes; half the namespaces admit only their own pods.
func scaleScenario(_ pods: Int) -> String {
    var text = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: bench-scale}
        spec:
          lab: {nodes: 4}
          resources:

        """
    for namespace in 0..<10 { text += "    - {apiVersion: v1, kind: Namespace, metadata: {name: ns\(namespace)}}\n" }
    for namespace in stride(from: 1, to: 10, by: 2) {
        text +=
            "    - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: own, namespace: ns\(namespace)}, "
            + "spec: {podSelector: {}, ingress: [{from: [{podSelector: {}}]}]}}\n"
    }
    var names: [String] = []
    for index in 0..<pods {
        names.append("ns\(index % 10)/p\(index)")
        text +=
            "    - {apiVersion: v1, kind: Pod, metadata: {name: p\(index), namespace: ns\(index % 10)}, "
            + "spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}\n"
    }
    text += "  steps:\n    - probe: {from: [\(names.joined(separator: ", "))], ports: [TCP/80]}\n"
    return text
}

struct Outcome {
    var status: Int32
    var wall: Double
    var peakDescriptors: Int
    var stdout: String
    var stderr: String
}

/// Runs keycard with `arguments`, sampling its open descriptors every 10 ms.
func runKeycard(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: keycard)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = folder.appendingPathComponent("stdout-\(UUID().uuidString)")
    let err = folder.appendingPathComponent("stderr-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    let start = Date()
    try process.run()
    var peak = 0
    while process.isRunning {
        if let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.processIdentifier)/fd") {
            peak = max(peak, fds.count)
        }
        usleep(10_000)
    }
    process.waitUntilExit()
    let wall = Date().timeIntervalSince(start)
    return Outcome(
        status: process.terminationStatus, wall: wall, peakDescriptors: peak,
        stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "", stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
}

var status: Int32 = 0
if cases > 0 {
    var files: [String] = []
    for index in 0..<cases {
        let path = folder.appendingPathComponent(String(format: "case-%02d.yaml", index)).path
        try ninePodCase(index).write(toFile: path, atomically: true, encoding: .utf8)
        files.append(path)
    }
    let shared = try runKeycard(["run", "-o", "junit"] + files)
    let rebuilt = try runKeycard(["run", "-o", "junit"] + files, environment: ["KEYCARD_LAB_REUSE": "0"])
    print(
        "suite: \(cases) cases of the 9-pod model in one keycard run: shared lab \(String(format: "%.2f", shared.wall)) s "
            + "(exit \(shared.status)), one lab per case \(String(format: "%.2f", rebuilt.wall)) s (exit \(rebuilt.status)), "
            + "ratio \(String(format: "%.1f", rebuilt.wall / shared.wall))x")
    for outcome in [shared, rebuilt] where outcome.status != 0 {
        print(outcome.stderr.suffix(2000))
        status = 1
    }
}
if pods > 0 {
    let path = folder.appendingPathComponent("scale.yaml").path
    try scaleScenario(pods).write(toFile: path, atomically: true, encoding: .utf8)
    let outcome = try runKeycard(["run", "-o", "junit", path])
    var usage = rusage()
    getrusage(RUSAGE_CHILDREN.rawValue, &usage)
    print(
        "scale: \(pods) pods, \(pods * pods) probe cells on TCP/80: exit \(outcome.status), wall \(String(format: "%.1f", outcome.wall)) s, "
            + "peak RSS (largest child) \(usage.ru_maxrss / 1024) MiB, peak open descriptors \(outcome.peakDescriptors)")
    if outcome.status != 0 {
        print(outcome.stderr.suffix(3000))
        status = 1
    }
}
try? FileManager.default.removeItem(at: folder)
exit(status)
