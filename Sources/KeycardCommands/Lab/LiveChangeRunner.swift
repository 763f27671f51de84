import ArgumentParser
import Foundation
import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardScenario
import KeycardValues

/// The mutating live verbs. Each validates what it can without the lab (label pairs), takes the
/// lab's lock, and hands the change to the lab process, which keeps the lab's cluster and compiled
/// state between changes (`LiveLabService`); without a lab process it reloads the lab and makes
/// the change itself. Either way the change is made by `perform`: any invalid input throws before
/// the kernel is touched, and the journal is appended only once the lab is reprogrammed; from
/// the kernel's first change to the journal's, the lab's `LiveChangeMarker` says a change is
/// under way.
enum LiveChangeRunner {
    /// `files` (at least one) as one change: all applied, or (one refused) none.
    static func manifests(_ kind: LiveChange.Kind, lab: String, files: [String], namespace: String? = nil) throws {
        try submit(.manifests(kind, files: files, namespace: namespace), lab: lab)
    }

    static func label(lab: String, kind: LabelKind, name: String, pairs: [String]) throws {
        let labels = try LiveInput.labels(pairs)
        try submit(.label(kind, name: name, labels: labels), lab: lab)
    }

    private static func submit(_ request: LiveRequest, lab: String) throws {
        // The lab process takes the lab's lock itself for the change handed to it, from its
        // receipt until the record holds it: whatever becomes of this verb, no reader and no
        // other change meets that change half-made.
        if try handOver(request, lab: lab) { return }
        let lock = try LiveLock.changing(lab)
        defer { lock.release() }
        // Under the lock no change is under way: a marker is one that stopped half-way, and
        // this change rewrites every table whole (`LiveChangeMarker`).
        let whole = LiveChangeMarker.read(lab) != nil
        var live = try LiveLab.open(lab)
        // From the start of programming until the record is committed, SIGINT and SIGTERM (and
        // SIGHUP) are recorded rather than acted on: a verb stopped there would leave the
        // kernel half-reprogrammed while the record says otherwise. The verb then exits 128 + it.
        var trap: SignalTrap?
        defer { trap?.remove() }
        let out: [String]
        do {
            out = try perform(request, on: &live, log: { Console.error($0) }, willProgram: { trap = SignalTrap() }) { changed, previous in
                try changed.program(from: previous, whole: whole)
            }
        } catch {
            guard let signal = trap?.received else { throw error }
            Console.error(LiveCommand.message(request.kind.rawValue, error))
            Console.error("interrupted (signal \(signal))")
            throw ExitCode(128 + signal)
        }
        for line in out { Console.out(line) }
        if let signal = trap?.received {
            Console.error("interrupted (signal \(signal)) after the change was made and recorded")
            throw ExitCode(128 + signal)
        }
    }

    /// Hands `request` to the lab process, if one listens, and prints its reply; false when none
    /// does (the verb makes the change itself). SIGINT and SIGTERM (and SIGHUP) are held from
    /// before the request is sent until the reply is printed, as the in-process path holds them
    /// while it programs: the lab process makes the change whatever becomes of the verb (it holds
    /// the lab's lock for it), and a verb stopped while it waits would exit without saying what
    /// was changed, or whether anything was. A signal that came
    /// before the request was sent stops the verb there, nothing changed; one that came later
    /// waits for the reply, and the verb then exits 128 + the signal. A second signal stops the
    /// wait (a hung lab process), saying the change may still be made; exit 128 + the first.
    private static func handOver(_ request: LiveRequest, lab: String) throws -> Bool {
        let trap = SignalTrap()
        defer { trap.remove() }
        guard let connection = try LiveControl.connect(lab: lab) else {
            // Default handling first, then the last look: a signal between the two is not lost.
            trap.remove()
            if let signal = trap.received {
                Console.error("interrupted (signal \(signal)) before the change was made: nothing changed")
                throw ExitCode(128 + signal)
            }
            return false
        }
        if let signal = trap.received {
            Console.error("interrupted (signal \(signal)) before the change was handed to the lab process: nothing changed")
            throw ExitCode(128 + signal)
        }
        let reply: LiveReply
        do {
            // A second signal is the user insisting: a lab process that hangs must not hold the
            // verb for ever (only SIGKILL ended it). The change may still be made; the message says so.
            reply = try LiveControl.submit(request, lab: lab, on: connection) { trap.count >= 2 }
        } catch {
            guard let signal = trap.received else { throw error }
            Console.error(LiveCommand.message(request.kind.rawValue, error))
            Console.error("interrupted (signal \(signal))")
            throw ExitCode(128 + signal)
        }
        for line in reply.err { Console.error(line) }
        for line in reply.out { Console.out(line) }
        if let signal = trap.received {
            Console.error(
                reply.failed ? "interrupted (signal \(signal))" : "interrupted (signal \(signal)) after the change was made and recorded")
            throw ExitCode(128 + signal)
        }
        if reply.failed { throw Exit.invalid }
        return true
    }

