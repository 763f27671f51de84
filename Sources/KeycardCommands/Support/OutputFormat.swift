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
}
