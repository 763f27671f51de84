/// A CronJob's `spec.schedule`, checked as the API server checks it on create
/// (pkg/apis/batch/validation `validateScheduleFormat`): robfig/cron v3's `ParseStandard` must
/// accept it, and it may not contain `TZ` (`TZ=` / `CRON_TZ=` prefixes belong in `spec.timeZone`).
///
/// `ParseStandard` (robfig/cron v3.0.1 parser.go, spec.go) reads:
/// - a descriptor, written exactly: `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`,
///   `@midnight`, `@hourly`, or `@every <duration>` (Go's `time.ParseDuration`: `1h30m`, `90s`,
///   `1.5h`, `-5m`; any duration is accepted, a short one runs every second);
/// - or exactly 5 fields split on Unicode white space: minute 0–59, hour 0–23, day of month 1–31,
///   month 1–12 or `jan`–`dec`, day of week 0–6 or `sun`–`sat` (7 is refused; names in any case).
///   A field is a comma-separated list (empty items are skipped) of `*`, `?` (any field),
///   `N`, `N-M`, each optionally `/STEP`; `N/STEP` runs from N to the field's maximum; STEP > 0.
///   Numbers are Go `strconv.Atoi` integers (an optional `+`, ASCII digits, 64-bit).
///   `*` and `?` end the item's range part: whatever follows them before `/` is not read.
enum CronSchedule {
    /// nil when the API server accepts `schedule` (non-empty) on create; else why not, in
    /// robfig/cron's or the API server's words. A schedule with `TZ` that also fails to parse gets
    /// both errors from the API server; this returns the `TZ` one.
    static func problem(in schedule: String) -> String? {
        // Go compares bytes; Swift's String compares characters, where a combining mark joins
        // the character before it. Every split and prefix below is on Unicode scalars.
        let scalars = Array(schedule.unicodeScalars)
        if containsTZ(scalars) { return "cannot use TZ or CRON_TZ in schedule, use timeZone field instead" }
        if scalars.first == "@" { return descriptorProblem(scalars) }
        let fields = split(scalars, omittingEmpty: true, where: \.properties.isWhitespace)
        guard fields.count == 5 else {
            return "expected exactly 5 fields, found \(fields.count): [\(fields.map(text).joined(separator: " "))]"
        }
        for (field, bounds) in zip(fields, Bounds.standard) {
            for item in split(field, omittingEmpty: true, where: { $0 == "," }) {
                if let problem = rangeProblem(item, bounds) { return problem }
            }
        }
        return nil
    }

    private typealias Scalars = [Unicode.Scalar]

