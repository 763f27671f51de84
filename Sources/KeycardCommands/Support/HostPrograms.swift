import Foundation
import KeycardModel
import KeycardScenario

/// The programs a timeline's `command:` lines name that this machine does not have. The lab runs
/// a pod's command as a host program in the pod's namespace (container images are not run), found
/// through `PATH` as `posix_spawnp` finds it: a missing one fails `keycard run` at bring-up, so
/// every command that loads the scenario says so first.
enum HostPrograms {
    /// One warning per pod and missing program, at the scenario file (manifests mode drops
    /// commands, so only scenarios have any).
    static func warnings(_ timeline: Timeline, path: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        -> [String]
    {
        let folders = path.split(separator: ":").map(String.init)
        var seen = Set<String>()
        var result: [String] = []
        for state in [timeline.initial] + timeline.states {
            for pod in state.pods.values.sorted(by: { $0.key < $1.key }) {
                for program in pod.commands.compactMap(\.first) where !exists(program, in: folders) {
                    guard seen.insert("\(pod.key) \(program)").inserted else { continue }
                    result.append(
                        "\(timeline.scenario.file): warning: pod \(pod.key): command \"\(program)\" is not a program on this machine; "
                            + "keycard runs a command: as a host program in the pod's namespace (images are not run), so keycard run "
                            + "will fail at bring-up: install it, or remove the command and keycard serves the pod's declared ports itself")
                }
            }
        }
        return result
    }

    /// Whether `program` names an executable file: a path as it is, a bare name in one of `folders`.
    static func exists(_ program: String, in folders: [String]) -> Bool {
        if program.contains("/") { return FileManager.default.isExecutableFile(atPath: program) }
        return folders.contains { FileManager.default.isExecutableFile(atPath: ($0 as NSString).appendingPathComponent(program)) }
    }
}
