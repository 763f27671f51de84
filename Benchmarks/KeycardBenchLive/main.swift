import Foundation
import Glibc
import KeycardLab

// keycard-bench-live: the whole `keycard apply LAB -f ONE-POLICY.yaml` command, wall time, on a live
// lab with a small and a large number of policies in place (a lab from `keycard up`, 4 pods in one
// namespace): first handed to the lab process (which keeps the compiled state), then, with the lab
// process stopped, made by the verb itself (it reloads the scenario and the journal and recompiles
// everything: the path of every live verb before the lab process took changes). Medians of
// `rounds` commands, and the large/small ratio of each (goal for the lab process: ≤ 2).
// Usage: keycard-bench-live [rounds] [small] [large]   (root; release build; defaults 7 100 1000;
// runs the `keycard` built beside it).

let arguments = CommandLine.arguments.dropFirst()
let rounds = max(1, arguments.first.flatMap(Int.init) ?? 7)
let small = arguments.dropFirst().first.flatMap(Int.init) ?? 100
let large = arguments.dropFirst(2).first.flatMap(Int.init) ?? 1_000
let keycard = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("keycard")
    .path

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
}

/// Runs keycard to completion in `folder`, output discarded; returns the wall time in seconds.
/// posix_spawn and waitpid, not Foundation's Process, whose wait adds tens of milliseconds.
@discardableResult
func keycardCommand(_ arguments: [String], in folder: String) throws -> Double {
    guard FileManager.default.changeCurrentDirectoryPath(folder) else { throw BenchFailure(description: "cannot enter \(folder)") }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var argv: [UnsafeMutablePointer<CChar>?] = ([keycard] + arguments).map { strdup($0) }
    argv.append(nil)
    defer { for pointer in argv { free(pointer) } }
    let clock = ContinuousClock()
    let start = clock.now
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, keycard, &actions, nil, argv, environ)
    guard rc == 0 else { throw BenchFailure(description: "posix_spawn \(keycard): errno \(rc)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let elapsed = clock.now - start
    guard status == 0 else {
        throw BenchFailure(description: "keycard \(arguments.joined(separator: " ")) failed (wait status \(status))")
    }
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// A scenario with 4 pods and `count` ingress policies, each selecting one pod and allowing one
/// other pod on its own port; and `rounds` + 1 one-policy files to apply.
func writeLab(_ lab: String, policies count: Int, in folder: String) throws {
    var lines = [
        "apiVersion: keycard/v1", "kind: Scenario", "metadata:", "  name: \(lab)", "spec:", "  lab: {nodes: 1}", "  resources:",
        "    - {apiVersion: v1, kind: Namespace, metadata: {name: x}}",
    ]
    for pod in 0..<4 {
        lines.append(
            "    - {apiVersion: v1, kind: Pod, metadata: {name: p\(pod), namespace: x, labels: {pod: p\(pod)}}, "
                + "spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}}")
    }
    for index in 0..<count { lines.append("    - " + policy("np\(index)", selects: index % 4, from: (index + 1) % 4, port: 1_000 + index)) }
    lines.append("  steps: []")
    try (lines.joined(separator: "\n") + "\n").write(toFile: "\(folder)/scenario.yaml", atomically: true, encoding: .utf8)
    for round in 0...(2 * rounds + 1) {
        try (policy("added\(round)", selects: 0, from: 1, port: 30_000 + round) + "\n")
            .write(toFile: "\(folder)/add\(round).yaml", atomically: true, encoding: .utf8)
    }
}

func policy(_ name: String, selects target: Int, from peer: Int, port: Int) -> String {
    "{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: \(name), namespace: x}, spec: "
        + "{podSelector: {matchLabels: {pod: p\(target)}}, ingress: [{from: [{podSelector: {matchLabels: {pod: p\(peer)}}}], ports: [{port: \(port)}]}]}}"
}

/// (through the lab process, made by the verb itself) medians for `count` policies in place.
func measure(policies count: Int) throws -> (labProcess: Double, inProcess: Double) {
    let lab = "kcbl\(count)x\(getpid() % 10_000)"
    let folder = NSTemporaryDirectory() + "keycard-bench-live-\(lab)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer {
        _ = try? keycardCommand(["down", lab], in: folder)
        try? FileManager.default.removeItem(atPath: folder)
    }
    try writeLab(lab, policies: count, in: folder)
    try keycardCommand(["up", "scenario.yaml"], in: folder)
    // The first change waits for the lab process to have loaded the lab (it holds the lock meanwhile).
    try keycardCommand(["apply", lab, "-f", "add0.yaml"], in: folder)
    var through: [Double] = []
    for round in 1...rounds { through.append(try keycardCommand(["apply", lab, "-f", "add\(round).yaml"], in: folder)) }
    guard let server = try LabState.read(lab)?.server else { throw BenchFailure(description: "lab \(lab) has no lab process") }
    kill(server.pid, SIGTERM)
    while kill(server.pid, 0) == 0 { usleep(5_000) }
    var itself: [Double] = []
    for round in (rounds + 1)...(2 * rounds) {
        itself.append(try keycardCommand(["apply", lab, "-f", "add\(round).yaml"], in: folder))
    }
    return (median(through), median(itself))
}

func ms(_ seconds: Double) -> String { String(format: "%8.1f ms", seconds * 1000) }

do {
    print("keycard-bench-live: whole `keycard apply` of one policy, wall time, median of \(rounds) commands")
    print("policies in place   through the lab process   made by the verb itself (before)")
    let smallFigures = try measure(policies: small)
    print(String(format: "%17d   ", small) + ms(smallFigures.labProcess) + "               " + ms(smallFigures.inProcess))
    let largeFigures = try measure(policies: large)
    print(String(format: "%17d   ", large) + ms(largeFigures.labProcess) + "               " + ms(largeFigures.inProcess))
    let ratio = largeFigures.labProcess / smallFigures.labProcess
    print(
        String(
            format: "ratio %d/%d:        %.2f× (goal ≤ 2×: %@)           %.2f×", large, small, ratio, ratio <= 2 ? "met" : "NOT met",
            largeFigures.inProcess / smallFigures.inProcess))
} catch {
    FileHandle.standardError.write(Data("keycard-bench-live: \(error)\n".utf8))
    exit(1)
}
