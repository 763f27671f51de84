import Foundation
import KeycardModel
import KeycardScenario
import Testing

/// `keycard delete -f` reads what kubectl delete -f reads: each object's kind, name and namespace.
@Suite struct ManifestDeletesTests {
    private func targets(_ text: String) throws -> [String] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kc-deletes-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try ManifestDeletes.targets(in: path).targets.map(\.ref.description)
    }

    /// A document kubectl does not read (after `...` in one part of the file) deletes nothing and
    /// is warned about at its line, as apply and check warn.
    @Test func anIgnoredDocumentIsWarnedAbout() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kc-deletes-\(UUID().uuidString).yaml").path
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n...\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (found, warnings) = try ManifestDeletes.targets(in: path)
        #expect(found.map(\.ref.description) == ["Pod default/a"])
        #expect(warnings.map(\.location.line) == [5], "\(warnings)")
        #expect(warnings.first?.message.contains("is ignored, as kubectl ignores it") == true)
    }

    @Test func namesAreEnoughAndListsAndScopesAreRead() throws {
        let found = try targets(
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny, namespace: shop}
            ---
            apiVersion: v1
            kind: List
            items:
              - {apiVersion: v1, kind: Pod, metadata: {name: web}}
              - {apiVersion: v1, kind: ConfigMap, metadata: {name: settings}}
              - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
            """)
        #expect(found == ["NetworkPolicy shop/deny", "Pod default/web", "Namespace shop"])
    }

    /// kubectl delete maps the kind as apply does: a kind its group/version does not serve, or a
    /// held kind under another group/version, is refused at the field (it had deleted nothing, or
    /// the NetworkPolicy of another group, with exit 0); another group's kind deletes nothing.
    @Test func aMistypedKindOrGroupIsRefused() throws {
        for (text, message) in [
            (
                "apiVersion: networking.k8s.io/v1\nkind: Networkpolicy\nmetadata: {name: deny, namespace: x}\n",
                "no matches for kind \"Networkpolicy\" in version \"networking.k8s.io/v1\""
            ),
            (
                "apiVersion: v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: x}\n",
                "NetworkPolicy must have apiVersion networking.k8s.io/v1, found v1"
            ),
            ("kind: NetworkPolicy\nmetadata: {name: deny, namespace: x}\n", "NetworkPolicy needs \"apiVersion\" to be deleted"),
        ] {
            let error = try #require(throws: ScenarioError.self) { try targets(text) }
            #expect(error.message.contains(message), "\(error.message)")
        }
        #expect(try targets("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: x}\n").isEmpty)
        // A typed list's items name no kind or apiVersion: they take the list's, as apply reads them.
        let typed = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicyList\nitems:\n- metadata: {name: deny, namespace: prod}\n"
        #expect(try targets(typed) == ["NetworkPolicy prod/deny"])
        // Only an item that names neither takes the list's: half of them is refused, as kubectl's
        // typer refuses it; `items: null` is an empty list.
        let half =
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicyList\nitems:\n- {apiVersion: networking.k8s.io/v1, metadata: {name: deny, namespace: prod}}\n"
        #expect(throws: ScenarioError.self) { try targets(half) }
        #expect(try targets("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicyList\nitems: null\n").isEmpty)
    }

    /// What `keycard apply`/`delete` count before refusing an input as kubectl refuses it ("no
    /// objects passed to apply"): non-empty documents, a List's items, any kind.
    @Test func objectCountSkipsEmptyDocumentsAndCountsListItems() throws {
        func count(_ text: String) throws -> Int {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("kc-count-\(UUID().uuidString).yaml").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: path) }
            return try ManifestDeletes.objectCount(in: path)
        }
        #expect(try count("") == 0)
        #expect(try count("# only a comment\n") == 0)
        #expect(try count("---\n# a comment\n---\n") == 0)
        #expect(try count("apiVersion: v1\nkind: List\nitems: []\n") == 0)
        #expect(try count("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n") == 1)
        #expect(try count("kind: PodList\nitems: [{kind: Pod}, null, {kind: Pod}]\n---\nkind: Namespace\n") == 3)
        // items: null is an empty list; items that is no list is one object, which the decoder
        // then refuses at its place (it had counted 0: "no objects", and no file:line).
        #expect(try count("kind: PodList\nitems: null\n") == 0)
        #expect(try count("kind: PodList\nitems: {a: b}\n") == 1)
    }

    @Test func anObjectWithoutANameIsRefusedWhereItIsWritten() throws {
        #expect {
            try targets("apiVersion: v1\nkind: Pod\nmetadata: {namespace: shop}\n")
        } throws: { error in
            (error as? ScenarioError).map { $0.message.contains("needs metadata.name") && $0.location.line == 3 } ?? false
        }
    }
}
