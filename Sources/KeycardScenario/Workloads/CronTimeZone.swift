import Foundation

/// A CronJob's `spec.timeZone`, checked as the API server checks it on create
/// (pkg/apis/batch/validation `validateTimeZone`):
/// - not empty (`timeZone: null` is the field absent: the controller's local time);
/// - each `/`-separated part 1–14 of `A-Za-z0-9.-_+`, not `.` or `..`, not starting with `-`
///   (https://data.iana.org/time-zones/theory.html#naming, digits and `+` tolerated for legacy names);
/// - not `Local` in any case;
/// - a zone Go's `time.LoadLocation` loads: `UTC`, or a TZif file of the time zone database.
///
/// keycard reads the host's database, `/usr/share/zoneinfo` (Debian's `tzdata`), not Foundation's
/// `TimeZone(identifier:)`: that one also takes abbreviations and offsets (`EST`, `GMT+5`) that
/// are not file names. kube-apiserver embeds Go's copy of the IANA database besides its host's, so a
/// zone newer than the host's tzdata is accepted there and refused here.
enum CronTimeZone {
    /// Debian's time zone database.
    static let systemDatabase = "/usr/share/zoneinfo"

    private static let partCharacters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_+".unicodeScalars)

    /// nil when the API server accepts `name` as `spec.timeZone`; else why not, in its words.
    /// `database` is the zoneinfo folder (tests point it elsewhere).
    static func problem(_ name: String, database: String = systemDatabase) -> String? {
        if name.isEmpty { return "timeZone must be nil or non-empty string" }
        for part in name.unicodeScalars.split(separator: "/", omittingEmptySubsequences: false) {
            let wellFormed = (1...14).contains(part.count) && part.allSatisfy(partCharacters.contains) && part.first != "-"
            if !wellFormed || part.elementsEqual(".".unicodeScalars) || part.elementsEqual("..".unicodeScalars) {
                return "unknown time zone \(name)"
            }
        }
        if name.lowercased() == "local" {
            return "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"
        }
        if name == "UTC" || isZoneFile(database + "/" + name) { return nil }
        return "unknown time zone \(name)"
    }

    /// A regular file (or a link to one) that starts with the TZif magic, as Go's loader requires.
    private static func isZoneFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
            let handle = FileHandle(forReadingAtPath: path)
        else { return false }
        defer { try? handle.close() }
        guard let magic = try? handle.read(upToCount: 4) else { return false }
        return magic == Data("TZif".utf8)
    }
}
