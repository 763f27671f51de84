import Foundation

/// Progress lines on stderr, once a run has taken longer than a second.
enum Progress {
    nonisolated(unsafe) private static var start = ContinuousClock.now
    nonisolated(unsafe) private static var pending: [String] = []

    static func line(_ text: String) {
        if ContinuousClock.now - start < .seconds(1) {
            pending.append(text)
            return
        }
        for line in pending { Console.error(line) }
        pending = []
        Console.error(text)
    }
}
