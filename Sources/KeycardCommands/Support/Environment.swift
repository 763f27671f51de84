import ArgumentParser
import Foundation
import KeycardKernel
import KeycardProbe

/// Checks that the machine can run a lab.
enum Environment {
    static func requireRoot() throws {
        guard Privileges.isRoot else {
            Console.error("keycard builds network namespaces and nftables rules: run it as root (sudo keycard ...)")
            throw Exit.invalid
        }
    }
}

/// Progress lines on stderr, once a run has taken longer than a second.
enum Progress {
    nonisolated(unsafe) private static var start = ContinuousClock.now
    nonisolated(unsafe) private static var pending: [String] = []

    static func line(_ text: String) {
        if ContinuousClock.now - start < .seconds(1) {
            pending.append(text)
            return
        }
        for line in pending { Console.error(line) }
        pending = []
        Console.error(text)
    }
}

/// Tears a run's lab down when the user interrupts it.
enum Interruption {
    /// Runs `body` with SIGINT and SIGTERM recorded: the run polls the signal between steps, stops
    /// there and tears its lab down on its own thread; the command then exits 128 + the signal.
    static func tearingDown<T>(_ run: ScenarioRun, _ body: () throws -> T) throws -> T {
        let trap = SignalTrap()
        defer { trap.remove() }
        run.interruption = { trap.received }
        do {
            let result = try body()
            // From here a signal takes its default course (the lab is down unless kept); one that
            // came during the tear-down at the end still means the user stopped the run.
            trap.remove()
            if let signal = trap.received {
                run.tearDown()
                throw Interrupted(signal: signal)
            }
            return result
        } catch let interrupted as Interrupted {
            Console.error("interrupted: lab \(run.labName) torn down")
            throw ExitCode(128 + interrupted.signal)
        }
    }
}
