import Foundation
import KeycardKernel
import KeycardRuleset

// keycard-bench-nft: the netlink path vs `nft -f` of the same text, same run, throwaway namespace.
// Usage: keycard-bench-nft [rounds]   (root; build with -c release)

let rounds = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 5
let namespace = "kc-nftbench\(String(UInt32.random(in: 0...UInt32.max), radix: 16)).node0"

func ms(_ value: Double) -> String { String(format: "%8.2f ms", value * 1000) }

do {
    try NetworkNamespace.create(namespace)
    defer { try? NetworkNamespace.delete(namespace) }
    let bench = Bench(namespace: namespace, programmer: try NftablesProgrammer(namespace: namespace), rounds: rounds)
    print("keycard-bench-nft: median of \(rounds) rounds, namespace \(namespace)")
    print("case                     netlink        nft -f    speed-up  kernel share  goal")
    for (label, table, goal) in [
        ("1,000 rules", BenchTables.rules(1_000), 2.0),
        ("10,000 rules", BenchTables.rules(10_000), 1.5),
        ("10,000 set elements", BenchTables.elements(10_000), 2.0),
    ] {
        let figures = try bench.compare(table)
        let ratio = figures.nftMedian / figures.netlinkMedian
        print(
            label.padding(toLength: 20, withPad: " ", startingAt: 0), ms(figures.netlinkMedian), ms(figures.nftMedian),
            String(format: "%8.2fx", ratio), String(format: "%10.0f%%", figures.kernelShare * 100),
            String(format: "  ≥ %.1fx %@", goal, ratio >= goal ? "met" : "MISSED"))
    }
    let before = BenchTables.policies(1_000)
    let after = BenchTables.policies(1_000, extraPeer: BenchTables.ip(10, 250, 0, 1))
    let change = try bench.elementChange(before, after)
    let rules = before.chains.map(\.rules.count).reduce(0, +)
    print(
        "element-only change with 1,000 policies (\(rules) rules, \(before.sets.count) sets) in place:", ms(change.median),
        "messages:", change.kinds.map(\.rawValue).sorted(), change.median <= 0.010 ? "(goal ≤ 10 ms met)" : "(goal ≤ 10 ms MISSED)")
} catch {
    print("keycard-bench-nft failed: \(error)")
    exit(1)
}
