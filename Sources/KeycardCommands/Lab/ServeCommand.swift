import ArgumentParser
import Foundation
import KeycardKernel
import KeycardLab
import KeycardProbe

/// `keycard serve LAB` (hidden): the lab process. Serves every port of the lab's plan from sockets
/// opened inside the pods' namespaces, records itself in the lab's state, makes the changes the live
/// verbs hand it on /run/keycard/<lab>/control.sock (`LiveLabService`), and runs until SIGTERM or
/// SIGINT (`keycard down` sends SIGTERM).
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a lab's ports in the foreground (started by keycard up; stopped by keycard down).",
        shouldDisplay: false
    )

    @OptionGroup var options: LabOptions
    var lab: String { options.lab }
    @Option(help: "PID:STARTTIME of a process to outlive first (the keycard run that still holds the ports).")
    var after: String?

    func run() throws {
        options.logging.apply()
        try Environment.requireRoot()
        if let after {
            // pid + start time name one process; a reused pid is not waited for.
            let parts = after.split(separator: ":")
            if parts.count == 2, let pid = Int32(parts[0]), let start = UInt64(parts[1]) {
                while ProcessTable.startTime(of: pid) == start { Sleep.milliseconds(20) }
            }
        }
        let state: LabState
        do {
            guard let read = try LabState.read(lab), read.phase == .ready else {
                Console.error("keycard serve: lab \(lab) is not up (no ready state in \(LabPaths.stateFile(lab)))")
                throw Exit.invalid
            }
            state = read
        } catch let error as LabError {
            Console.error("keycard serve: \(error)")
            throw Exit.invalid
        }
        let server: PortServer
        do {
            server = try PortServer(endpoints: LabServing.endpoints(state.plan))
        } catch {
            Console.error("keycard serve: lab \(lab): \(error)")
            throw Exit.invalid
        }
        let trap = SignalTrap()
        defer { trap.remove() }
        let control: OwnedDescriptor?
        do {
            control = try ControlSocket.listen(at: LabPaths.controlSocket(lab))
        } catch {
            // The live verbs then make their changes themselves.
            Console.error("lab \(lab): no control socket: \(error)")
            control = nil
        }
        try LiveLabServer.record(lab: lab, pid: ProcessTable.currentPID, argv: CommandLine.arguments)
        Console.error(
            "lab \(lab): serving \(server.serving.count) ports (\(server.unsupported.count) unsupported), pid \(ProcessTable.currentPID)")
        let service = LiveLabService(lab: lab)
        if control != nil { service.warm() }
        // Live changes, one at a time, until a signal: then the server stops and the process exits 128 + it.
        while trap.received == nil {
            guard let control else {
                Sleep.milliseconds(100)
                continue
            }
            if let connection = ControlSocket.accept(control, milliseconds: 100) { service.serve(connection) { trap.received != nil } }
        }
        server.stop()
        throw ExitCode(128 + (trap.received ?? SIGTERM))
    }
}
