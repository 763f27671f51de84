import Foundation

/// Go's `time.Parse(time.RFC3339, text)`, as `metav1.Time` decodes a timestamp from JSON
/// (`creationTimestamp: "2024-01-15T10:00:00Z"`): `YYYY-MM-DDThh:mm:ss`, an optional fraction of
/// a second, then `Z` or a `±hh:mm` offset, each number in its range (day 31 only where the month
/// has it is left to Go; keycard checks the ranges).
enum GoTime {
    private static let pattern = try! NSRegularExpression(
        pattern: #"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$"#)

    static func isRFC3339(_ text: String) -> Bool {
        let range = NSRange(text.startIndex..., in: text)
        guard let match = pattern.firstMatch(in: text, range: range) else { return false }
        func number(_ group: Int) -> Int? {
            guard let part = Range(match.range(at: group), in: text) else { return nil }
            return Int(text[part])
        }
        guard let month = number(2), let day = number(3), let hour = number(4), let minute = number(5), let second = number(6)
        else { return false }
        let offsetOK = number(9).map { $0 < 24 } ?? true && (number(10).map { $0 < 60 } ?? true)
        return (1...12).contains(month) && (1...31).contains(day) && hour < 24 && minute < 60 && second < 60 && offsetOK
    }
}
