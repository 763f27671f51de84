// Bring-up / tear-down benchmark of a lab: `KeycardBenchLab [pods] [nodes] [runs] [threads]`
// (defaults 100 2 3 2). Run as root; see scripts/bench-lab.
import Foundation
import KeycardLab
import KeycardTopology

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let podCount = arguments.count > 0 ? arguments[0] : 100
let nodeCount = arguments.count > 1 ? arguments[1] : 2
let runs = arguments.count > 2 ? arguments[2] : 3
let threads = arguments.count > 3 ? arguments[3] : Lab.defaultThreads

func format(_ seconds: Double) -> String { String(format: "%8.1f ms", seconds * 1000) }

let ports: [ServedPort] = [.init(.tcp, 80), .init(.udp, 80)]
let pods = (0..<podCount).map { PodSpec(namespace: "ns\($0 % 10)", name: "pod\($0)", ports: ports) }
print("lab bench: \(podCount) pods on \(nodeCount) nodes, \(threads) threads, \(runs) runs")
var failed = false
for run in 1...runs {
    let name = "bench-\(getpid())-\(run)"
    let clock = ContinuousClock()
    do {
        var start = clock.now
        let lab = try Lab.up(spec: LabSpec(labName: name, nodes: nodeCount, pods: pods), threads: threads)
        let up = clock.now - start
        start = clock.now
        let downTimings = try Lab.down(name: name)
        let down = clock.now - start
        let seconds: (Duration) -> Double = { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 }
        print(
            "run \(run): up \(format(seconds(up)))  down \(format(seconds(down)))  (\(lab.plan.namespaces.count) namespaces, \(lab.plan.links.count) veth pairs)"
        )
        for timing in lab.timings + downTimings {
            print("    \(timing.stage.padding(toLength: 28, withPad: " ", startingAt: 0)) \(format(timing.seconds))")
        }
        if !Lab.namespaces(of: name).isEmpty { print("LEFTOVER namespaces after run \(run)"); failed = true }
    } catch {
        print("run \(run) failed: \(error)")
        _ = try? Lab.down(name: name)
        failed = true
    }
}
exit(failed ? 1 : 0)
