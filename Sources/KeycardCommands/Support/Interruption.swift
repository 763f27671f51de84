import ArgumentParser
import KeycardKernel
import KeycardLab
import KeycardProbe

/// Tears a run's lab down when the user interrupts it.
enum Interruption {
    /// Runs `body` with SIGINT and SIGTERM recorded: the run polls the signal between steps, stops
    /// there and tears its lab down on its own thread; the command then exits 128 + the signal.
    static func tearingDown<T>(_ run: ScenarioRun, _ body: () throws -> T) throws -> T {
        let slot = RunSlot()
        slot.run = run
        return try tearingDown(slot) { interruption in
            run.interruption = interruption
            return try body()
        }
    }

    /// The run holding the lab now, for a command that runs several scenarios on one lab.
    final class RunSlot {
        var run: ScenarioRun?
    }

    /// As above, for several runs one after another under one trap: `body` gets the signal to poll
    /// and keeps `slot` on the run that holds the lab; that run's lab is torn down on a signal.
    static func tearingDown<T>(_ slot: RunSlot, _ body: (@escaping () -> Int32?) throws -> T) throws -> T {
        try trapping(labName: { slot.run?.labName ?? "-" }, tearDown: { slot.run?.tearDown() ?? false }, body)
    }

    /// The lab a proof (`generate --prove`, `diff --prove`) is building now, by name.
    final class ProofSlot {
        var labName: String?
    }

    /// As above, for proofs (`GeneratedPolicyProof.run`, which polls the signal between its stages
    /// and removes its lab itself): a lab `slot` names is removed by name again on a signal, which
    /// is safe at any point and finds what a stage left half-built.
    static func tearingDown<T>(_ slot: ProofSlot, _ body: (@escaping () -> Int32?) throws -> T) throws -> T {
        try trapping(labName: { slot.labName ?? "-" }, tearDown: { slot.labName.map(Lab.downIfOwned) ?? false }, body)
    }

    /// Runs `body` with SIGINT and SIGTERM recorded; on a signal, `tearDown` (which says whether
    /// the lab was this process's to remove) and exit 128 + it. A refusal already reported (an
    /// `ExitCode`, such as a lab name in use) that removed nothing keeps its own exit status: the
    /// signal changed nothing.
    private static func trapping<T>(
        labName: () -> String, tearDown: () -> Bool, _ body: (@escaping () -> Int32?) throws -> T
    ) throws -> T {
        let trap = SignalTrap()
        defer { trap.remove() }
        // What the tear-down after a late signal did (a second call would find nothing to remove).
        var removedAtEnd: Bool?
        do {
            let result = try body({ trap.received })
            // From here a signal takes its default course (the lab is down unless kept); one that
            // came during the tear-down at the end still means the user stopped the run.
            trap.remove()
            if let signal = trap.received {
                removedAtEnd = tearDown()
                throw Interrupted(signal: signal)
            }
            return result
        } catch let interrupted as Interrupted {
            Console.error("interrupted: \(outcome(labName(), removed: removedAtEnd ?? tearDown()))")
            throw Exit.interrupted(by: interrupted.signal)
        } catch {
            // A stage failing because of the interruption still ends as interrupted.
            guard let signal = trap.received else { throw error }
            let removed = tearDown()
            // Refused because another lab holds the name: the refusal (already said) stands.
            if !removed && error is ExitCode && Lab.isHeldByAnother(labName()) { throw error }
            Console.error("interrupted: \(outcome(labName(), removed: removed))" + (error is ExitCode ? "" : " (\(error))"))
            throw Exit.interrupted(by: signal)
        }
    }

    /// What an interruption did to lab `lab`.
    private static func outcome(_ lab: String, removed: Bool) -> String {
        if removed { return "lab \(lab) torn down" }
        return Lab.isHeldByAnother(lab) ? "lab \(lab) is another command's, left as it is" : "lab \(lab) is not up"
    }
}
