import Foundation

/// Graphviz's `dot` program (Debian `graphviz`), run as a process to lay DOT out as SVG.
enum Graphviz {
    enum Failure: Error, CustomStringConvertible {
        case missing
        case failed(String)

        var description: String {
            switch self {
            case .missing: "graphviz's dot is not installed (Debian package graphviz; scripts/setup installs it)"
            case .failed(let message): "dot failed: \(message)"
            }
        }
    }

    static let paths = ["/usr/bin/dot", "/usr/local/bin/dot"]

    /// `dot -Tsvg` of `source`: the SVG document.
    static func svg(_ source: String) throws -> String {
        guard let path = paths.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { throw Failure.missing }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-Tsvg"]
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Write from another thread: a large graph could fill the output pipe while we write.
        let data = Data(source.utf8)
        let writer = Thread {
            input.fileHandleForWriting.write(data)
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let svg = output.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure.failed(String(decoding: message, as: UTF8.self)) }
        return String(decoding: svg, as: UTF8.self)
    }
}
