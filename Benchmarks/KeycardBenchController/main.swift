import Foundation
import KeycardCompiler

// keycard-bench-controller: (a) one policy change with 1,000 policies in place, compile and kernel
// time apart; (b) new TCP connections per second across a veth with 10 vs 10,000 policies in the
// server's ingress. Usage: keycard-bench-controller [change-rounds] [rate-rounds] [rate-seconds]
// (root; release build; defaults 20 5 2).

let arguments = CommandLine.arguments.dropFirst()
let changeRounds = arguments.first.flatMap(Int.init) ?? 20
let rateRounds = arguments.dropFirst().first.flatMap(Int.init) ?? 5
let rateSeconds = arguments.dropFirst(2).first.flatMap(Double.init) ?? 2

do {
    say("keycard-bench-controller (lab \(benchLab))")
    say("(a) one policy change with 1,000 policies in place, median of \(changeRounds) rounds")
    say(
        "placement  change            compile     kernel      total     sendmsg   messages  bytes     kinds                       goal ≤ 10 ms"
    )
    for placement in Placement.allCases {
        for figures in try ChangeBench(placement: placement, rounds: changeRounds).run() {
            let total = figures.compile + figures.kernel
            say(
                placement.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0),
                figures.label.padding(toLength: 16, withPad: " ", startingAt: 0), ms(figures.compile), ms(figures.kernel), ms(total),
                ms(figures.send), String(format: "%8d %8d ", figures.messages, figures.bytes),
                figures.kinds.joined(separator: ",").padding(toLength: 27, withPad: " ", startingAt: 0),
                total <= 0.010 ? "met" : "MISSED")
        }
    }

    say("\n(b) new TCP connections/s A -> B across a veth, B ingress in pod placement, allowing rule last;")
    say("    median of \(rateRounds) rounds of \(rateSeconds) s, configurations interleaved")
    let results = try RateBench(counts: [0, 10, 10_000], rounds: rateRounds, duration: rateSeconds).run()
    for result in results {
        say(
            String(
                format: "%6d policies (%5d rules, %5d sets): %9.0f conn/s  (%d failed connects)",
                result.count, result.rules, result.sets, result.rate, result.failures))
    }
    if let ten = results.first(where: { $0.count == 10 }), let many = results.first(where: { $0.count == 10_000 }) {
        let ratio = many.rate / ten.rate
        say(String(format: "ratio 10,000 / 10 policies: %.1f %%  (goal ≥ 90 %%: %@)", ratio * 100, ratio >= 0.9 ? "met" : "MISSED"))
    }
} catch {
    say("keycard-bench-controller failed: \(error)")
    exit(1)
}
