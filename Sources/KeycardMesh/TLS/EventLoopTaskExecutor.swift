import NIOCore

/// Runs a task's jobs on one NIO event loop instead of Swift's cooperative pool: the handshake
/// verifier (async in swift-certificates) must not wait for pool threads that callers may be
/// blocking (a test's `wait()`, a prober's blocking call), nor create pool threads while some
/// thread is inside a namespace window.
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    private let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
