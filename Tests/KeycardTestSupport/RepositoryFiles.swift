import Foundation

/// Where the scenario library lives: the repository's `scenarios/` and `scenarios/conformance/`,
/// and the shared recipes CI checks out beside the repository (`<repo>/../shared`). A plain clone
/// has no `../shared`: the recipes are then simply absent, and the tests that need them say so.
public enum RepositoryFiles {
    /// The repository root (this file is at Tests/KeycardTestSupport/).
    public static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// `../shared/conformance/recipes`, present in CI.
    public static let recipes = repository.deletingLastPathComponent().appendingPathComponent("shared/conformance/recipes")

    /// Whether `../shared` is beside this checkout.
    public static var hasSharedRecipes: Bool { FileManager.default.fileExists(atPath: recipes.path) }

    /// Every library scenario, as paths relative to the repository (recipes start with `../shared`).
    public static var scenarios: [String] {
        yamlFiles(in: "scenarios") + yamlFiles(in: "scenarios/conformance")
            + yamlFiles(in: "scenarios/conformance/mesh").filter { !$0.hasSuffix(".manifest.yaml") }
            + yamlFiles(in: "scenarios/conformance/cnp")
            + yamlFiles(in: "../shared/conformance/recipes")
    }

    /// The `.yaml` files of `folder` (relative to the repository), sorted, as relative paths.
    public static func yamlFiles(in folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: absolute(folder))) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { "\(folder)/\($0)" }
    }

    /// The absolute path of a path relative to the repository.
    public static func absolute(_ relative: String) -> String {
        repository.appendingPathComponent(relative).standardizedFileURL.path
    }
}
