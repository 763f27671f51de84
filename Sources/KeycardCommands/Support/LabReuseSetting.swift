/// `KEYCARD_LAB_REUSE`: whether `keycard run` lets consecutive scenarios that need the same lab
/// share it (the default).
enum LabReuseSetting {
    /// The spellings that turn sharing off (any case): 0, false, no, off.
    static let offSpellings: Set<String> = ["0", "false", "no", "off"]
    /// The spellings that leave it on (any case): 1, true, yes, on.
    static let onSpellings: Set<String> = ["1", "true", "yes", "on"]

    /// Whether labs are shared, read from `environment["KEYCARD_LAB_REUSE"]`: unset or empty is
    /// on; a spelling of `offSpellings` turns it off, one of `onSpellings` leaves it on; any other
    /// value leaves it on and is reported through `warn`, as `KEYCARD_LOG` reports a value that is
    /// not a level (it had been read as on without a word: only `0` turned it off).
    static func enabled(_ environment: [String: String], warn: (String) -> Void) -> Bool {
        guard let text = environment["KEYCARD_LAB_REUSE"], !text.isEmpty else { return true }
        let value = text.lowercased()
        if offSpellings.contains(value) { return false }
        if onSpellings.contains(value) { return true }
        warn("warning: KEYCARD_LAB_REUSE=\(text) is neither 0/false/no/off nor 1/true/yes/on: consecutive scenarios still share a lab")
        return true
    }
}
