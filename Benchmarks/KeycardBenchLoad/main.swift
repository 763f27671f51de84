import Foundation
import KeycardModel
import KeycardScenario
import KeycardTestSupport
import Yams

// keycard-bench-load [COUNT [REPLICAS]] — release build, no root. Loads a `kubectl get netpol -A -o yaml` dump of
// COUNT NetworkPolicies (default 10,000) the way `keycard check` does, and compares it with the
// baseline measured in the same run: Yams composing the same text, the YAML parse every loader needs.
// Prints the best of 3 runs of each and the ratio load / parse. Then `ServiceCells`: the model of
// REPLICAS (default 150) pods probed through one Service against the same count of pod cells.

let count = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 10_000
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-bench-load-\(getpid())")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: folder) }
let dump = PolicyDump.list(count: count)
try dump.write(to: folder.appendingPathComponent("dump.yaml"), atomically: true, encoding: .utf8)
let scenarioPath = folder.appendingPathComponent("scenario.yaml").path
try PolicyDump.scenario(dumpFile: "dump.yaml").write(toFile: scenarioPath, atomically: true, encoding: .utf8)

func best(_ runs: Int, _ body: () throws -> Void) rethrows -> Double {
    var times: [Double] = []
    for _ in 0..<runs {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        times.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
    return times.min() ?? 0
}

print("dump: \(count) NetworkPolicies, \(dump.utf8.count / 1024) KiB of YAML")
var nodes = 0
let parse = try best(3) {
    nodes = 0
    for node in try Yams.compose_all(yaml: dump) {
        var stack = [node]
        while let next = stack.popLast() {
            nodes += 1
            switch next {
            case .mapping(let mapping): for (key, value) in mapping { stack.append(key); stack.append(value) }
            case .sequence(let sequence): stack.append(contentsOf: sequence)
            default: break
            }
        }
    }
}
var policies = 0
let load = try best(3) {
    let timeline = try ScenarioLoader.timeline(scenarioPath)
    policies = timeline.initial.policies.count
}
guard policies == count else {
    print("FAIL: loaded \(policies) policies, expected \(count)")
    exit(1)
}
print("baseline  Yams compose + walk: \(String(format: "%.2f", parse)) s (\(nodes) nodes)")
print("keycard   load + validate + model timeline: \(String(format: "%.2f", load)) s")
print("ratio     load / parse: \(String(format: "%.2f", load / parse))")
print()
try ServiceCells.run(replicas: CommandLine.arguments.dropFirst(2).first.flatMap { Int($0) } ?? 150, best: best)
