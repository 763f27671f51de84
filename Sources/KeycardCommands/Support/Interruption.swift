import ArgumentParser
import KeycardKernel
import KeycardProbe

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
        } catch {
            // A stage failing because of the interruption still ends as interrupted.
            guard let signal = trap.received else { throw error }
            run.tearDown()
            Console.error("interrupted: lab \(run.labName) torn down (\(error))")
            throw ExitCode(128 + signal)
        }
    }
}
