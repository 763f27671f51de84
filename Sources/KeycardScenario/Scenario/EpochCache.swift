import Foundation

/// Values derived from a timeline's states, built when first asked for and kept per epoch (a run
/// of steps that change nothing, `Timeline.epochs`). A class behind a lock, so `Timeline` stays a
/// value that threads share.
final class EpochCache<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: Value] = [:]

    /// The value of `epoch`, built by `make` the first time.
    func value(for epoch: Int, _ make: () -> Value) -> Value {
        if let found = lock.withLock({ values[epoch] }) { return found }
        let made = make()
        lock.withLock { values[epoch] = made }
        return made
    }
}
