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
    static func tearingDown<T>(_ run: ScenarioRun, _ body: () throws -> T) throws -> T {
        let trap = SignalTrap { [run] in
            Console.error("interrupted: tearing down lab \(run.labName)")
            run.tearDown()
        }
        defer { trap.remove() }
        return try body()
    }
}
