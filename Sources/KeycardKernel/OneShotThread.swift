import Glibc

/// A pthread that runs one closure and can be joined: for work that must not share a thread
/// with anything else (unshare, long-lived per-namespace loops).
public final class OneShotThread: @unchecked Sendable {
    private var handle = pthread_t()
    private let body: () -> Void

    public init(_ body: @escaping () -> Void) {
        self.body = body
        let box = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(
            &handle, nil,
            { raw in
                guard let raw else { return nil }
                let thread = Unmanaged<OneShotThread>.fromOpaque(raw).takeRetainedValue()
                thread.body()
                return nil
            }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    /// Waits for the thread to end (pthread_join); call it once.
    public func join() { pthread_join(handle, nil) }
}
