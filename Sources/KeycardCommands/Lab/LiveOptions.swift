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
        } catch let error as LiveError {
            Console.error(error.description)
            throw Exit.invalid
        } catch let error as ScenarioError {
            // file:line:col: message, as `keycard check` prints it.
            Console.error(error.description)
            throw Exit.invalid
        } catch {
            Console.error("keycard \(verb): \(error)")
            throw Exit.invalid
        }
    }
}
