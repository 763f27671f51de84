import Foundation
import KeycardTestSupport
import Testing

@testable import KeycardScenario

/// Public applications' manifests as published (`../shared/conformance/apps`, when it is beside the
/// checkout): every document the API server would accept must decode — Namespaces, Pods and
/// NetworkPolicies as objects, other kinds as warnings — with no error.
@Suite(.enabled(if: RepositoryFiles.hasSharedRecipes, "no ../shared beside this checkout"))
struct RealManifestsTests {
    static let apps = RepositoryFiles.recipes.deletingLastPathComponent().appendingPathComponent("apps")

    static var files: [String] {
        guard let walker = FileManager.default.enumerator(atPath: apps.path) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
    }

    @Test func theAppsAreThere() {
        #expect(Self.files.count >= 20, "expected the public applications' manifests in \(Self.apps.path)")
    }

    @Test(arguments: files)
    func everyDocumentDecodes(_ relative: String) throws {
        let path = Self.apps.appendingPathComponent(relative).path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var decoder = ObjectDecoder()
        var objects = 0
        for document in try YAMLDocuments.parse(text, file: relative) {
            objects += try decoder.decode(document).count
        }
        print("\(relative): \(objects) objects, \(decoder.warnings.count) warnings")
    }
}
