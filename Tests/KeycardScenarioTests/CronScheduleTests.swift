import Foundation
import Testing

@testable import KeycardScenario

/// `spec.schedule` and `spec.timeZone` of a CronJob against what the API server does with them:
/// robfig/cron v3.0.1's `ParseStandard` (parser.go, spec.go), Go's `time.ParseDuration`, and
/// pkg/apis/batch/validation `validateScheduleFormat` / `validateTimeZone`. Expected messages are
/// the Go code's, worked out by hand from its sources.
@Suite("CronJob schedule and time zone")
struct CronScheduleTests {
    /// Schedules the API server accepts.
    @Test(arguments: [
        "* * * * *", "0 3 * * *", "*/15 * * * *", "0 0 1 1 *", "59 23 31 12 6", "0 0 * * 0",
        "0-59/5 0-23 1-31 1-12 0-6", "1,2,,3 * * * *", ", * * * *", "0 0 ? * ?", "? ? ? ? ?",
        "0 9 * JAN-mar Mon-FRI", "0 9 * jan,Dec sun,sat", "0 9 * * FRİ", "5/10 * * * *", "*/100 * * * *",
        "*-anything * * * *", "?-1-2 * * * *", "+5 * * * *", "007 * * * *", "0 0 */7 * *", "0\t0\u{A0}*\u{3000}*  *",
        " 0 0 * * * ", "1-1 * * * *", "*/1 * * * *",
        "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly",
        "@every 1h30m", "@every 90s", "@every 1.5h", "@every .5s", "@every 5.s", "@every -5m", "@every +1h", "@every 0",
        "@every 10\u{B5}s", "@every 10\u{3BC}s", "@every 2562047h47m16.854775807s",
    ])
    func accepted(_ schedule: String) {
        #expect(CronSchedule.problem(in: schedule) == nil, "\(schedule)")
    }

    /// Schedules the API server refuses, with robfig/cron's (or Go's, or the API server's) reason.
    @Test(arguments: [
        ("61 * * * *", "end of range (61) above maximum (59): 61"),
        ("* 24 * * *", "end of range (24) above maximum (23): 24"),
        ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
        ("* * 32 * *", "end of range (32) above maximum (31): 32"),
        ("* * * 13 *", "end of range (13) above maximum (12): 13"),
        ("* * * * 7", "end of range (7) above maximum (6): 7"),
        ("* * * * SUN-7", "end of range (7) above maximum (6): SUN-7"),
        ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
        ("*/0 * * * *", "step of range should be a positive number: */0"),
        ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
        ("*/2/3 * * * *", "too many slashes: */2/3"),
        ("*/-1 * * * *", "negative number (-1) not allowed: -1"),
        ("a * * * *", "failed to parse int from a: strconv.Atoi: parsing \"a\": invalid syntax"),
        ("/5 * * * *", "failed to parse int from : strconv.Atoi: parsing \"\": invalid syntax"),
        ("1- * * * *", "failed to parse int from : strconv.Atoi: parsing \"\": invalid syntax"),
        ("99999999999999999999 * * * *", "value out of range"),
        ("* * JAN * *", "failed to parse int from JAN"),
        ("* * * * MONDAY", "failed to parse int from MONDAY"),
        ("* * * * *\u{301}", "failed to parse int from *\u{301}"),
        ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
        ("0 * * * * *", "expected exactly 5 fields, found 6: [0 * * * * *]"),
        ("   ", "expected exactly 5 fields, found 0: []"),
        (" @daily", "expected exactly 5 fields, found 1: [@daily]"),
        ("@daily ", "unrecognized descriptor: @daily "),
        ("@DAILY", "unrecognized descriptor: @DAILY"),
        ("@reboot", "unrecognized descriptor: @reboot"),
        ("@every", "unrecognized descriptor: @every"),
        ("@every ", "failed to parse duration @every : time: invalid duration \"\""),
        ("@every 1h 30m", "time: unknown unit \"h \" in duration \"1h 30m\""),
        ("@every 5", "time: missing unit in duration \"5\""),
        ("@every 1d", "time: unknown unit \"d\" in duration \"1d\""),
        ("@every .s", "time: invalid duration \".s\""),
        ("@every  1h", "time: invalid duration \" 1h\""),
        ("@every 2562048h", "time: invalid duration \"2562048h\""),
        ("@every 10\u{E9}s", "time: unknown unit \"\\xc3\\xa9s\" in duration \"10\\xc3\\xa9s\""),
        ("TZ=UTC 0 * * * *", "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"),
        ("CRON_TZ=Europe/Paris @daily", "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"),
        ("TZ", "cannot use TZ or CRON_TZ in schedule"),
    ])
    func refused(_ schedule: String, _ fragment: String) {
        let problem = CronSchedule.problem(in: schedule)
        #expect(problem?.contains(fragment) == true, "\(schedule): \(problem ?? "accepted")")
    }

