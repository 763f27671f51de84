import Foundation
import Glibc
import KeycardModel
import Testing

@testable import KeycardScenario

private typealias T = ScenarioText

/// Scenario files in a fresh temporary folder, removed when the value goes away.
final class TempFolder {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }
}

@Suite("ScenarioLoader: warnings, manifests, files")
struct LoaderTests {
    /// An unknown kind is not an error: it is ignored with a warning naming file and line.
    @Test func unknownKindIsAWarning() throws {
        let text = T.scenario(resources: "- {apiVersion: v1, kind: ConfigMap, metadata: {name: cm, namespace: prod}}")
        let scenario = try ScenarioLoader.parse(text, file: "warn.yaml")
        let spot = try #require(Spot.at("kind: ConfigMap", column: "{apiVersion").resolve(in: text))
        let warning = try #require(scenario.warnings.first)
        #expect(scenario.warnings.count == 1)
        #expect(warning.location == KeycardScenario.SourceLocation(file: "warn.yaml", line: spot.line, column: spot.column!))
        #expect(warning.message.contains("kind ConfigMap (v1) is not understood"))
        #expect(warning.description.hasPrefix("warn.yaml:\(spot.line):\(spot.column!): warning:"))
        // The understood objects are all still there.
        #expect(scenario.resources.count == 3)
    }

    @Test func secondDocumentIsRefused() throws {
        let text = T.scenario() + "---\nkind: Pod\n"
        let error = try #require(parseError(text))
        // The second document starts on the line after its `---`.
        #expect(error.location.line == (try #require(Spot.line("---").resolve(in: text))).line + 1)
        #expect(error.message.contains("a scenario file holds one YAML document"))
    }

    @Test func emptyFileIsRefused() throws {
        let error = try #require(parseError(""))
        #expect(error.location.line == 1 && error.location.column == 1)
        #expect(error.message.contains("the file holds no YAML content"))
    }

    /// `file:` entries are relative to the scenario's folder and must stay inside it.
    @Test(
        "file: paths that leave the scenario's folder",
        arguments: [
            ("../outside.yaml", "escapes the scenario's folder"),
            ("sub/../../outside.yaml", "escapes the scenario's folder"),
            ("link.yaml", "escapes the scenario's folder"),
            ("/etc/hostname", "must be a path relative to the scenario's folder"),
        ])
    func fileEscapes(_ path: String, _ message: String) throws {
        let folder = try TempFolder()
        try folder.write("outside.yaml", "{apiVersion: v1, kind: Namespace, metadata: {name: sneaky}}\n")
        let text = T.scenario(resources: "- {file: \(path)}")
        let scenarioPath = try folder.write("scenario/scenario.yaml", text)
        try FileManager.default.createSymbolicLink(
            atPath: folder.url.appendingPathComponent("scenario/link.yaml").path,
            withDestinationPath: folder.url.appendingPathComponent("outside.yaml").path)
        let spot = try #require(Spot.at("{file: ", column: path).resolve(in: text))
        let error = try #require(parseError(text, file: scenarioPath))
        #expect(error.location == KeycardScenario.SourceLocation(file: scenarioPath, line: spot.line, column: spot.column!), "\(error)")
        #expect(error.message.contains(message), "\(error)")
    }

    /// A manifest inside the folder loads; its own errors name the manifest's path and line.
    @Test func manifestInsideTheFolder() throws {
        let folder = try TempFolder()
        try folder.write(
            "scenario/policies/ok.yaml",
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny, namespace: prod}
            spec: {podSelector: {}, policyTypes: [Ingress]}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: cm, namespace: prod}
            """)
        try folder.write(
            "scenario/policies/bad.yaml",
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny, namespace: prod}
            spec:
              podSelector: {}
              ingress: [{ports: [{port: 0}]}]
            """)
        let good = try folder.write("scenario/good.yaml", T.scenario(resources: "- {file: policies/ok.yaml}"))
        let scenario = try ScenarioLoader.load(good)
        #expect(scenario.resources.count == 4)
        #expect(scenario.warnings.count == 1)
        #expect(scenario.warnings.first?.location.file.hasSuffix("scenario/policies/ok.yaml") == true)
        #expect(scenario.warnings.first?.location.line == 6)

        let badPath = try folder.write("scenario/bad.yaml", T.scenario(resources: "- {file: policies/bad.yaml}"))
        let error = try #require(parseError(String(contentsOfFile: badPath, encoding: .utf8), file: badPath))
        #expect(error.location.file.hasSuffix("scenario/policies/bad.yaml"), "\(error)")
        #expect(error.location.line == 6 && error.location.column == 29, "\(error)")
        #expect(error.message.contains("port must be an integer from 1 to 65535, found 0"))

        let missing = try folder.write("scenario/missing.yaml", T.scenario(resources: "- {file: policies/none.yaml}"))
        let noFile = try #require(parseError(String(contentsOfFile: missing, encoding: .utf8), file: missing))
        #expect(noFile.message.contains("no such file"))
    }

    /// What cannot be read says why: a link to nothing, a device (which would never end), a FIFO
    /// (which would block): each had been "no such file" or "cannot read" with no reason.
    @Test func unreadableInputsSayWhy() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kc-unreadable-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dangling = folder + "/dangling.yaml"
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: folder + "/nowhere.yaml")
        let fifo = folder + "/fifo.yaml"
        #expect(mkfifo(fifo, 0o600) == 0)
        for (path, message) in [
            (dangling, "is a symbolic link to nothing that can be read"), ("/dev/zero", "is a character device, not a regular file"),
            (fifo, "is a FIFO or other special file, not a regular file; to read a pipe, give - and pipe it to standard input"),
        ] {
            let error = try #require(throws: ScenarioError.self) { try ScenarioLoader.readText(path, at: .start(of: path)) }
            #expect(error.message.contains(message), "\(error.message)")
        }
        // A link to a regular file (a ConfigMap mount's `..data`) reads as that file.
        let file = folder + "/real.yaml"
        try "kind: x\n".write(toFile: file, atomically: true, encoding: .utf8)
        let link = folder + "/link.yaml"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: file)
        #expect(try ScenarioLoader.readText(link, at: .start(of: link)) == "kind: x\n")
    }
}
