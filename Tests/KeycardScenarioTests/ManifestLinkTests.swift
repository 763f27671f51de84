import Foundation
import Testing

@testable import KeycardScenario

/// Links in `-f DIR` as kubectl takes them: cli-runtime's `ExpandPathsToFileVisitors` walks with
/// `filepath.Walk`, which `os.Lstat`s every entry and follows no link.
@Suite struct ManifestLinkTests {
    private static func namespace(_ name: String) -> String { "apiVersion: v1\nkind: Namespace\nmetadata: {name: \(name)}\n" }

    /// A folder with a sub-folder, a link to it, a link to itself, a link to a file elsewhere and a
    /// file of another extension: the walk takes the files and the link to a file, and does not
    /// hang on the loop.
    private func folder() throws -> (root: String, outside: String) {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("kc-links-\(UUID().uuidString)").path
        let root = base + "/manifests"
        let outside = base + "/elsewhere"
        for folder in [root, root + "/sub", outside] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        try Self.namespace("a").write(toFile: root + "/a.yaml", atomically: true, encoding: .utf8)
        try Self.namespace("b").write(toFile: root + "/sub/b.yaml", atomically: true, encoding: .utf8)
        try Self.namespace("c").write(toFile: outside + "/c.yaml", atomically: true, encoding: .utf8)
        try "not: a manifest\n".write(toFile: root + "/notes.txt", atomically: true, encoding: .utf8)
        try Self.namespace("d").write(toFile: root + "/d.YAML", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/c.yaml", withDestinationPath: outside + "/c.yaml")
        try FileManager.default.createSymbolicLink(atPath: root + "/to-sub", withDestinationPath: root + "/sub")
        try FileManager.default.createSymbolicLink(atPath: root + "/loop", withDestinationPath: root)
        return (root, base)
    }

    private func namespaces(_ paths: [String]) throws -> [String] {
        try ManifestLoader.timeline(paths).initial.namespaces.keys.filter { ["a", "b", "c", "d"].contains($0) }.sorted()
    }

    @Test func linksInAFolderAreFilesAndNoneIsFollowedIntoAFolder() throws {
        let (root, base) = try folder()
        defer { try? FileManager.default.removeItem(atPath: base) }
        #expect(try ManifestLoader.files([root]) == [root + "/a.yaml", root + "/c.yaml"])
        #expect(try namespaces([root]) == ["a", "c"])
        // A link with a manifest's extension is read as a file: to a folder, the read fails
        // (kubectl: "read DIR/sub.yaml: is a directory"); to itself, it cannot be read.
        try FileManager.default.createSymbolicLink(atPath: root + "/sub.yaml", withDestinationPath: root + "/sub")
        var error = #expect(throws: ScenarioError.self) { try ManifestLoader.timeline([root]) }
        #expect(error?.location == SourceLocation.start(of: root + "/sub.yaml"), "\(String(describing: error))")
        #expect(error?.message.contains("is a link to a folder") == true)
        try FileManager.default.removeItem(atPath: root + "/sub.yaml")
        try FileManager.default.createSymbolicLink(atPath: root + "/self.yaml", withDestinationPath: root + "/self.yaml")
        error = #expect(throws: ScenarioError.self) { try ManifestLoader.timeline([root]) }
        #expect(error?.location == SourceLocation.start(of: root + "/self.yaml"), "\(String(describing: error))")
    }

    /// `-f LINK` where LINK leads to a folder: `filepath.Walk` takes the root itself as a file,
    /// and kubectl's read fails; `-f LINK/` (the kernel follows a link before a slash) is the folder.
    @Test func aLinkToAFolderGivenItselfIsAFile() throws {
        let (root, base) = try folder()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let link = base + "/link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: root)
        #expect(try ManifestLoader.files([link]) == [link])
        let error = #expect(throws: ScenarioError.self) { try ManifestLoader.timeline([link]) }
        #expect(error?.location == SourceLocation.start(of: link) && error?.message.contains("is a link to a folder") == true)
        #expect(try namespaces([link + "/"]) == ["a", "c"])
    }
}
