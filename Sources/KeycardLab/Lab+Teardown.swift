import Foundation
import KeycardKernel
import KeycardTopology
import KeycardValues

extension Lab {
    /// Removes lab `name` only if this process brought it up (its state names this process as the
    /// owner): a command refused because the name is taken must leave the lab holding it alone,
    /// even when a signal comes as it is refused. Returns whether it removed the lab.
    @discardableResult
    public static func downIfOwned(_ name: String) -> Bool {
        guard isOwned(name) else { return false }
        _ = try? down(name: name)
        return true
    }

    /// Whether this process brought lab `name` up: its state names this process as the owner, by
    /// pid and start time (a pid alone may be a reused one of an owner long gone).
    public static func isOwned(_ name: String) -> Bool {
        guard let state = status(name).state, state.ownerPID == ProcessTable.currentPID else { return false }
        return state.ownerStartTime == nil || state.ownerStartTime == ProcessTable.startTime(of: ProcessTable.currentPID)
    }

    /// Whether lab `name` exists (its folder in /run/keycard) and this process did not bring it up.
    public static func isHeldByAnother(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: LabPaths.directory(name)) && !isOwned(name)
    }

    /// Removes lab `name` completely, with or without a state file: stops every process living in
    /// one of its namespaces (and the recorded ones, if still the same processes), deletes every
    /// /run/netns/kc-<name>.* (which destroys the veths inside), removes /run/keycard/<name>.
    /// Idempotent: tearing down a lab that does not exist does nothing.
    @discardableResult
    public static func down(name: String) throws(LabError) -> [LabTiming] {
        let clock = ContinuousClock()
        var timings: [LabTiming] = []
        var start = clock.now
        func lap(_ stage: String) {
            timings.append(LabTiming(stage: stage, seconds: (clock.now - start).seconds))
            start = clock.now
        }
        // A live change in progress (a verb making it itself, or the lab process making one handed
        // to it) is let finish first: removed under it, the lab would come back in part as the
        // change writes its record. Shared, so readers are not waited for; a change still under
        // way after `changeWait` is not waited for longer (removing a lab by name must always
        // work): it then finds the lab's folder gone and writes nothing back (`LabChangeLock`,
        // `LiveLabRecord.snapshot` never create it).
        var lock: LabChangeLock?
        switch LabChangeLock.take(name, mode: .shared, until: .now + .seconds(changeWait)) {
        case .locked(let taken): lock = taken
        case .busy:
            labLogger.warning(
                "lab \(name): a live change still holds \(LabChangeLock.path(name)) after \(Int(changeWait)) s; removing the lab anyway")
        case .gone: break
        }
        defer { lock?.release() }
        var state = try? LabState.read(name)
        if let owner = state?.liveOwner {
            // A `keycard run` or `up` still running the lab: stopped first, as SIGTERM stops it
            // (it tears its lab down and exits 143); whatever it leaves is removed below.
            labLogger.notice("lab \(name): stopping its owner, keycard process \(owner) (SIGTERM)")
            stopOwner(owner, startTime: state?.ownerStartTime)
            state = try? LabState.read(name)
        }
        // `keycard observe LAB` holds NFLOG sockets inside the lab's namespaces: a namespace
        // deleted under it would live on unseen (its tables too) for as long as observe runs.
        // Stopped first, with time to leave as SIGTERM asks (it exits 0).
        ProcessTable.stop(observers(of: name), grace: observerGrace)
        let namespaces = namespaces(of: name)
        let inodes = Set(namespaces.compactMap { NetworkNamespace.inode(of: $0) })
        var pids = ProcessTable.pids(inNamespaceInodes: inodes)
        let recorded = (state?.processes ?? []) + (state?.server.map { [$0] } ?? [])
        // A lab process (`keycard serve LAB`) lives in the host's namespace: found by its command
        // line too, so one whose start raced a tear-down (never recorded) is not left running.
        for pid in ProcessTable.pids(runningArguments: ["serve", name], programName: "keycard") where !pids.contains(pid) {
            pids.append(pid)
        }
        for process in recorded where !pids.contains(process.pid) {
            // A recorded pid counts only while it still names the process we started.
            if let recorded = process.startTime, ProcessTable.startTime(of: process.pid) == recorded {
                pids.append(process.pid)
            }
        }
        ProcessTable.stop(pids)
        // A process started while the list was taken (a program of a bring-up still under way in
        // another process) is found on a second look; stop until none is left, a few rounds at most.
        for _ in 0..<3 {
            let late = ProcessTable.pids(inNamespaceInodes: inodes).filter { !ProcessTable.hasExited($0) }
            if late.isEmpty { break }
            ProcessTable.stop(late)
        }
        lap("stop processes")
        var leftovers: [String] = []
        for namespace in namespaces {
            do {
                try NetworkNamespace.delete(namespace)
            } catch {
                leftovers.append("\(namespace) (\(error))")
            }
        }
        lap("delete namespaces")
        let directory = LabPaths.directory(name)
        // A few tries: a change not waited for (`changeWait`) may still add a file while the
        // folder is being removed; once it is gone, nothing brings it back.
        for attempt in 1...3 where FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.removeItem(atPath: directory)
            } catch {
                if attempt == 3 { leftovers.append("\(directory) (\(error))") }
            }
        }
        lap("remove state")
        for timing in timings {
            labLogger.debug("lab \(name) down: \(timing.stage)", metadata: ["ms": "\(Int(timing.seconds * 1000))"])
        }
        if !leftovers.isEmpty { throw .teardownIncomplete(lab: name, leftovers: leftovers) }
        return timings
    }

    /// Seconds `down` waits for a live change in progress to finish (`LabChangeLock`).
    static let changeWait = 30.0

    /// Seconds `keycard observe` gets to exit after SIGTERM (it checks every 200 ms) before SIGKILL.
    static let observerGrace = 3.0

    /// The `keycard observe` processes following lab `name`: those registered under the lab's
    /// folder (`LabObserver`, written by observe itself: found however its command line was
    /// written), and, for one that has not registered yet (or an earlier keycard's), those whose
    /// command line is `keycard observe` with `name` as its one positional argument (`isObserve`).
    public static func observers(of name: String) -> [pid_t] {
        let registered = LabObserver.running(name)
        let byArguments = ProcessTable.pids(programName: "keycard") { isObserve($0, of: name) }
        return Set(registered + byArguments).sorted()
    }

    /// Whether `arguments` (argv without argv[0]) are `observe` of lab `name`: its one positional
    /// argument, read past observe's options as swift-argument-parser reads them
    /// (`ObserveCommand`): `--namespace`, `--pod`, `--verdict`, `--output` and `-o` take the next
    /// argument as their value, `--opt=value` and flags do not, and a group of short options
    /// (`-vo json`) takes the next argument when one of them is `-o`. So lab `rvd1` never matches
    /// `observe rvd10`, nor a value that happens to be the lab's name.
    public static func isObserve(_ arguments: [String], of name: String) -> Bool {
        guard arguments.first == "observe" else { return false }
        let valued: Set = ["--namespace", "--pod", "--verdict", "--output"]
        let valuedShort: Set<Character> = ["o"]
        var index = 1
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { return index + 1 < arguments.count && arguments[index + 1] == name }
            if argument.hasPrefix("--") {
                index += valued.contains(argument) ? 2 : 1
            } else if argument.hasPrefix("-") && argument.count > 1 {
                // `-o`, `-v`, or a group of them (`-vo`): the value, if any, is the next argument
                // (unless it is joined with `=`).
                let takesNext = !argument.contains("=") && argument.dropFirst().contains(where: valuedShort.contains)
                index += takesNext ? 2 : 1
            } else {
                return argument == name
            }
        }
        return false
    }

    /// Seconds a running owner gets to tear its own lab down after SIGTERM, before SIGKILL.
    static let ownerGrace = 20.0

    /// SIGTERM to the owner, up to `ownerGrace` seconds for it to exit, then SIGKILL, each signal
    /// only while the pid still names the process that started at `startTime` (a pid freed and
    /// reused meanwhile is another program's).
    static func stopOwner(_ pid: pid_t, startTime: UInt64?) {
        func isOwner() -> Bool { startTime != nil && ProcessTable.startTime(of: pid) == startTime && !ProcessTable.hasExited(pid) }
        guard isOwner() else { return }
        kill(pid, SIGTERM)
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int(ownerGrace * 1000))
        while clock.now < deadline, isOwner() { usleep(20_000) }
        if isOwner() { kill(pid, SIGKILL) }
    }

    /// Tears down every keycard lab on the machine (every `kc-` namespace's lab and every state
    /// directory), continuing past failures and throwing the first one at the end.
    public static func downAll() throws(LabError) {
        var firstError: LabError?
        for name in labNames() {
            do {
                try down(name: name)
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
    }

    /// Names of every lab found by its traces: state directories and `kc-<lab>.` namespaces.
    public static func labNames() -> [String] {
        var names = Set<String>()
        for namespace in NetworkNamespace.list() where namespace.hasPrefix("kc-") {
            let rest = namespace.dropFirst(3)
            if let dot = rest.firstIndex(of: "."), dot > rest.startIndex { names.insert(String(rest[..<dot])) }
        }
        let directories = (try? FileManager.default.contentsOfDirectory(atPath: LabPaths.root)) ?? []
        // Only folders with a valid lab name: a stray file (an old keycard's `live.lock` made
        // with an empty lab name) is no lab.
        for entry in directories where LabName.isValid(entry) {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: LabPaths.directory(entry), isDirectory: &isDirectory), isDirectory.boolValue {
                names.insert(entry)
            }
        }
        return names.sorted()
    }

    /// The lab's namespaces present under /run/netns, by prefix.
    public static func namespaces(of name: String) -> [String] {
        let prefix = TopologyPlanner.namespacePrefix(name)
        return NetworkNamespace.list().filter { $0.hasPrefix(prefix) }
    }
}
