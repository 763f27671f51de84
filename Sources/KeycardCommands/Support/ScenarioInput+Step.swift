import KeycardScenario

extension ScenarioInput {
    /// The state after step `requested` of `timeline` (by default its last step; 0 is the state after
    /// its resources), for a command-line request written as `asked` (`--after-step 99`,
    /// `FILE@99`). Outside 0...steps it is refused on stderr as `file:line:col: message`, pointing
    /// at the scenario's last step (where its steps end), or at the file's start when it has none,
    /// with exit code 2.
    static func step(_ requested: Int?, of timeline: Timeline, asked: String) throws -> Int {
        let steps = timeline.scenario.steps.count
        let step = requested ?? steps
        guard (0...steps).contains(step) else { try refuse(timeline, "\(asked): there is no step \(step)") }
        return step
    }

    /// The step written as `text` after `FILE@` (`FILE@99`), as `step(_:of:asked:)`; text that is
    /// no whole number is refused the same way.
    static func step(written text: Substring, of timeline: Timeline, asked: String) throws -> Int {
        guard let number = Int(text) else { try refuse(timeline, "\(asked): after @ comes a step number, not \"\(text)\"") }
        return try step(number, of: timeline, asked: asked)
    }

    private static func refuse(_ timeline: Timeline, _ problem: String) throws -> Never {
        let steps = timeline.scenario.steps.count
        let location = timeline.scenario.steps.last?.location ?? .start(of: timeline.scenario.file)
        let range = steps == 0 ? "it has no steps: only 0, its resources" : "choose 0 (its resources) to \(steps) (its last step)"
        Console.error(ScenarioError(location, "\(problem); \(range)").description)
        throw Exit.invalid
    }
}
