import Foundation
import KeycardModel
import Testing

@testable import KeycardScenario

/// What a manifest's `kind` and `apiVersion` must be before anything else is read, where a
/// summary of skipped objects points, and files that hold no object, each as kubectl reads them.
struct ManifestHeaderTests {
    /// The error loading folder `files`, nil when it loads.
    static func refusal(_ files: [String: String]) throws -> ScenarioError? {
        let folder = try manifestsFolder(files)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        do {
            _ = try ManifestLoader.timeline([folder], dns: false)
            return nil
        } catch {
            return error
        }
    }

    /// An empty `kind` (kubectl: "Object 'Kind' is missing") and a group/version with two slashes
    /// (apimachinery `ParseGroupVersion`: "unexpected GroupVersion string") are refused at the
    /// field; both had been skipped as kinds keycard does not run.
    @Test func anEmptyKindAndAThreePartAPIVersionAreRefused() throws {
        let empty = try #require(try Self.refusal(["m.yaml": "apiVersion: example.com/v1\nkind: \"\"\nmetadata: {name: x}\n"]))
        #expect(empty.location.line == 2 && empty.location.column == 7, "\(empty)")
        #expect(empty.message.contains("Object 'Kind' is missing"), "\(empty)")
        let slashes = try #require(try Self.refusal(["m.yaml": "kind: Widget\napiVersion: a/b/c\nmetadata: {name: x}\n"]))
        #expect(slashes.location.line == 2 && slashes.location.column == 13, "\(slashes)")
        #expect(slashes.message.contains("unexpected GroupVersion string"), "\(slashes)")
        // One slash, or none, is a group/version as before.
        #expect(try Self.refusal(["m.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: x}\n"]) == nil)
    }

    /// `apiVersion: ""` says which version is not served (the message had ended "does not serve ").
    @Test func anEmptyAPIVersionIsNamed() throws {
        let error = try #require(try Self.refusal(["m.yaml": "apiVersion: \"\"\nkind: Pod\nmetadata: {name: x}\n"]))
        #expect(error.message == "Pod must have apiVersion v1, found an empty apiVersion", "\(error)")
        let widget = try #require(try Self.refusal(["m.yaml": "apiVersion: \"\"\nkind: Widget\nmetadata: {name: x}\n"]))
        #expect(widget.message.hasSuffix("the API server does not serve an empty apiVersion"), "\(widget)")
    }

    /// The one warning about skipped kinds points at the first skipped object, in its own file
    /// (it had pointed at the first file's 1:1).
    @Test func theSkippedSummaryPointsAtTheFirstSkippedObject() throws {
        let folder = try manifestsFolder([
            "a.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
            "b.yaml":
                "apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
            "c.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let timeline = try ManifestLoader.timeline([folder], dns: false)
        let skipped = try #require(timeline.warnings.first { $0.message.hasPrefix("skipped 2 objects keycard does not run") })
        #expect(skipped.location == SourceLocation(file: folder + "/b.yaml", line: 5, column: 1), "\(skipped)")
    }

    /// A file holding no YAML content named beside manifests is no object, as kubectl reads it and
    /// as keycard reads it in a folder (it had been refused as a scenario with no content); alone
    /// it is still refused.
    @Test func anEmptyFileBesideManifestsIsNoObject() throws {
        let folder = try manifestsFolder([
            "base.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n", "empty.yaml": "", "blank.yaml": "# nothing\n---\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let base = folder + "/base.yaml"
        let empty = folder + "/empty.yaml"
        let blank = folder + "/blank.yaml"
        #expect(ManifestLoader.manifestPaths([base, empty, blank]) == [base, empty, blank])
        #expect(ManifestLoader.manifestPaths([empty, base]) == [empty, base])
        #expect(ManifestLoader.manifestPaths([empty]).isEmpty)
        let timeline = try ManifestLoader.timeline([base, empty, blank], dns: false)
        #expect(timeline.initial.namespaces["shop"] != nil)
    }

    /// A name holding a line feed or tab is escaped in the one-line `file:line:col: message`
    /// (`\u{A}`, `\u{9}`), as ESC and U+202E already were; the message itself keeps the name.
    @Test func controlsInQuotedNamesAreEscapedInTheMessageLine() throws {
        let error = try #require(try Self.refusal(["m.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: \"a\\nb\\tc\\u001B\"}\n"]))
        #expect(error.message.contains("a\nb\tc\u{1B}"), "\(error.message)")
        #expect(!error.description.contains("\n") && !error.description.contains("\t"), "\(error)")
        #expect(error.description.contains("a\\u{A}b\\u{9}c\\u{1B}"), "\(error)")
        let warning = ScenarioWarning(location: .start(of: "f"), message: "x\ny")
        #expect(warning.description == "f:1:1: warning: x\\u{A}y")
    }
}
