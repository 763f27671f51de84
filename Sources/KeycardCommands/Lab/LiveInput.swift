import Foundation
import KeycardLab
import KeycardModel
import KeycardScenario
import KeycardValues

/// Reading what the user names on a live verb's command line: manifests (as keycard reads scenario
/// resources, errors as file:line:col), pods, ports, labels.
enum LiveInput {
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// The objects of manifest `path`, each decoded and validated as a scenario's `apply` step
    /// reads it; what they do to the lab's cluster (updates, its service range, cluster DNS,
    /// namespaces that must exist) is judged when `ClusterChange` applies them to it. Uses the
    /// scenario loader's own parser: a one-step scenario whose
    /// `apply` names the file, anchored (never written) in the file's folder so errors name `path`.
    /// `namespace` (`keycard apply -n`): where objects that name none go, as `kubectl apply -n`
    /// (the scenario's `{file, namespace}` item: it must exist, and an object naming another is refused).
    /// `fromManifests`: the lab came from plain manifests, whose container commands it never runs.
    static func objects(
        in path: String, namespaces: [String], plan: LabPlanSummary, namespace: String? = nil, fromManifests: Bool = false
    ) throws(ScenarioError) -> (objects: [LoadedObject], warnings: [ScenarioWarning]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ScenarioError(SourceLocation.start(of: path), "no such file")
        }
        let folder = (path as NSString).deletingLastPathComponent
        let anchor = folder.isEmpty ? ".keycard-live.yaml" : (folder as NSString).appendingPathComponent(".keycard-live.yaml")
        let base = (path as NSString).lastPathComponent
        var lines = [
            "apiVersion: keycard/v1", "kind: Scenario", "metadata:", "  name: live", "spec:", "  lab:",
            "    nodes: \(plan.nodes)", "    podCIDR: \(quoted(plan.podCIDR.description))", "  resources:",
        ]
        for name in namespaces.sorted() where !Timeline.builtinNamespaces.contains(name) {
            lines += ["    - apiVersion: v1", "      kind: Namespace", "      metadata:", "        name: \(quoted(name))"]
        }
        if lines.last == "  resources:" { lines[lines.count - 1] = "  resources: []" }
        lines += ["  steps:", "    - apply:", "        - file: \(quoted(base))"]
        if let namespace { lines.append("          namespace: \(quoted(namespace))") }
        // Only read here: what the objects do to the cluster (an update's rules, the lab's service
        // range and cluster DNS) is for `ClusterChange` on the lab's cluster to judge. Applied to
        // this scenario's empty cluster, a type change was judged as a create and a ClusterIP
        // against the default range.
        let scenario = try ScenarioLoader.read(lines.joined(separator: "\n") + "\n", file: anchor)
        guard case .apply(let objects) = scenario.steps.first?.action else {
            throw ScenarioError(SourceLocation.start(of: path), "no objects found")
        }
        // A lab from manifests runs no container command (`ManifestLoader.withoutCommands`).
        return (fromManifests ? ManifestLoader.withoutCommands(objects).objects : objects, scenario.warnings)
    }

    /// A YAML double-quoted scalar (JSON string syntax is valid YAML).
    static func quoted(_ text: String) -> String {
        let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\\/", with: "/")
    }

    /// `a,b` and repeated options alike, each item trimmed. An empty item (`--from ""`, `--ports ,`:
    /// an unset shell variable) is refused: leaving the option out means "every one", and an empty
    /// value must not quietly widen what a command does.
    /// - Throws: `LiveError` naming `option`.
    static func list(_ values: [String], option: String) throws(LiveError) -> [String] {
        var items: [String] = []
        for value in values {
            for item in value.split(separator: ",", omittingEmptySubsequences: false) {
                let trimmed = item.trimmingCharacters(in: .whitespaces)
                guard !trimmed.isEmpty else {
                    throw LiveError("\(option) \"\(value)\" has an empty item; name each one, or leave \(option) out for every one")
                }
                items.append(trimmed)
            }
        }
        return items
    }

    /// `list`'s items, each read by `parse`; an item that reads as one before it (`80,80`,
    /// `TCP/80,tcp/80`) is refused, as a scenario's `probe.ports` and `scan.ports` refuse it: it
    /// would try every connection twice.
    /// - Throws: `LiveError` naming `option`, or what `parse` throws.
    static func distinct<Value: Hashable & CustomStringConvertible>(
        _ values: [String], option: String, parse: (String) throws(LiveError) -> Value
    ) throws(LiveError) -> [Value] {
        var seen: Set<Value> = []
        var parsed: [Value] = []
        for text in try list(values, option: option) {
            let value = try parse(text)
            guard seen.insert(value).inserted else { throw LiveError("\(option) \(value) is listed twice") }
            parsed.append(value)
        }
        return parsed
    }

    /// `k=v` pairs, validated as Kubernetes label keys and values.
    static func labels(_ pairs: [String]) throws(LiveError) -> Labels {
        var labels: Labels = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "=") else {
                throw LiveError("label \"\(pair)\" must be key=value (labels are replaced exactly; omit a key to remove it)")
            }
            let key = String(pair[..<equals])
            let value = String(pair[pair.index(after: equals)...])
            if let problem = NameRules.labelKeyProblem(key) { throw LiveError(problem) }
            if let problem = NameRules.labelValueProblem(value) { throw LiveError(problem) }
            if labels[key] != nil { throw LiveError("label key \"\(key)\" is given twice") }
            labels[key] = value
        }
        return labels
    }
}

/// What manifest validation needs to know of the lab.
struct LabPlanSummary {
    var nodes: Int
    var podCIDR: CIDR
}

/// A live verb's refusal, with its message (exit code 2).
struct LiveError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
