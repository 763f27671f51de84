extension ObjectDecoder {
    /// A CronJob's `spec.schedule` (required, non-empty, `CronSchedule`) and `spec.timeZone`
    /// (optional, `CronTimeZone`), refused at the field as the API server refuses them
    /// (pkg/apis/batch/validation `validateCronJobSpec`).
    func checkCronTiming(_ spec: [String: YAMLValue], _ specValue: YAMLValue, _ what: String) throws(ScenarioError) {
        guard let schedule = spec["schedule"] else { throw specValue.error("\(what) needs spec.schedule") }
        let text = try schedule.string("spec.schedule")
        if text.isEmpty { throw schedule.error("spec.schedule must not be empty") }
        if let problem = CronSchedule.problem(in: text) { throw schedule.error("spec.schedule \"\(text)\": \(problem)") }
        if let zone = spec["timeZone"] {
            let name = try zone.string("spec.timeZone")
            if let problem = CronTimeZone.problem(name) { throw zone.error("spec.timeZone \"\(name)\": \(problem)") }
        }
    }
}
