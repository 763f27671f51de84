import Glibc
import KeycardKernel
import Testing

/// The tests that set the process-wide signal dispositions or signal the test process itself,
/// one at a time (nested suites share the trait).
@Suite(.serialized) enum ProcessSignalTests {}

extension ProcessSignalTests {
    /// `SignalTrap` records SIGINT, SIGTERM and SIGHUP, leaves a SIGHUP ignored under `nohup`
    /// ignored, and puts back what it found.
    @Suite struct SignalTrapTests {
        @Test func aSignalIsRecordedAndCounted() {
            let trap = SignalTrap()
            defer { trap.remove() }
            #expect(trap.received == nil && trap.count == 0)
            raise(SIGTERM)
            raise(SIGINT)
            #expect(trap.received == SIGTERM)
            #expect(trap.count == 2)
        }

        /// `nohup keycard …` starts keycard with SIGHUP ignored: a hang-up must not stop its work
        /// (the trap would have recorded it and torn the lab down), and after the trap it is still
        /// ignored, not fatal.
        @Test func aSighupIgnoredUnderNohupStaysIgnored() {
            signal(SIGHUP, SIG_IGN)
            defer { signal(SIGHUP, SIG_DFL) }
            let trap = SignalTrap()
            raise(SIGHUP)
            #expect(trap.received == nil, "the trap recorded a SIGHUP that nohup ignores")
            raise(SIGINT)
            #expect(trap.received == SIGINT, "SIGINT is still recorded")
            trap.remove()
            #expect(SignalTrap.isIgnored(SIGHUP), "removing the trap made SIGHUP fatal again")
            #expect(!SignalTrap.isIgnored(SIGINT))
        }

        /// Without nohup, SIGHUP (a closed terminal) is recorded like the others.
        @Test func aSighupIsRecordedOtherwise() {
            signal(SIGHUP, SIG_DFL)
            let trap = SignalTrap()
            defer { trap.remove() }
            raise(SIGHUP)
            #expect(trap.received == SIGHUP)
        }
    }
}