    /// Go's duration limits: 2^63-1 ns either way, and -2^63 ns.
    @Test func durationLimits() {
        let scalars = { (text: String) in Array(text.unicodeScalars) }
        #expect(GoDuration.problem(scalars("9223372036854775807ns")) == nil)
        #expect(GoDuration.problem(scalars("9223372036854775808ns")) != nil)
        #expect(GoDuration.problem(scalars("-9223372036854775808ns")) == nil)
        #expect(GoDuration.problem(scalars("-9223372036854775809ns")) != nil)
        #expect(GoDuration.problem(scalars("1.00000000000000000000000000001h")) == nil)
        #expect(GoDuration.problem(scalars("-")) != nil)
    }

    /// Time zones from the host's database, as `time.LoadLocation` reads it.
    @Test(arguments: ["UTC", "Europe/Paris", "America/New_York", "Etc/GMT+5", "America/Argentina/Buenos_Aires", "Asia/Kolkata"])
    func zoneAccepted(_ name: String) {
        #expect(CronTimeZone.problem(name) == nil, "\(name)")
    }

    @Test(arguments: [
        ("", "timeZone must be nil or non-empty string"),
        ("Local", "must be an explicit time zone"),
        ("local", "must be an explicit time zone"),
        ("Europe/Pariss", "unknown time zone Europe/Pariss"),
        ("Europe", "unknown time zone Europe"),
        ("../etc/passwd", "unknown time zone ../etc/passwd"),
        ("/etc/localtime", "unknown time zone /etc/localtime"),
        ("Europe//Paris", "unknown time zone"),
        ("Europe/Paris/", "unknown time zone"),
        ("-Europe", "unknown time zone"),
        ("Europe/Paris ", "unknown time zone"),
        ("ABCDEFGHIJKLMNO", "unknown time zone"),
        ("zone.tab", "unknown time zone zone.tab"),
        ("utc", "unknown time zone utc"),
    ])
    func zoneRefused(_ name: String, _ fragment: String) {
        let problem = CronTimeZone.problem(name)
        #expect(problem?.contains(fragment) == true, "\(name): \(problem ?? "accepted")")
    }

    /// The database is read, not a list: a zone is whatever TZif file the folder holds.
    @Test func zoneComesFromTheDatabaseFolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-tz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("Mars"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("TZif2 rest".utf8).write(to: folder.appendingPathComponent("Mars/Olympus"))
        try Data("not a zone".utf8).write(to: folder.appendingPathComponent("Mars/Fake"))
        #expect(CronTimeZone.problem("Mars/Olympus", database: folder.path) == nil)
        #expect(CronTimeZone.problem("Mars/Fake", database: folder.path) != nil)
        #expect(CronTimeZone.problem("Mars", database: folder.path) != nil)
        #expect(CronTimeZone.problem("Europe/Paris", database: folder.path) != nil)
        #expect(CronTimeZone.problem("UTC", database: folder.path) == nil)
    }
}
