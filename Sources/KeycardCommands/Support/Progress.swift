import Foundation
import Synchronization

/// Progress on stderr. On a terminal: one line redrawn in place (`[elapsed] step 3/6 probe: ...`),
/// wiped before anything else is written and when the command ends. Elsewhere (a pipe, a file, CI):
/// plain lines, once a run has taken longer than a second (scripts and tests wait on them): lines
/// of the first second are held, and written when the second is over, by a timer if no later line
/// comes first, or at exit.
enum Progress {
    nonisolated(unsafe) private static var start = ContinuousClock.now
    /// Lines held in the first second, and whether the timer that writes them is set.
    private static let held = Mutex<(lines: [String], timer: Bool)>(([], false))
    /// Whether the live line is on screen now.
    nonisolated(unsafe) private static var live = false
    /// stderr is a terminal (and `TERM` is not `dumb`).
    static let terminal = isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["TERM"] != "dumb"

    static func line(_ text: String) {
        // Step names come from the user's file: nothing in them drives the terminal.
        let text = Console.escapingControls(text)
        if terminal {
            let seconds = Int((ContinuousClock.now - start).components.seconds)
            let columns = max(Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 100, 20)
            let shown = String("[\(seconds / 60):\(String(format: "%02d", seconds % 60))] \(text)".prefix(columns - 1))
            Console.write("\r\u{1B}[K\(shown)", to: STDERR_FILENO)
            live = true
            return
        }
        // `start` is set on first use: read it before the clock, or the first line looks early.
        let began = start
        let elapsed = ContinuousClock.now - began
        held.withLock { state in
            if elapsed < .seconds(1) {
                state.lines.append(text)
                guard !state.timer else { return }
                state.timer = true
                // The first second may end in a long step: its lines are written when it is over.
                let left = (Duration.seconds(1) - elapsed).components
                let delay = max(0, Double(left.seconds) + Double(left.attoseconds) / 1e18)
                DispatchQueue.global().asyncAfter(deadline: .now() + delay) { writeHeld() }
                return
            }
            for line in state.lines { Console.error(line) }
            state.lines = []
            Console.error(text)
        }
    }

    /// Writes the lines held in the first second (the timer's work, or the end of a command that
    /// ran longer than a second).
    private static func writeHeld() {
        held.withLock { state in
            for line in state.lines { Console.error(line) }
            state.lines = []
        }
    }

    /// At the end of the command: wipes the live line, and writes the held lines when the command
    /// has run longer than a second (a CI log then shows where a run stopped).
    static func finish() {
        clear()
        guard !terminal, ContinuousClock.now - start >= .seconds(1) else { return }
        writeHeld()
    }

    /// Wipes the live line (on a terminal), so the next text starts on a clean line.
    static func clear() {
        guard live else { return }
        live = false
        Console.write("\r\u{1B}[K", to: STDERR_FILENO)
    }
}
