import KeycardModel

/// What loading a scenario does with a probe step over `ResolvedProbe.maximumCells` cells.
public enum CellLimit: Sendable, Equatable {
    /// Refuse it at the step (`keycard model`, `run`, `up`: they judge or send every cell).
    case refuse
    /// Load it with a warning at the step: for commands that judge no probe cell (`keycard lint`,
    /// `graph`, `diff`, and `check` of manifests), which read the cluster states only.
    case warn
}

extension ResolvedProbe {
    /// What the author of a scenario file can do: the step is theirs.
    static let nameFewer = "name from, to or ports"

    /// What a manifests user can do: the step is keycard's (`ManifestPlan`), and a scenario file
    /// loading the same manifests can name its own, smaller probe steps (docs/scenario-format.md,
    /// "spec.resources and apply" and "probe").
    static let manifestsRemedy =
        "check, lint, graph, diff, explain and rules read these manifests without this limit; to model or run them, write a scenario beside them that loads them (spec.resources: - file: PATH, one item per file; a scenario runs the containers' commands, which manifests mode drops, and fails on one that is no program of this machine) and whose probe steps name fewer sources, destinations or ports (from, to, ports; see docs/scenario-format.md, Steps, probe)"

    /// The refusal of this step when it holds more than `maximumCells` cells, nil within the limit:
    /// its count, located at `step`, ending with `remedy` (what the user can do).
    public func cellLimitProblem(_ step: Step, remedy: String) -> ScenarioError? {
        guard cellCount > Self.maximumCells else { return nil }
        return ScenarioError(
            step.location,
            "\(step.name.map { "probe \"\($0)\"" } ?? "probe") has \(sources.count) sources x \(destinationCells) destination cells (Service backends and ports counted) = \(cellCount) cells; keycard judges at most \(Self.maximumCells) in one probe step (each is a model verdict and a real connection): \(remedy)"
        )
    }

    /// Whether the step is over `maximumCells`: loaded only by commands that judge no cell.
    public var isOverCellLimit: Bool { cellCount > Self.maximumCells }
}
