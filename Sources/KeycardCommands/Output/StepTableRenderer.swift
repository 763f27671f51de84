import KeycardModel
import KeycardScenario

/// A scenario's report as text, step by step (`keycard model`, `keycard run`): the scenario's
/// heading, each step's lines in order, then the closing lines. The conformers say only what a
/// step and the close show.
protocol StepTableRenderer {
    var timeline: Timeline { get }
    var report: Report { get }
    /// Whether the heading repeats the scenario's `description` (under its first line).
    static var showsDescription: Bool { get }
    /// The lines of one step, its title included.
    func lines(of step: Step, _ stepReport: StepReport) -> [String]
    /// The lines after every step: the verdict.
    var closing: [String] { get }
}

extension StepTableRenderer {
    func render() -> String {
        let scenario = timeline.scenario
        var out = ["scenario \(scenario.name) (\(scenario.file)), enforcement \(report.enforcement)"]
        if Self.showsDescription, let description = scenario.description { out.append("  " + description) }
        out.append(contentsOf: (report.services ?? []).map { "  " + $0 })
        for (step, stepReport) in zip(scenario.steps, report.steps) { out.append(contentsOf: lines(of: step, stepReport)) }
        return (out + closing).joined(separator: "\n")
    }

    /// `step I/N KIND[: NAME]`.
    func title(_ step: Step) -> String {
        "step \(step.index)/\(timeline.scenario.steps.count) \(step.kind)\(step.name.map { ": \($0)" } ?? "")"
    }
}
