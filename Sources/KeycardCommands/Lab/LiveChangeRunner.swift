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
        let lock = try LiveLock(lab)
        defer { lock.release() }
        if try handOver(request, lab: lab) { return }
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
    /// while it programs: the lab process makes the change whatever becomes of the verb, and a
    /// verb stopped while it waits would let go of the lab's lock with the change still being
    /// made and exit without saying what was changed, or whether anything was. A signal that came
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

/// The lab's lock, a flock on /run/keycard/<lab>/live.lock. The mutating verbs take it
/// exclusive, one at a time; `probe` and `scan` take it shared for their whole run, so that they
/// never read the record before a change and send packets while the kernel is being moved to the
/// next one (they would report the change in flight as a disagreement). Readers run together.
struct LiveLock {
    /// exclusive (`LOCK_EX`) for a change, shared (`LOCK_SH`) for a reader.
    enum Mode {
        case exclusive, shared

        var operation: Int32 { self == .exclusive ? LOCK_EX : LOCK_SH }
    }

    private let fd: Int32

    /// Takes the lock, waiting for the verb that holds it (a reader waits for a change, a change
    /// for every reader and change).
    init(_ lab: String, mode: Mode = .exclusive) throws {
        guard let lock = try LiveLock(lab, mode: mode, wait: true) else { throw LiveError("cannot lock lab \(lab)") }
        self = lock
    }

    /// Takes the lock; nil when another process holds it and `wait` is false.
    init?(_ lab: String, mode: Mode = .exclusive, wait: Bool) throws {
        // The verbs check the name first (`LabArgument`); the lock never creates a file outside
        // /run/keycard/<lab> whoever calls it.
        if let problem = LabName.problem(lab) { throw LiveError("lab name \"\(lab)\" \(problem)") }
        let directory = LabPaths.directory(lab)
        guard FileManager.default.fileExists(atPath: directory) else { throw LiveError("lab \(lab) is not up (no \(directory))") }
        let fd = open("\(directory)/live.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw LiveError("cannot open \(directory)/live.lock: errno \(errno)") }
        var rc: Int32
        repeat { rc = flock(fd, wait ? mode.operation : mode.operation | LOCK_NB) } while rc != 0 && errno == EINTR
        guard rc == 0 else {
            close(fd)
            return nil
        }
        self.fd = fd
    }

    /// A reader's lock (`probe`, `scan`): shared, held until `release`. A lab without its folder
    /// takes none: `LiveLab.open` then says the lab is not up, as before.
    static func reading(_ lab: String) throws -> LiveLock? {
        guard FileManager.default.fileExists(atPath: LabPaths.directory(lab)) else { return nil }
        return try LiveLock(lab, mode: .shared)
    }

    func release() { close(fd) }
}
