import Foundation
import KeycardCompiler

// keycard-bench-controller: (a) one change (relabel, policy add, policy delete) with 100, 1,000 and
// 10,000 policies in place, compile and kernel time apart, and all of them from nothing; (b) new TCP
// connections per second across a veth with 10 vs 10,000 policies in the server's ingress, both
// placements; (c) new TCP connections per second through a Service ClusterIP (nftables DNAT)
// with 1,000 Services vs 10; (d) with 1,000 Admin-tier ClusterNetworkPolicy rules vs 10. Usage:
// keycard-bench-controller [change-rounds] [rate-rounds] [rate-seconds] (root; release build;
// defaults 20 5 2), or keycard-bench-controller services|tiers [rounds] [seconds] for (c) or (d) alone;
// (e) a wide rule (140 ipBlocks × 140 ports) changed by one block, incremental vs from nothing
// (keycard-bench-controller wide [rounds] alone).

let arguments = CommandLine.arguments.dropFirst()
let changeRounds = arguments.first.flatMap(Int.init) ?? 20
let rateRounds = arguments.dropFirst().first.flatMap(Int.init) ?? 5
let rateSeconds = arguments.dropFirst(2).first.flatMap(Double.init) ?? 2

/// (c) new connections through a ClusterIP with 1,000 Services vs 10 (`services` as the first
/// argument runs only this part: keycard-bench-controller services [rounds] [seconds]).
func serviceRates(rounds: Int, seconds: Double) throws {
    say("\n(c) new TCP connections/s A -> ClusterIP -> B (DNAT in A's nat output, kube-proxy layout);")
    say("    median of \(rounds) rounds of \(seconds) s, configurations interleaved")
    let results = try ServiceRateBench(counts: [10, 1_000], rounds: rounds, duration: seconds).run()
    for result in results {
        say(
            String(
                format: "%6d Services (%5d chains): %9.0f conn/s  (%d failed connects)", result.count, result.chains, result.rate,
                result.failures))
    }
    if let ten = results.first(where: { $0.count == 10 }), let many = results.first(where: { $0.count == 1_000 }) {
        let ratio = many.rate / ten.rate
        say(String(format: "ratio 1,000 / 10 Services: %.1f %%  (goal ≥ 90 %%: %@)", ratio * 100, ratio >= 0.9 ? "met" : "MISSED"))
    }
}

/// (d) new connections with 1,000 Admin-tier rules vs 10 (`tiers` as the first argument runs
/// only this part: keycard-bench-controller tiers [rounds] [seconds]).
func tierRates(rounds: Int, seconds: Double) throws {
    say("\n(d) new TCP connections/s A -> B, B ingress behind N Admin-tier ClusterNetworkPolicy rules (pod layout),")
    say("    the client's Accept last; median of \(rounds) rounds of \(seconds) s, configurations interleaved")
    let results = try TierRateBench(counts: [10, 1_000], rounds: rounds, duration: seconds).run()
    for result in results {
        say(
            String(
                format: "%6d Admin rules (%5d rules, %5d sets): %9.0f conn/s  (%d failed connects)", result.count, result.rules,
                result.sets, result.rate, result.failures))
    }
    if let ten = results.first(where: { $0.count == 10 }), let many = results.first(where: { $0.count == 1_000 }) {
        say(String(format: "ratio 1,000 / 10 Admin rules: %.1f %%", many.rate / ten.rate * 100))
    }
}

/// (e) a rule of 140 ipBlocks × 140 ports changed by one block: the incremental update against
/// compiling from nothing (`wide` as the first argument runs only this part).
func wideRule(rounds: Int) {
    say(
        "\n(e) one ipBlock added to a rule of 140 ipBlocks × 140 ports: incremental update vs compile from nothing; median of \(rounds) rounds"
    )
    for placement in Placement.allCases {
        let figures = WideRuleBench(blocks: 140, ports: 140, rounds: rounds).run(placement: placement)
        let ratio = figures.update / figures.fromNothing
        say(
            placement.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0), "update", ms(figures.update), " from nothing",
            ms(figures.fromNothing), String(format: "  ratio %.2f (goal ≤ 1.5: %@)", ratio, ratio <= 1.5 ? "met" : "MISSED"))
    }
}

