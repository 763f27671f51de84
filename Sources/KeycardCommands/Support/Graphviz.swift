import Foundation
import KeycardKernel

/// Graphviz's `dot` program (Debian `graphviz`), run as a process to lay DOT out as SVG. `dot`
/// may take minutes and gigabytes on a dense graph (`GraphDotRenderer` bounds what it draws), so it
/// runs under a time limit and ends with keycard: a SIGINT, SIGTERM or SIGHUP while it runs ends
/// `dot` first, then takes its default course.
enum Graphviz {
    enum Failure: Error, CustomStringConvertible {
        case missing
        case failed(String)
        case timedOut(Duration)
        /// The graph was left out of a page: why, and how to get it.
        case omitted(String)

        var description: String {
            switch self {
            case .missing: "graphviz's dot is not installed (Debian package graphviz; scripts/setup installs it)"
            case .failed(let message): "dot failed: \(message)"
            case .timedOut(let limit):
                "dot did not finish within \(limit) and was stopped (the graph is too large to lay out; `keycard graph` prints it as DOT)"
            case .omitted(let reason): reason
            }
        }
    }

    static let paths = ["/usr/bin/dot", "/usr/local/bin/dot"]

    /// How long `dot` may run.
    static let timeLimit: Duration = .seconds(60)

    /// `dot -Tsvg` of `source`: the SVG document.
    static func svg(_ source: String) throws -> String {
        guard let path = paths.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { throw Failure.missing }
        return try run(path, ["-Tsvg"], input: source, timeLimit: timeLimit)
    }

    /// The standard output of `path` run with `arguments` and `input` on its standard input.
    /// Stopped (SIGTERM, then SIGKILL) after `timeLimit` (`Failure.timedOut`) or when keycard gets
    /// SIGINT, SIGTERM or SIGHUP: then the signal is raised again at its default disposition,
    /// which ends keycard, or, with `rethrowing`, thrown as `Interrupted`. `started` gets the
    /// child's pid.
    static func run(
        _ path: String, _ arguments: [String], input: String, timeLimit: Duration, rethrowing: Bool = false,
        started: (Int32) -> Void = { _ in }
    ) throws -> String {
        let trap = SignalTrap()
        defer { trap.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        started(process.processIdentifier)
        // Write and read on other threads: a large graph could fill one pipe while we use another,
        // and the main thread watches the clock and the signals.
        let data = Data(input.utf8)
        Thread {
            try? stdin.fileHandleForWriting.write(contentsOf: data)
            try? stdin.fileHandleForWriting.close()
        }.start()
        let output = Drained(stdout)
        let errors = Drained(stderr)
        let deadline = ContinuousClock.now + timeLimit
        var timedOut = false
        func stopOnSignal() throws {
            guard let signal = trap.received else { return }
            if process.isRunning { end(process) }
            if rethrowing { throw Interrupted(signal: signal) }
            trap.remove()
            kill(getpid(), signal)
            exit(128 + signal)
        }
        while process.isRunning {
            try stopOnSignal()
            if ContinuousClock.now >= deadline {
                timedOut = true
                end(process)
                break
            }
            usleep(20_000)
        }
        process.waitUntilExit()
        // A signal in the last sleep, or while dot exited, still stops keycard (the trap's
        // removal at the end would drop it).
        try stopOnSignal()
        if timedOut { throw Failure.timedOut(timeLimit) }
        let message = String(decoding: errors.data(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, process.terminationReason == .exit else {
            throw Failure.failed(message.isEmpty ? why(process) : message)
        }
        return String(decoding: output.data(), as: UTF8.self)
    }

    /// Why a process that printed no error failed: its exit status, or the signal that ended it.
    private static func why(_ process: Process) -> String {
        let status = process.terminationStatus
        guard process.terminationReason == .uncaughtSignal else { return "exit status \(status), no message" }
        let name = String(cString: strsignal(status))
        // The kernel's out-of-memory killer ends a process with SIGKILL.
        return "killed by signal \(status) (\(name))" + (status == SIGKILL ? ", perhaps out of memory: the graph is too large" : "")
    }

    /// Ends `process`: SIGTERM, then SIGKILL if it is still running a second later; returns once
    /// it has exited and been reaped (no zombie is left when keycard goes on or re-raises).
    private static func end(_ process: Process) {
        process.terminate()
        let grace = ContinuousClock.now + .seconds(1)
        while process.isRunning, ContinuousClock.now < grace { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// A pipe read to its end on a thread of its own.
    private final class Drained: @unchecked Sendable {
        private var bytes = Data()
        private let done = DispatchSemaphore(value: 0)

        init(_ pipe: Pipe) {
            Thread { [self] in
                bytes = pipe.fileHandleForReading.readDataToEndOfFile()
                done.signal()
            }.start()
        }

        /// What was read, once the pipe's writer is gone.
        func data() -> Data {
            done.wait()
            done.signal()
            return bytes
        }
    }
}
