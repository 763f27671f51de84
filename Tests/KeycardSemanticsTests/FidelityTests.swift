import Foundation
import KeycardTestSupport
import Testing

/// docs/kubernetes-fidelity.md, row by row: what the API server accepts loads with its defaults
/// (checked in the model and in the compiled rules of both placements); what it refuses is refused
/// with file:line:col, and `keycard check` exits 2.
@Suite("Kubernetes API fidelity")
struct FidelityTests {
    @Test(arguments: fidelityRows)
    func row(_ row: FidelityRow) throws { try Fidelity.check(row) }

    @Test func everyDocumentedRowHasATestAndEveryTestARow() throws {
        let ids = fidelityRows.map(\.id)
        #expect(Set(ids).count == ids.count, "a row id is used twice")
        guard let documented = Fidelity.documentedIDs() else {
            Issue.record("docs/kubernetes-fidelity.md not found beside the sources")
            return
        }
        #expect(Set(documented).count == documented.count, "the doc lists a row twice")
        let tested = Set(ids).union(fidelityRowsProvenElsewhere.keys)
        #expect(Set(documented).subtracting(tested).isEmpty, "documented without a test: \(Set(documented).subtracting(tested).sorted())")
        #expect(tested.subtracting(documented).isEmpty, "tested without a doc row: \(tested.subtracting(documented).sorted())")
    }

    /// What a user sees for each refused row: `keycard check` prints file:line:col and exits 2.
    @Test func checkExitsTwoOnEveryRefusedRow() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-fidelity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var refused = 0
        for row in fidelityRows {
            guard case .refuses(_, let fragment) = row.outcome else { continue }
            let path = folder.appendingPathComponent("\(row.id).yaml").path
            try Fidelity.text(row).write(toFile: path, atomically: true, encoding: .utf8)
            let result = try KeycardBinary.run(["check", path])
            #expect(result.status == 2, "\(row.id): exit \(result.status)")
            #expect(result.stderr.hasPrefix("\(path):") && result.stderr.contains(fragment), "\(row.id): \(result.stderr)")
            refused += 1
        }
        #expect(refused >= 30)
    }
}
