import Glibc
import Synchronization

/// The first SIGINT, SIGTERM or SIGHUP since the trap was set, 0 for none. A plain C handler
/// stores it: a lock-free atomic store is async-signal-safe, and nothing is lost between
/// installing and listening (a dispatch source, installed after SIG_IGN, could drop a signal in
/// between).
private let firstSignal = Atomic<Int32>(0)
/// How many of them came since the trap was set.
private let signalCount = Atomic<Int>(0)

private func recordSignal(_ number: Int32) {
    _ = firstSignal.compareExchange(expected: 0, desired: number, ordering: .sequentiallyConsistent)
    _ = signalCount.add(1, ordering: .sequentiallyConsistent)
}

/// Records SIGINT, SIGTERM and SIGHUP (a closed terminal or SSH session) instead of acting on
/// them where they land: the work in progress polls `received` at its safe points (between steps,
/// after bring-up) and tears down on its own thread, so no clean-up ever races the code still
/// using what it cleans up. One trap at a time
/// per process (the record is process-wide, as signal dispositions are).
///
/// A SIGHUP the process was started ignoring (`nohup keycard …`) stays ignored, as POSIX's
/// `nohup` intends, and `remove` leaves it ignored. SIGINT and SIGTERM are recorded whatever was
/// inherited (a shell without job control starts a background command with SIGINT ignored; a
/// keycard stopped by one still tears its lab down at a safe point, which is harmless), and
/// `remove` restores their default.
public final class SignalTrap: Sendable {
    /// The signals this trap left ignored because they were when it was set.
    private let ignored: [Int32]

    public init() {
        firstSignal.store(0, ordering: .sequentiallyConsistent)
        signalCount.store(0, ordering: .sequentiallyConsistent)
        var unblock = sigset_t()
        sigemptyset(&unblock)
        var ignored: [Int32] = []
        for number in Self.signals {
            if number == SIGHUP && Self.isIgnored(number) {
                ignored.append(number)
                continue
            }
            signal(number) { recordSignal($0) }
            sigaddset(&unblock, number)
        }
        self.ignored = ignored
        // A parent may hand its mask down with these blocked (seen from test runners); a blocked
        // signal would stay pending and never be recorded.
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
    }

    /// The signals recorded.
    public static let signals = [SIGINT, SIGTERM, SIGHUP]

    /// The first signal received (SIGINT, SIGTERM or SIGHUP), or nil.
    public var received: Int32? {
        let value = firstSignal.load(ordering: .sequentiallyConsistent)
        return value == 0 ? nil : value
    }

    /// How many signals came since the trap was set: a second one is the user insisting (work
    /// that holds the first one, such as waiting for the lab process's reply, gives up on it).
    public var count: Int { signalCount.load(ordering: .sequentiallyConsistent) }

    /// Restores the handling from before the trap: a signal from now on ends the process at once,
    /// or stays ignored if it was (SIGHUP under `nohup`).
    public func remove() {
        for number in Self.signals where !ignored.contains(number) { signal(number, SIG_DFL) }
    }

    /// Whether `number` is ignored (SIG_IGN) now.
    public static func isIgnored(_ number: Int32) -> Bool {
        var current = sigaction()
        guard sigaction(number, nil, &current) == 0 else { return false }
        return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }
}

/// Work stopped at a safe point because a signal arrived; the process should exit 128 + `signal`.
public struct Interrupted: Error, CustomStringConvertible {
    public var signal: Int32

    public init(signal: Int32) { self.signal = signal }

    public var description: String { "interrupted by signal \(signal)" }
}
