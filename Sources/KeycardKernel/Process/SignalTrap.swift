import Dispatch
import Glibc

/// Runs a clean-up when SIGINT or SIGTERM arrives, then exits with 128 + the signal number.
public final class SignalTrap: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    /// Installs the trap; `cleanup` runs once, on a dispatch queue, while the main work is stopped
    /// wherever it was.
    public init(_ cleanup: @escaping @Sendable () -> Void) {
        let queue = DispatchQueue(label: "keycard.signals")
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                cleanup()
                exit(128 + number)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Restores the default handling.
    public func remove() {
        for source in sources { source.cancel() }
        sources = []
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
