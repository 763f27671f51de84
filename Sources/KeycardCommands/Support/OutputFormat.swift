import ArgumentParser

/// `-o table|json`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table
    case json
}

/// Exit codes: 0 passed, 1 an expectation failed, 2 invalid input or environment.
enum Exit {
    static let failed = ExitCode(1)
    static let invalid = ExitCode(2)

    /// A signal's: 128 + it, as a shell reports a process the signal ended (`Interruption`).
    static func interrupted(by signal: Int32) -> ExitCode { ExitCode(128 + signal) }
}