if arguments.first == "wide" {
    wideRule(rounds: arguments.dropFirst().first.flatMap(Int.init) ?? 5)
    exit(0)
}

if arguments.first == "tiers" {
    do {
        let rest = arguments.dropFirst()
        try tierRates(rounds: rest.first.flatMap(Int.init) ?? 5, seconds: rest.dropFirst().first.flatMap(Double.init) ?? 2)
        exit(0)
    } catch {
        say("keycard-bench-controller failed: \(error)")
        exit(1)
    }
}

if arguments.first == "services" {
    do {
        let rest = arguments.dropFirst()
        try serviceRates(rounds: rest.first.flatMap(Int.init) ?? 5, seconds: rest.dropFirst().first.flatMap(Double.init) ?? 2)
        exit(0)
    } catch {
        say("keycard-bench-controller failed: \(error)")
        exit(1)
    }
}

do {
    say("keycard-bench-controller (lab \(benchLab))")
    say("(a) one change with N policies in place, median of \(changeRounds) rounds; and N policies from nothing")
    say(
        "placement  policies  change             compile     kernel      total     sendmsg   messages  bytes     kinds                       goal      (object diff)"
    )
    for placement in Placement.allCases {
        var atHundred: [String: Double] = [:]
        for count in [100, 1_000, 10_000] {
            for figures in try ChangeBench(placement: placement, rounds: changeRounds, policyCount: count).run() {
                let total = figures.compile + figures.kernel
                if count == 100 { atHundred[figures.label] = total }
                let ratio = atHundred[figures.label].map { String(format: " x%.1f of 100", total / $0) } ?? ""
                let goal = figures.label == "all from nothing" ? 1.0 : 0.010
                say(
                    placement.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0), String(format: "%8d ", count),
                    figures.label.padding(toLength: 18, withPad: " ", startingAt: 0), ms(figures.compile), ms(figures.kernel), ms(total),
                    ms(figures.send), String(format: "%8d %8d ", figures.messages, figures.bytes),
                    figures.kinds.joined(separator: ",").padding(toLength: 27, withPad: " ", startingAt: 0),
                    (total <= goal ? "met " : "MISSED ") + (goal == 1.0 ? "≤ 1 s   " : "≤ 10 ms "), ms(figures.diff), ratio)
            }
        }
    }

    for placement in Placement.allCases {
        say("\n(b) new TCP connections/s A -> B across a veth, B ingress, \(placement.rawValue) layout;")
        say("    median of \(rateRounds) rounds of \(rateSeconds) s, configurations interleaved")
        let results = try RateBench(placement: placement, counts: [0, 10, 10_000], rounds: rateRounds, duration: rateSeconds).run()
        for result in results {
            say(
                String(
                    format: "%6d policies (%5d rules, %5d sets): %9.0f conn/s  (%d failed connects)",
                    result.count, result.rules, result.sets, result.rate, result.failures))
        }
        if let ten = results.first(where: { $0.count == 10 }), let many = results.first(where: { $0.count == 10_000 }) {
            let ratio = many.rate / ten.rate
            say(
                String(
                    format: "%@: ratio 10,000 / 10 policies: %.1f %%  (goal ≥ 90 %%: %@)", placement.rawValue, ratio * 100,
                    ratio >= 0.9 ? "met" : "MISSED"))
        }
    }
    try serviceRates(rounds: rateRounds, seconds: rateSeconds)
    wideRule(rounds: changeRounds)
} catch {
    say("keycard-bench-controller failed: \(error)")
    exit(1)
}