    private static func text(_ scalars: some Sequence<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    private static func split(_ scalars: Scalars, omittingEmpty: Bool, where isSeparator: (Unicode.Scalar) -> Bool) -> [Scalars] {
        scalars.split(omittingEmptySubsequences: omittingEmpty, whereSeparator: isSeparator).map(Array.init)
    }

    private static func containsTZ(_ scalars: Scalars) -> Bool {
        zip(scalars, scalars.dropFirst()).contains { $0 == "T" && $1 == "Z" }
    }

    /// The values one field may take, and its names (lower case).
    struct Bounds {
        var min: UInt64
        var max: UInt64
        var names: [String: UInt64] = [:]

        /// Minute, hour, day of month, month, day of week (robfig/cron spec.go).
        static let standard: [Bounds] = [
            Bounds(min: 0, max: 59), Bounds(min: 0, max: 23), Bounds(min: 1, max: 31),
            Bounds(
                min: 1, max: 12,
                names: [
                    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11,
                    "dec": 12,
                ]),
            Bounds(min: 0, max: 6, names: ["sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6]),
        ]
    }

    /// One list item: `number | number "-" number`, or `*`/`?`, then optionally `/step`, in the
    /// order robfig/cron's getRange checks them (so the first problem is the one it reports).
    private static func rangeProblem(_ item: Scalars, _ bounds: Bounds) -> String? {
        let expr = text(item)
        let rangeAndStep = split(item, omittingEmpty: false, where: { $0 == "/" }).map(text)
        let lowAndHigh = split(Array(rangeAndStep[0].unicodeScalars), omittingEmpty: false, where: { $0 == "-" }).map(text)
        var start = bounds.min
        var end = bounds.max
        if lowAndHigh[0] != "*" && lowAndHigh[0] != "?" {
            switch integer(lowAndHigh[0], names: bounds.names) {
            case .failure(let refusal): return refusal.message
            case .success(let value): start = value
            }
            switch lowAndHigh.count {
            case 1: end = start
            case 2:
                switch integer(lowAndHigh[1], names: bounds.names) {
                case .failure(let refusal): return refusal.message
                case .success(let value): end = value
                }
            default: return "too many hyphens: \(expr)"
            }
        }
        var step: UInt64 = 1
        switch rangeAndStep.count {
        case 1: break
        case 2:
            switch integer(rangeAndStep[1], names: [:]) {
            case .failure(let refusal): return refusal.message
            case .success(let value): step = value
            }
            if lowAndHigh.count == 1 { end = bounds.max }
        default: return "too many slashes: \(expr)"
        }
        if start < bounds.min { return "beginning of range (\(start)) below minimum (\(bounds.min)): \(expr)" }
        if end > bounds.max { return "end of range (\(end)) above maximum (\(bounds.max)): \(expr)" }
        if start > end { return "beginning of range (\(start)) beyond end of range (\(end)): \(expr)" }
        if step == 0 { return "step of range should be a positive number: \(expr)" }
        return nil
    }

    private struct Refusal: Error {
        var message: String
    }

    /// A name of the field (Go `strings.ToLower`, then the map) or a non-negative `strconv.Atoi` integer.
    private static func integer(_ expr: String, names: [String: UInt64]) -> Result<UInt64, Refusal> {
        if let named = names[goLowercased(expr)] { return .success(named) }
        guard let number = atoi(expr) else {
            return .failure(Refusal(message: "failed to parse int from \(expr): strconv.Atoi: parsing \"\(expr)\": invalid syntax"))
        }
        guard let value = number else {
            return .failure(Refusal(message: "failed to parse int from \(expr): strconv.Atoi: parsing \"\(expr)\": value out of range"))
        }
        if value < 0 { return .failure(Refusal(message: "negative number (\(value)) not allowed: \(expr)")) }
        return .success(UInt64(value))
    }

    /// Go's `strconv.Atoi` in base 10: an optional sign and one or more ASCII digits. nil: invalid
    /// syntax; `.some(nil)`: outside Int64.
    private static func atoi(_ text: String) -> Int64?? {
        var digits = Substring(text)
        var negative = false
        if let sign = digits.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }) else { return nil }
        var magnitude: UInt64 = 0
        for scalar in digits.unicodeScalars {
            let (times, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(UInt64(scalar.value - 48))
            if overflow1 || overflow2 { return .some(nil) }
            magnitude = sum
        }
        // Int64.min's magnitude is one more than Int64.max's.
        if negative, magnitude == UInt64(Int64.max) + 1 { return .some(Int64.min) }
        guard magnitude <= UInt64(Int64.max) else { return .some(nil) }
        return .some(negative ? -Int64(magnitude) : Int64(magnitude))
    }

    /// Go's `strings.ToLower` as far as it can reach an ASCII name: ASCII letters, and the two
    /// non-ASCII letters whose lower case is ASCII (U+0130 İ → i, U+212A Kelvin sign → k).
    private static func goLowercased(_ expr: String) -> String {
        text(
            expr.unicodeScalars.map { scalar -> Unicode.Scalar in
                switch scalar.value {
                case 0x41...0x5A: Unicode.Scalar(UInt8(scalar.value + 32))
                case 0x130: "i"
                case 0x212A: "k"
                default: scalar
                }
            })
    }

    /// robfig/cron's parseDescriptor: the names exactly, or `@every ` and a Go duration.
    private static func descriptorProblem(_ spec: Scalars) -> String? {
        let named = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]
        if named.contains(where: { Array($0.unicodeScalars) == spec }) { return nil }
        let every = Array("@every ".unicodeScalars)
        guard spec.starts(with: every) else { return "unrecognized descriptor: \(text(spec))" }
        if let problem = GoDuration.problem(Array(spec.dropFirst(every.count))) {
            return "failed to parse duration \(text(spec)): \(problem)"
        }
        return nil
    }
}
