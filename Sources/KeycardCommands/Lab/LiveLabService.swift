import Foundation
import KeycardKernel
import KeycardLab
import KeycardProbe

/// The lab process's side of the live verbs: it keeps the lab's cluster (scenario + journal) and
/// its compiled policies (`LabPolicies`, an `IncrementalCompiler` inside) between changes, so a
/// change handed over /run/keycard/<lab>/control.sock costs what it touches, never a reload of
/// the scenario or a recompilation of every policy in place.
///
/// The lab process holds the lab's `LiveLock` for each request, from its receipt until the record
/// holds the change (the verb that sent it does not hold it: a verb killed meanwhile releases
/// nothing the change needs), and while it loads the lab. What it keeps is dropped, to be
/// reloaded from the journal and reprogrammed whole, whenever the record on disk is not the one
/// it wrote last (a verb ran without it), a change failed after the kernel was touched, or a
/// change was left half-made (`LiveChangeMarker`).
final class LiveLabService {
    let lab: String
    private var live: LiveLab?
    private var policies: LabPolicies?
    private var services: LabServices?

    init(lab: String) { self.lab = lab }

    /// Loads the lab now (under its lock), so that the first change does not pay for it. Never
    /// waits for the lock: a verb holding it may be waiting for this process's reply, and the
    /// request then loads the lab. A lab that cannot be loaded is logged; each request then tries
    /// again and replies with the error.
    func warm() {
        do {
            guard let lock = try LiveLock(lab, giveUp: { true }) else { return }
            defer { lock.release() }
            try load()
            Console.error("lab \(lab): live changes served on \(LabPaths.controlSocket(lab))")
        } catch {
            Console.error("lab \(lab): \(LiveCommand.message("serve", error)) (each live change will load the lab again)")
        }
    }

    /// Answers one connection: one request, one reply.
    func serve(_ connection: OwnedDescriptor, stopping: () -> Bool = { false }) {
        do {
            guard let data = try ControlSocket.receive(on: connection) else { return }
            let reply = handle(try JSONDecoder().decode(LiveRequest.self, from: data), stopping: stopping)
            try ControlSocket.send(try JSONEncoder().encode(reply), on: connection)
        } catch {
            Console.error("lab \(lab): control connection: \(error)")
        }
    }

    /// Makes one change. The lab's lock is taken at once and held until the record holds the
    /// change (or it is refused), and the change is marked under way before it is programmed
    /// (`LiveChangeMarker`; a reload of the record's own cluster before it rewrites only what the
    /// record holds): the verb that handed it over may be gone long before (killed), and
    /// readers and other changes must still wait for it rather than judge or move a kernel half
    /// reprogrammed. `stopping`: the lab process was asked to stop (`keycard down`): a change
    /// still waiting for the lock is not made.
    func handle(_ request: LiveRequest, stopping: () -> Bool = { false }) -> LiveReply {
        var reply = LiveReply()
        let lock: LiveLock
        do {
            guard let taken = try LiveLock(lab, giveUp: stopping) else {
                throw LiveError("lab \(lab): the lab process is stopping; nothing changed")
            }
            lock = taken
        } catch {
            reply.err.append(LiveCommand.message(request.kind.rawValue, error))
            reply.failed = true
            return reply
        }
        defer { lock.release() }
        var touched = false
        var marked = false
        do {
            // A relative file is the verb's: read it, and name it in messages, from its folder.
            guard FileManager.default.changeCurrentDirectoryPath(request.directory) else {
                throw LiveError("cannot enter \(request.directory)")
            }
            let onDisk = try LiveLabRecord.read(lab)
            // A marker: a change stopped half-way (this process's failed one, or a verb killed
            // while it made the change itself): every table is rewritten from the record first.
            // The lab's input files changed: refused as every verb refuses them (`LiveLab.open`).
            if live == nil || onDisk != live?.record || LiveChangeMarker.read(lab) != nil {
                touched = true
                try load()
                touched = false
            } else if let live {
                try live.requireInputsUnchanged()
            }
            guard var next = live, let policies, let services else { throw LiveError("lab \(lab) is not loaded") }
            try LiveChangeMarker.begin(lab: lab)
            marked = true
            reply.out = try LiveChangeRunner.perform(request, on: &next, log: { reply.err.append($0) }) { changed, _ in
                touched = true
                let count = try policies.program(changed.cluster)
                try services.program(changed.cluster)
                try changed.refreshDNS()
                return count
            }
            live = next
            Console.error(
                "lab \(lab): \(request.kind.rawValue) \(request.files?.joined(separator: " ") ?? request.name ?? ""): \(reply.out.last ?? "")"
            )
        } catch {
            if touched {
                // The kernel or the journal may differ from what is kept: reload both next time.
                live = nil
                policies = nil
                services = nil
                // A change this process began and could not finish is over, half-made: readers
                // that see its marker must say so, not wait for this live process to finish it.
                LiveChangeMarker.fail(lab: lab)
            } else if marked {
                // Refused before the kernel was touched: the kernel holds the record's cluster.
                LiveChangeMarker.end(lab: lab)
            }
            reply.err.append(LiveCommand.message(request.kind.rawValue, error))
            reply.failed = true
        }
        return reply
    }

    /// Reopens the lab from its scenario and journal, and programs its tables whole from the
    /// compiled state it keeps from now on (the tables an earlier process left are not trusted).
    /// After a change left half-made (its marker is there) the kernel may hold proxy tables the
    /// record has no Service for: every one the cluster needs none of is removed too.
    private func load() throws {
        live = nil
        policies = nil
        services = nil
        let interrupted = LiveChangeMarker.read(lab) != nil
        let opened = try LiveLab.open(lab)
        let programmer = opened.makePolicies()
        programmer.assumeProgrammed(opened.cluster)
        try programmer.program(opened.cluster)
        let proxy = opened.makeServices()
        if interrupted { proxy.assumeUnknown() }
        try proxy.program(opened.cluster)
        try opened.refreshDNS()
        // The kernel holds the record's cluster again, whatever a change left half-made.
        LiveChangeMarker.end(lab: lab)
        live = opened
        policies = programmer
        services = proxy
    }
}
