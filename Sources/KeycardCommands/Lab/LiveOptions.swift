import ArgumentParser
import KeycardLab
import KeycardScenario

/// Runs a live verb's body: a refusal (`LiveError`, `ScenarioError`, `LabError`...) is printed on
/// stderr and ends the command with exit code 2, nothing changed.
enum LiveCommand {
    static func run<T>(_ verb: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            Console.error(message(verb, error))
            throw Exit.invalid
        }
    }

    /// How a refusal is printed: a `LiveError` as its message, a `ScenarioError` as
    /// file:line:col: message (as `keycard check` prints it), anything else after the verb.
    static func message(_ verb: String, _ error: any Error) -> String {
        switch error {
        case let error as LiveError: error.description
        case let error as ScenarioError: error.description
        default: "keycard \(verb): \(error)"
        }
    }
}

/// A verb on one live lab (`keycard apply|delete|label|probe|scan LAB ...`): the lab argument and
/// logging options, root, and refusals printed as `LiveCommand` prints them.
protocol LiveVerb: ParsableCommand {
    var options: LabOptions { get }
}

extension LiveVerb {
    var lab: String { options.lab }

    /// Applies the logging options, requires root, then runs `body` as `LiveCommand.run` does
    /// (a refusal: stderr and exit 2).
    func perform<T>(_ body: () throws -> T) throws -> T {
        options.logging.apply()
        try Environment.requireRoot()
        return try LiveCommand.run(Self.configuration.commandName ?? "keycard") {
            // After `keycard run --keep` the lab process takes the programs' ports over: wait for it.
            try LiveLabServer.awaitPending(lab: lab)
            return try body()
        }
    }
}
