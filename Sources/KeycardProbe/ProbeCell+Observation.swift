import KeycardScenario

extension ProbeCell {
    /// The cell as a report result with what a runner saw: the one way a scenario's probe step,
    /// `keycard probe` on a live lab and a generated policy's proof turn an observation into the
    /// record their JSON shows.
    public func result(_ seen: CellObservation) -> ProbeResult {
        var result = result(observed: seen.observation, attempts: seen.attempts, reason: seen.reason, detail: seen.detail)
        if seen.labError { result.labError = true }
        return result
    }
}
