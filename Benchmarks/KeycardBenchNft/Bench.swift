import Foundation
import KeycardKernel
import KeycardRuleset

/// Times the netlink path against `nft -f` of the same text, both into a throwaway namespace.
struct Bench {
    let namespace: String
    let programmer: NftablesProgrammer
    let rounds: Int

    struct Figures {
        var netlinkMedian: Double
        var kernelShare: Double
        var nftMedian: Double
    }

    /// Median seconds of programming `table` from nothing, each way; the table is removed between rounds.
    func compare(_ table: Table) throws -> Figures {
        var netlink: [Double] = []
        var shares: [Double] = []
        var nft: [Double] = []
        let text = table.nftText()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(namespace).nft")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        for _ in 0..<rounds {
            let start = ContinuousClock.now
            let report = try programmer.apply(old: nil, new: table)
            netlink.append(seconds(ContinuousClock.now - start))
            if let report { shares.append(report.sendSeconds / max(report.totalSeconds, 1e-9)) }
            try programmer.remove(table)

            let nftStart = ContinuousClock.now
            let status = try run(["ip", "netns", "exec", namespace, "nft", "-f", file.path])
            nft.append(seconds(ContinuousClock.now - nftStart))
            guard status == 0 else { throw BenchError("nft -f failed with status \(status)") }
            try programmer.remove(table)
        }
        return Figures(netlinkMedian: median(netlink), kernelShare: median(shares), nftMedian: median(nft))
    }

    /// Median seconds of one element-only change (one peer added or removed) with `table` in place.
    func elementChange(_ before: Table, _ after: Table) throws -> (median: Double, kinds: Set<NftMessageKind>) {
        try programmer.apply(old: nil, new: before)
        defer { _ = try? programmer.remove(before) }
        var times: [Double] = []
        var kinds = Set<NftMessageKind>()
        for round in 0..<max(rounds * 4, 20) {
            let (old, new) = round % 2 == 0 ? (before, after) : (after, before)
            let start = ContinuousClock.now
            if let report = try programmer.apply(old: old, new: new) { kinds.formUnion(report.kinds) }
            times.append(seconds(ContinuousClock.now - start))
        }
        return (median(times), kinds)
    }

    private func run(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}
