import Foundation

/// Progress on stderr. On a terminal: one line redrawn in place (`[elapsed] step 3/6 probe: ...`),
/// wiped before anything else is written and when the command ends. Elsewhere (a pipe, a file, CI):
/// plain lines, once a run has taken longer than a second (scripts and tests wait on them).
enum Progress {
    nonisolated(unsafe) private static var start = ContinuousClock.now
    nonisolated(unsafe) private static var pending: [String] = []
    /// Whether the live line is on screen now.
    nonisolated(unsafe) private static var live = false
    /// stderr is a terminal (and `TERM` is not `dumb`).
    static let terminal = isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["TERM"] != "dumb"

    static func line(_ text: String) {
        if terminal {
            let seconds = Int((ContinuousClock.now - start).components.seconds)
            let columns = max(Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 100, 20)
            let shown = String("[\(seconds / 60):\(String(format: "%02d", seconds % 60))] \(text)".prefix(columns - 1))
            Console.write("\r\u{1B}[K\(shown)", to: STDERR_FILENO)
            live = true
            return
        }
        if ContinuousClock.now - start < .seconds(1) {
            pending.append(text)
            return
        }
        for line in pending { Console.error(line) }
        pending = []
        Console.error(text)
    }

    /// At the end of the command: wipes the live line, and writes the lines held back in the first
    /// second when the command has run longer (a CI log then shows where a run stopped).
    static func finish() {
        clear()
        guard !terminal, !pending.isEmpty, ContinuousClock.now - start >= .seconds(1) else { return }
        for line in pending { Console.error(line) }
        pending = []
    }

    /// Wipes the live line (on a terminal), so the next text starts on a clean line.
    static func clear() {
        guard live else { return }
        live = false
        Console.write("\r\u{1B}[K", to: STDERR_FILENO)
    }
}
