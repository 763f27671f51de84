import ArgumentParser
import KeycardLab

/// `keycard down LAB | --all`: remove a lab completely, even without its state file.
struct DownCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Remove a lab (its namespaces, lab process, programs and state), or every keycard lab with --all."
    )

    @OptionGroup var logging: LoggingOptions

    @Argument(help: "The lab to remove.") var lab: String?
    @Flag(help: "Remove every keycard lab on this machine.") var all = false

    func validate() throws {
        if all == (lab != nil) { throw ValidationError("name one lab, or give --all") }
        if let lab { try LabArgument.check(lab) }
    }

    func run() throws {
        logging.apply()
        try Environment.requireRoot()
        let names = all ? Lab.labNames() : [lab].compactMap { $0 }
        var failed = false
        if names.isEmpty { Console.out("no keycard lab on this machine: nothing to remove") }
        for name in names {
            let found = Lab.status(name)
            // Only a lab process still running is removed; one already gone is not claimed.
            let server = found.state?.server.flatMap { LiveLabServer.isAlive($0) ? " and lab process \($0.pid)" : nil } ?? ""
            let hasFiles = found.state != nil || Lab.labNames().contains(name)
            guard !found.namespaces.isEmpty || hasFiles else {
                Console.out("lab \(name): nothing to remove (no namespace kc-\(name).*, no \(LabPaths.directory(name)))")
                continue
            }
            do {
                try Lab.down(name: name)
                Console.out("lab \(name) removed: \(found.namespaces.count) namespace\(found.namespaces.count == 1 ? "" : "s")\(server)")
            } catch {
                Console.error("keycard down: \(error)")
                failed = true
            }
        }
        if failed { throw Exit.failed }
    }
}
