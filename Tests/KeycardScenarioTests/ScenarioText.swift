import Foundation
import KeycardModel
import Testing

@testable import KeycardScenario

/// Builds small scenario texts: a fixed head (namespace prod, pods prod/web and prod/api), extra
/// resources and steps appended as YAML lines. Case tables stay readable and line numbers are found
/// by searching the built text, not counted by hand.
enum ScenarioText {
    static let head = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata:
          name: sample
        spec:
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: prod}}
            - apiVersion: v1
              kind: Pod
              metadata: {name: web, namespace: prod, labels: {app: web}}
              spec:
                containers: [{name: web, image: nginx, ports: [{containerPort: 80, name: http}]}]
            - apiVersion: v1
              kind: Pod
              metadata: {name: api, namespace: prod, labels: {app: api}}
              spec:
                containers: [{name: api, image: api, ports: [{containerPort: 8080}]}]
        """

    /// The head, then `resources` (list items, written at column 1) and `steps` (list items).
    static func scenario(resources: String = "", steps: String? = nil, head: String = head) -> String {
        var text = head + "\n"
        if !resources.isEmpty { text += indent(resources, 4) + "\n" }
        if let steps { text += "  steps:\n" + indent(steps, 4) + "\n" }
        return text
    }

    /// A NetworkPolicy resource item named `name` in prod with the given spec (written at column 1).
    static func policy(_ spec: String, name: String = "p") -> String {
        """
        - apiVersion: networking.k8s.io/v1
          kind: NetworkPolicy
          metadata: {name: \(name), namespace: prod}
          spec:
        \(indent(spec, 4))
        """
    }

    static func indent(_ text: String, _ spaces: Int) -> String {
        let pad = String(repeating: " ", count: spaces)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : pad + $0 }.joined(separator: "\n")
    }
}

/// Where an error must point: the line holding `needle` (its first occurrence), and the column of
/// `token` (its first occurrence in that line), when a column is meaningful.
struct Spot: Sendable {
    var needle: String
    var token: String?
    var occurrence = 1

    static func line(_ needle: String, nth occurrence: Int = 1) -> Spot { Spot(needle: needle, token: nil, occurrence: occurrence) }
    static func at(_ needle: String, column token: String) -> Spot { Spot(needle: needle, token: token) }

    /// 1-based line and column in `text`.
    func resolve(in text: String) -> (line: Int, column: Int?)? {
        var seen = 0
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard let range = line.range(of: needle) else { continue }
            seen += 1
            guard seen == occurrence else { continue }
            guard let token else { return (index + 1, nil) }
            guard let tokenRange = line.range(of: token) else { return nil }
            return (index + 1, line.distance(from: line.startIndex, to: tokenRange.lowerBound) + 1)
        }
        return nil
    }
}

/// Parses `text` and returns the error, or records an issue when it parses.
func parseError(_ text: String, file: String = "bad.yaml", sourceLocation: Testing.SourceLocation = #_sourceLocation) -> ScenarioError? {
    do {
        _ = try ScenarioLoader.parse(text, file: file)
        Issue.record("expected an error, but the scenario parsed", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// Parses `text` into a timeline, failing the test with the error's text when it does not parse.
func timeline(_ text: String, file: String = "ok.yaml", sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Timeline {
    do {
        return try Timeline(ScenarioLoader.parse(text, file: file))
    } catch {
        Issue.record("unexpected error: \(error)", sourceLocation: sourceLocation)
        throw error
    }
}

/// Plain manifests (`files`: name → text) written to a fresh folder and loaded as `keycard run DIR` would.
func loadManifests(_ files: [String: String]) throws -> Timeline {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("kc-yaml-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    for (name, text) in files { try text.write(toFile: (path as NSString).appendingPathComponent(name), atomically: true, encoding: .utf8) }
    return try ManifestLoader.timeline([path])
}

/// The error loading one manifest file `text` gives; throws when it loads.
func manifestRefusal(_ text: String) throws -> ScenarioError {
    do {
        _ = try loadManifests(["a.yaml": text])
    } catch let error as ScenarioError {
        return error
    }
    throw ScenarioError(SourceLocation.start(of: "a.yaml"), "loaded, expected a refusal")
}
