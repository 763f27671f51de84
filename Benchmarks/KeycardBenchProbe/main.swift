import Foundation
import KeycardProbe
import KeycardScenario

// keycard-bench-probe [pod|node]... — root, release build. Wall time of ScenarioRun probe steps: the 9-pod
// model with TCP/80, TCP/81, UDP/80, UDP/81 (324 probes) all-allow then all-deny, and 50 pods x 50 x
// TCP/80 + UDP/80 (5,000 probes) for a rate; each with and without drop evidence (NFLOG), default probe
// settings (timeout 250 ms, 1 retry). Each probe step runs 3 times; every step must pass (model == kernel).

struct Model {
    let name: String
    let namespaces: [String]
    let podsPerNamespace: Int
    let ports: [String]

    var pods: Int { namespaces.count * podsPerNamespace }
    var probesPerStep: Int { pods * pods * ports.count }

    /// Three all-allow probe steps, a deny-all-ingress policy per namespace, three all-deny steps, delete.
    var yaml: String {
        var lines = [
            "apiVersion: keycard/v1", "kind: Scenario", "metadata: {name: \(name)}", "spec:", "  resources:",
        ]
        let containerPorts = ports.map { port -> String in
            let parts = port.split(separator: "/")
            return "{containerPort: \(parts[1]), protocol: \(parts[0])}"
        }.joined(separator: ", ")
        for namespace in namespaces {
            lines.append("    - {apiVersion: v1, kind: Namespace, metadata: {name: \(namespace)}}")
            for pod in 0..<podsPerNamespace {
                lines.append(
                    "    - {apiVersion: v1, kind: Pod, metadata: {name: p\(pod), namespace: \(namespace), labels: {pod: p\(pod)}}, "
                        + "spec: {containers: [{name: c, image: i, ports: [\(containerPorts)]}]}}")
            }
        }
        let probe = "      probe: {ports: [\(ports.joined(separator: ", "))]}"
        lines.append("  steps:")
        for run in 1...3 { lines += ["    - name: all-allow \(run)", probe] }
        lines.append("    - apply:")
        for namespace in namespaces {
            lines.append(
                "        - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny-in, namespace: \(namespace)}, "
                    + "spec: {podSelector: {}, policyTypes: [Ingress]}}")
        }
        for run in 1...3 { lines += ["    - name: all-deny \(run)", probe] }
        lines.append("    - delete:")
        for namespace in namespaces { lines.append("        - {kind: NetworkPolicy, namespace: \(namespace), name: deny-in}") }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Runs the model's scenario; the wall time of each probe step (from its progress line to the next one).
func measure(_ model: Model, _ enforcement: Enforcement, evidence: Bool) throws -> [(name: String, ms: Double, passed: Bool)] {
    let path = NSTemporaryDirectory() + "\(model.name).yaml"
    try model.yaml.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let timeline = try ScenarioLoader.timeline(path)
    let lab = "kcb\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
    let run = ScenarioRun(timeline: timeline, options: .init(enforcement: enforcement, labName: lab, dropEvidence: evidence))
    let clock = ContinuousClock()
    nonisolated(unsafe) var marks: [(line: String, at: ContinuousClock.Instant)] = []
    run.progress = { line in marks.append((line, clock.now)) }
    let report = try run.execute()
    let steps = marks.enumerated().filter { $0.element.line.hasPrefix("step ") }
    var results: [(String, Double, Bool)] = []
    for (position, (offset, mark)) in steps.enumerated() where mark.line.contains(" probe") {
        guard position + 1 < steps.count else { continue }
        let elapsed = steps[position + 1].element.at - mark.at
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        let index = Int(mark.line.dropFirst(5).prefix { $0 != "/" }) ?? 0
        let step = report.steps.first { $0.index == index }
        let passed = step?.passed ?? false
        if !passed {
            // What went wrong, for the record: the step's summary and its failing cells.
            print("FAILED step \(index): \(step?.summary ?? "no report")")
            for case .probe(let cell) in step?.results ?? [] where !cell.passed { print("  \(cell)") }
        }
        results.append((String(mark.line.split(separator: ":").last ?? "").trimmingCharacters(in: .whitespaces), ms, passed))
        _ = offset
    }
    return results
}

func format(_ ms: Double) -> String { String(format: "%.1f", ms) }

let placements = CommandLine.arguments.dropFirst().compactMap(Enforcement.init(rawValue:))
let nine = Model(name: "bench-nine", namespaces: ["x", "y", "z"], podsPerNamespace: 3, ports: ["TCP/80", "TCP/81", "UDP/80", "UDP/81"])
let fifty = Model(name: "bench-fifty", namespaces: ["n0", "n1", "n2", "n3", "n4"], podsPerNamespace: 10, ports: ["TCP/80", "UDP/80"])
for enforcement in placements.isEmpty ? [.pod, .node] : placements {
    for evidence in [true, false] {
        for model in [nine, fifty] {
            let steps = try measure(model, enforcement, evidence: evidence)
            let label =
                "\(model.pods) pods, \(model.probesPerStep) probes/step, \(enforcement) placement, evidence \(evidence ? "on" : "off")"
            for step in steps {
                let rate = Double(model.probesPerStep) / (step.ms / 1000)
                print("BENCH \(label): \(step.name) \(format(step.ms)) ms (\(Int(rate)) probes/s) \(step.passed ? "passed" : "FAILED")")
            }
        }
    }
}
