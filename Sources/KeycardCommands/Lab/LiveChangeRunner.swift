import Foundation
import KeycardLab
import KeycardScenario

/// The mutating live verbs: compute the new cluster, reprogram the lab, then append to the journal.
/// Any invalid input throws before the kernel is touched.
enum LiveChangeRunner {
    static func manifest(_ kind: LiveChange.Kind, lab: String, file: String) throws {
        let lock = try LiveLock(lab)
        defer { lock.release() }
        var live = try LiveLab.open(lab)
        let previous = live.cluster
        let (objects, warnings) = try LiveInput.objects(in: file, namespaces: Array(live.cluster.namespaces.keys), plan: live.summary)
        for warning in warnings { Console.error(warning.description) }
        let done = kind == .apply ? try live.apply(objects) : try live.delete(objects)
        let programmed = try live.program(from: previous)
        try live.commit(.manifest(kind, file: file, snapshot: try live.record.snapshot(file)))
        for line in done { Console.out(line) }
        Console.out("lab \(lab): \(programmed) namespace\(programmed == 1 ? "" : "s") reprogrammed")
    }

    static func label(lab: String, kind: LabelKind, name: String, pairs: [String]) throws {
        let objectKind = kind.rawValue
        let labels = try LiveInput.labels(pairs)
        let lock = try LiveLock(lab)
        defer { lock.release() }
        var live = try LiveLab.open(lab)
        let previous = live.cluster
        try live.label(kind, name, labels)
        let programmed = try live.program(from: previous)
        try live.commit(.label(objectKind: objectKind, name: name, labels: labels))
        Console.out("\(objectKind) \(name) labeled")
        Console.out("lab \(lab): \(programmed) namespace\(programmed == 1 ? "" : "s") reprogrammed")
    }
}

/// One mutating live verb at a time per lab: an exclusive flock on /run/keycard/<lab>/live.lock.
struct LiveLock {
    private let fd: Int32

    init(_ lab: String) throws {
        let directory = LabPaths.directory(lab)
        guard FileManager.default.fileExists(atPath: directory) else { throw LiveError("lab \(lab) is not up (no \(directory))") }
        fd = open("\(directory)/live.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LiveError("cannot open \(directory)/live.lock: errno \(errno)") }
        flock(fd, LOCK_EX)
    }

    func release() { close(fd) }
}
