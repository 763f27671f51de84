import Foundation
import KeycardKernel

/// Runs `body` over `items` on up to `threads` fresh pthreads and rethrows the first error.
/// The threads are created here, from the caller's (host) namespace; each `body` that enters a
/// namespace restores its thread before returning (NetworkNamespace.perform).
func parallelForEach<T: Sendable>(
    _ items: [T], threads: Int, _ body: @escaping @Sendable (T) throws -> Void
) throws {
    if threads <= 1 || items.count < 2 {
        for item in items { try body(item) }
        return
    }
    let shared = ParallelProgress()
    let workers = (0..<min(threads, items.count)).map { _ in
        OneShotThread {
            while true {
                let index: Int? = shared.lock.withLock {
                    guard shared.error == nil, shared.next < items.count else { return nil }
                    defer { shared.next += 1 }
                    return shared.next
                }
                guard let index else { return }
                do {
                    try body(items[index])
                } catch {
                    shared.lock.withLock { if shared.error == nil { shared.error = error } }
                }
            }
        }
    }
    for worker in workers { worker.join() }
    if let error = shared.error { throw error }
}

/// The cursor and first error shared by `parallelForEach` workers.
private final class ParallelProgress: @unchecked Sendable {
    let lock = NSLock()
    var next = 0
    var error: (any Error)?
}
