import Foundation
import KeycardModel
import KeycardScenario

/// The programs a timeline's `command:` lines name that this machine does not have. The lab runs
/// a pod's command as a host program in the pod's namespace (container images are not run), found
/// through `PATH` as `posix_spawnp` finds it: a missing one fails `keycard run` at bring-up, so
/// every command that loads the scenario says so first.
enum HostPrograms {
    /// One warning per pod and missing program, at the pod's (or its workload's) place in the
    /// scenario (manifests mode drops commands, so only scenarios have any).
    static func warnings(_ timeline: Timeline, path: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        -> [String]
    {
        let folders = path.split(separator: ":").map(String.init)
        var seen = Set<String>()
        var result: [String] = []
        for state in [timeline.initial] + timeline.states {
            for pod in state.pods.values.filter({ !$0.commands.isEmpty }).sorted(by: { $0.key < $1.key }) {
                for program in pod.commands.compactMap(\.first) where !exists(program, in: folders) {
                    guard seen.insert("\(pod.key) \(program)").inserted else { continue }
                    let at = location(of: pod, in: timeline.scenario)?.description ?? timeline.scenario.file
                    result.append(
                        "\(at): warning: pod \(pod.key): command \"\(program)\" is not a program on this machine; "
                            + "keycard runs a command: as a host program in the pod's namespace (images are not run), so keycard run "
                            + "will fail at bring-up: install it, or remove the command and keycard serves the pod's declared ports itself")
                }
            }
        }
        return result
    }

    /// Where `pod` is written: its Pod object, or the workload whose controller made it (among the
    /// resources first, then the steps' applies).
    static func location(of pod: Pod, in scenario: Scenario) -> SourceLocation? {
        let applied = scenario.steps.flatMap { step -> [LoadedObject] in
            if case .apply(let objects) = step.action { return objects }
            return []
        }
        return (scenario.resourceBatches.joined() + applied).first { loaded in
            switch loaded.object {
            case .pod(let written): written.key == pod.key
            case .workload(let workload): workload.key == pod.owner?.workload
            default: false
            }
        }?.location
    }

    /// Whether `program` names an executable file: a path as it is, a bare name in one of `folders`.
    static func exists(_ program: String, in folders: [String]) -> Bool {
        if program.contains("/") { return FileManager.default.isExecutableFile(atPath: program) }
        return folders.contains { FileManager.default.isExecutableFile(atPath: ($0 as NSString).appendingPathComponent(program)) }
    }
}
