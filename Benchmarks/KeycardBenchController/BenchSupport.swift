import Foundation

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}

/// Seconds taken by `body`, and its result.
func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = ContinuousClock.now
    let result = try body()
    return (result, seconds(ContinuousClock.now - start))
}

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func ms(_ value: Double) -> String { String(format: "%7.2f ms", value * 1000) }

/// A lab name for this run's namespaces: `kc-<lab>.…` names only this process uses.
let benchLab = "ctlbench" + String(UInt32.random(in: 0...UInt32.max), radix: 16)

/// Prints one line unbuffered, so figures survive an interrupted run.
func say(_ items: String...) {
    FileHandle.standardOutput.write(Data((items.joined(separator: " ") + "\n").utf8))
}

/// Warms each pair, then measures them in turn for `rounds` rounds of `duration` seconds (so a
/// slow moment of the machine hits every setup alike): the median rate and the failures, by
/// setup, in the order given. Throws when a warmed pair gets no connection through.
func interleavedRates(_ pairs: [(label: String, pair: RatePair)], rounds: Int, duration: Double) throws -> [(
    rate: Double, failures: Int
)] {
    for (label, pair) in pairs {
        let warm = try pair.rate(for: 0.3)
        guard warm.rate > 0 else { throw BenchError("\(label): no connection got through (\(warm.failures) failed)") }
    }
    var rates = [[Double]](repeating: [], count: pairs.count)
    var failures = [Int](repeating: 0, count: pairs.count)
    for _ in 0..<rounds {
        for (index, entry) in pairs.enumerated() {
            let measured = try entry.pair.rate(for: duration)
            rates[index].append(measured.rate)
            failures[index] += measured.failures
        }
    }
    return zip(rates, failures).map { (median($0), $1) }
}