    /// Makes `request` on `live`: changes its cluster (every file of an apply or delete, in order,
    /// each checked against the cluster the files before it left), has `program` reprogram the lab
    /// once (given the changed lab and the cluster before), then appends to the journal, one entry
    /// a file. A refused file throws before `program`: nothing of the request is applied.
    /// `willProgram` runs once the request is accepted, before the change is marked under way and
    /// the kernel touched. Returns the lines to print.
    static func perform(
        _ request: LiveRequest, on live: inout LiveLab, log: (String) -> Void, willProgram: () -> Void = {},
        program: (LiveLab, Cluster) throws -> Int
    ) throws -> [String] {
        let previous = live.cluster
        let before = live.held.api
        let warned = live.held.schedulingWarnings.count
        // Files holding no object (empty, comments only): kubectl apply fails ("no objects passed
        // to apply"), kubectl delete prints "No resources found" and succeeds; either way nothing
        // changes and nothing is journaled.
        if request.kind != .label {
            var objects = 0
            for file in request.files ?? [] { objects += try ManifestDeletes.objectCount(in: file) }
            if objects == 0 {
                if request.kind == .delete { return ["No resources found"] }
                throw LiveError("no objects passed to \(request.kind.rawValue): the input holds no Kubernetes object; nothing changed")
            }
        }
        var done: [String] = []
        var changes: [LiveChange] = []
        // A refused change journals nothing: the copies it took go with it.
        var committed = false
        defer {
            if !committed {
                for copy in changes.compactMap(\.snapshot) { try? FileManager.default.removeItem(atPath: copy) }
            }
        }
        // The copy replayed later is taken right after the file is read, before the lab changes.
        func snapshot(_ file: String) throws -> LiveChange {
            let number = live.record.journal.count + changes.count + 1
            return .manifest(
                request.kind, file: file, snapshot: try live.record.snapshot(file, number: number), namespace: request.namespace)
        }
        switch request.kind {
        case .apply:
            for file in request.files ?? [] {
                let (objects, warnings) = try LiveInput.objects(
                    in: file, namespaces: Array(live.cluster.namespaces.keys), plan: live.summary, namespace: request.namespace,
                    fromManifests: live.record.manifests != nil)
                changes.append(try snapshot(file))
                for warning in warnings { log(warning.description) }
                done += try live.apply(objects)
            }
        case .delete:
            // As kubectl delete -f: only each object's kind, name and namespace are read.
            for file in request.files ?? [] {
                let (targets, warnings) = try ManifestDeletes.targets(in: file, namespace: request.namespace)
                changes.append(try snapshot(file))
                for warning in warnings { log(warning.description) }
                done += try live.delete(targets)
            }
        case .label:
            let objectKind = request.objectKind ?? ""
            guard let kind = LabelKind(argument: objectKind) else { throw LiveError("cannot label a \(objectKind)") }
            let name = request.name ?? ""
            try live.label(kind, name, request.labels ?? [:])
            done = ["\(objectKind) \(name) labeled"]
            changes = [.label(objectKind: objectKind, name: name, labels: request.labels ?? [:])]
        }
        // A pod the change keeps Pending (its node port taken), or one it lets run: said once each.
        for warning in live.held.schedulingWarnings.dropFirst(warned) { log(warning.description) }
        for pod in live.cluster.sortedPods where previous.pods[pod.key] == nil && before.pods[pod.key] != nil {
            done.append("pod \(pod.key) is bound now: the node port it waited for is free")
        }
        // Before the kernel is touched: until the record holds the change, a process that dies
        // leaves the marker, and readers and the next change know the kernel is not the record's.
        willProgram()
        try LiveChangeMarker.begin(lab: live.name)
        let programmed = try program(live, previous)
        for change in changes { try live.commit(change) }
        committed = true
        LiveChangeMarker.end(lab: live.name)
        done.append("lab \(live.name): \(programmed) namespace\(programmed == 1 ? "" : "s") reprogrammed")
        return done
    }
}

/// The lab's change lock (`LabChangeLock`, a flock on /run/keycard/<lab>/live.lock), worded for
/// the live verbs. A verb making a change itself takes it exclusive, one at a time; the lab process
/// takes it for each change handed to it, from the request's receipt until the record holds the
/// change; `probe` and `scan` take it shared for their whole run, so that they never read the
/// record before a change and send packets while the kernel is being moved to the next one (they
/// would report the change in flight as a disagreement). Readers run together.
struct LiveLock {
    typealias Mode = LabChangeLock.Mode

    /// How long a reader waits for a change in progress before it refuses the lab (exit 2).
    static let readerWait: Duration = .seconds(120)

    private let lock: LabChangeLock

    /// Takes the lock, waiting for the process that holds it (a change waits for every reader and
    /// change), until `giveUp` says to stop (then nil).
    init?(_ lab: String, mode: Mode = .exclusive, giveUp: () -> Bool = { false }) throws {
        // The verbs check the name first (`LabArgument`); the lock never creates a file outside
        // /run/keycard/<lab> whoever calls it.
        if let problem = LabName.problem(lab) { throw LiveError("lab name \"\(lab)\" \(problem)") }
        switch LabChangeLock.take(lab, mode: mode, giveUp: giveUp) {
        case .locked(let lock): self.lock = lock
        case .busy: return nil
        case .gone: throw LiveError("lab \(lab) is not up (no \(LabPaths.directory(lab)))")
        }
    }

    /// Takes the lock exclusive, waiting for whoever holds it.
    static func changing(_ lab: String) throws -> LiveLock {
        guard let lock = try LiveLock(lab) else { throw LiveError("cannot lock lab \(lab)") }
        return lock
    }

    /// A reader's lock (`probe`, `scan`): shared, held until `release`; it waits for a change in
    /// progress up to `readerWait`, then refuses. A lab without its folder takes none:
    /// `LiveLab.open` then says the lab is not up, as before.
    static func reading(_ lab: String) throws -> LiveLock? {
        if let problem = LabName.problem(lab) { throw LiveError("lab name \"\(lab)\" \(problem)") }
        switch LabChangeLock.take(lab, mode: .shared, until: .now + readerWait) {
        case .locked(let lock): return LiveLock(lock: lock)
        case .gone: return nil
        case .busy:
            throw LiveError(
                "lab \(lab): a change is still being made after \(readerWait.components.seconds) s (see \(LiveLabServer.logPath(lab))); try again, or keycard down \(lab)"
            )
        }
    }

    private init(lock: LabChangeLock) { self.lock = lock }

    func release() { lock.release() }
}
