import ArgumentParser
import Foundation

/// The input errors `ScenarioInput` printed before it ended a command with exit code 2, kept for
/// a caller that must also render them (lint's SARIF log): bound for the duration of a load with
/// `ScenarioInput.$reportedErrors.withValue(_:)`; unbound, nothing is kept.
final class ReportedErrors: @unchecked Sendable {
    private let lock = NSLock()
    private var kept: [any Error] = []

    /// The errors in the order they were printed.
    var errors: [any Error] { lock.withLock { kept } }

    func append(_ error: any Error) { lock.withLock { kept.append(error) } }
}

extension ScenarioInput {
    /// Where the errors printed while loading are kept; nil: nowhere.
    @TaskLocal static var reportedErrors: ReportedErrors?

    /// Prints `error` on stderr (`file:line:col: message`), keeps it for a bound `reportedErrors`,
    /// and gives the exit code that ends the command: 2, invalid input.
    static func refuse(_ error: any Error) -> ExitCode {
        Console.error("\(error)")
        reportedErrors?.append(error)
        return Exit.invalid
    }
}
