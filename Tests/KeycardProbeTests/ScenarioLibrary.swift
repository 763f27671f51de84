import Foundation
import KeycardScenario
import KeycardTestSupport

/// The scenario library (see `RepositoryFiles`) and helpers for running it.
enum ScenarioLibrary {
    static var recipes: URL { RepositoryFiles.recipes }
    static var files: [String] { RepositoryFiles.scenarios }
    static func yamlFiles(in folder: String) -> [String] { RepositoryFiles.yamlFiles(in: folder) }
    static func absolute(_ relative: String) -> String { RepositoryFiles.absolute(relative) }

    /// A fresh lab name: "t" and 10 random characters of [a-z0-9], within the 24 allowed.
    static func uniqueLabName() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return "t" + String((0..<10).map { _ in alphabet.randomElement() ?? "x" })
    }

    /// Network namespaces of one lab still listed under /run/netns (what `ip netns list` reads).
    static func leftoverNamespaces(lab: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
        return names.filter { $0.hasPrefix("kc-\(lab).") }.sorted()
    }

    /// One line per failing cell or scan of a report, for the test log.
    static func failures(_ report: Report) -> [String] {
        var lines: [String] = []
        for step in report.steps where !step.passed {
            lines.append("step \(step.index) \(step.kind)\(step.name.map { " \"\($0)\"" } ?? ""): \(step.summary ?? "")")
            for record in step.results ?? [] {
                switch record {
                case .probe(let cell) where !cell.passed:
                    lines.append(
                        "  \(cell.from) -> \(cell.to) \(cell.port): expected \(cell.expected), model \(cell.model), observed \(cell.observed?.rawValue ?? "-")\(cell.reason.map { " (\($0))" } ?? "")"
                    )
                case .scan(let scan) where scan.model != scan.observed:
                    lines.append(
                        "  scan \(scan.from) -> \(scan.to ?? scan.ip.description):\(scan.port): model \(scan.model?.rawValue ?? "-"), observed \(scan.observed?.rawValue ?? "-")"
                    )
                default:
                    continue
                }
            }
        }
        return lines
    }
}
