import Foundation
import KeycardModel
import Testing

@testable import KeycardScenario

/// A fresh file holding `data`.
private func file(_ data: Data, ext: String = "yaml") throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("kc-encoding-\(UUID().uuidString).\(ext)").path
    try data.write(to: URL(fileURLWithPath: path))
    return path
}

private let manifests = """
    apiVersion: v1
    kind: Pod
    metadata: {name: web, namespace: shop, labels: {app: web}}
    spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: client, namespace: shop, labels: {app: client}}
    spec: {containers: [{name: c, image: i}]}

    """

private func podNames(_ path: String) throws -> [String] {
    try ManifestLoader.timeline([path]).initial.pods.keys.map(\.description).filter { $0.hasPrefix("shop/") }.sorted()
}

/// Review findings F09 and F10: encodings and streams kubectl reads (cli-runtime's FileVisitor,
/// apimachinery's YAMLReader and YAMLOrJSONDecoder).
@Suite("Text encodings and JSON streams")
struct TextEncodingTests {
    /// UTF-16 with a byte order mark (Windows PowerShell 5's `>`), little and big endian, is
    /// transcoded as kubectl's BOMOverride does; a UTF-8 BOM is dropped.
    @Test func utf16WithBOMIsTranscoded() throws {
        var little = Data([0xFF, 0xFE])
        little.append(manifests.data(using: .utf16LittleEndian)!)
        var big = Data([0xFE, 0xFF])
        big.append(manifests.data(using: .utf16BigEndian)!)
        var utf8 = Data([0xEF, 0xBB, 0xBF])
        utf8.append(manifests.data(using: .utf8)!)
        for data in [little, big, utf8] {
            let path = try file(data)
            defer { try? FileManager.default.removeItem(atPath: path) }
            #expect(try podNames(path) == ["shop/client", "shop/web"])
        }
        // Without a BOM, UTF-16 is not UTF-8, as for kubectl.
        let bare = try file(manifests.data(using: .utf16LittleEndian)!)
        defer { try? FileManager.default.removeItem(atPath: bare) }
        #expect(throws: ScenarioError.self) { try podNames(bare) }
    }

    /// Invalid UTF-8 (a Latin-1 `é` in a comment, a label-free annotation) and a lone surrogate
    /// in UTF-16 with a BOM are read as kubectl's FileVisitor reads them: each bad byte (or unit)
    /// is U+FFFD and the objects load. They had refused the whole file at 1:1, and the UTF-16
    /// file with a byte order mark was said to have none.
    @Test func invalidSequencesBecomeReplacementCharacters() throws {
        var latin1 = Data("# caf".utf8) + Data([0xE9]) + Data(" \n".utf8)
        latin1.append(
            manifests.replacingOccurrences(of: "labels: {app: web}", with: "labels: {app: web}, annotations: {note: \"caf\u{1}\"}").data(
                using: .utf8)!)
        latin1 = Data(latin1.map { $0 == 0x01 ? 0xE9 : $0 })
        let path = try file(latin1)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try podNames(path) == ["shop/client", "shop/web"])
        #expect(TextEncoding.decode(latin1).hasPrefix("# caf\u{FFFD} \n"))

        // Go's DecodeRune: a truncated sequence is one U+FFFD a byte (E2 82 then a space: two).
        #expect(
            TextEncoding.goUTF8([0x61, 0xE2, 0x82, 0x20, 0xED, 0xA0, 0x80, 0xC3, 0xA9][...])
                == "a\u{FFFD}\u{FFFD} \u{FFFD}\u{FFFD}\u{FFFD}é")

        var utf16 = Data([0xFF, 0xFE])
        utf16.append(("# x" + "\n" + manifests).data(using: .utf16LittleEndian)!)
        utf16[6] = 0x00
        utf16[7] = 0xD8  // "x" replaced by a lone high surrogate
        let surrogate = try file(utf16)
        defer { try? FileManager.default.removeItem(atPath: surrogate) }
        #expect(try podNames(surrogate) == ["shop/client", "shop/web"])
        #expect(TextEncoding.decode(utf16).hasPrefix("# \u{FFFD}\n"))
    }

    /// A BOM at the start of a later document (after `---`, as `cat a.yaml b.yaml` makes) is
    /// skipped, as go-yaml skips it in the document kubectl's YAMLReader hands it; an error on that
    /// line is reported where an editor shows it.
    @Test func bomAfterDocumentSeparator() throws {
        let text = manifests.replacingOccurrences(of: "---\n", with: "---\n\u{FEFF}")
        let path = try file(text.data(using: .utf8)!)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try podNames(path) == ["shop/client", "shop/web"])
        let documents = try YAMLDocuments.parse("a: 1\n---  \r\n\u{FEFF}b: 2\n", file: "f.yaml")
        #expect(documents.count == 2)
        #expect(documents[1].location == SourceLocation(file: "f.yaml", line: 3, column: 1))
        // A separator may carry a comment, with or without a blank before it (kubectl's YAMLReader).
        #expect(try YAMLDocuments.parse("a: 1\n--- # second\n\u{FEFF}b: 2\n", file: "f.yaml").count == 2)
        #expect(try YAMLDocuments.parse("a: 1\n---# second\n\u{FEFF}b: 2\n", file: "f.yaml").count == 2)
    }

    private static let web =
        #"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80}]}]}}"#
    private static let client =
        #"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client", "namespace": "shop", "labels": {"app": "client"}}, "spec": {"containers": [{"name": "c", "image": "b}{x"}]}}"#

    /// Concatenated JSON objects (`jq -c '.items[]'`), one per line, back to back, or pretty
    /// printed, are one document each, as kubectl's YAMLOrJSONDecoder reads them.
    @Test(arguments: [
        "\(web)\n\(client)\n", "\(web)\(client)", "  \(web) \t\r\n\n\(client)",
        "\(web.replacingOccurrences(of: ", ", with: ",\n  "))\n\(client.replacingOccurrences(of: ", ", with: ",\n  "))\n",
    ])
    func jsonStream(_ text: String) throws {
        let path = try file(text.data(using: .utf8)!, ext: "json")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try podNames(path) == ["shop/client", "shop/web"])
    }

    /// An error in a later object of a stream is reported at its line and column in the file.
    @Test func jsonStreamErrorLocation() throws {
        let bad = Self.client.replacingOccurrences(of: #""image": "b}{x""#, with: #""image": "b}{x", "env": [{"name": "A", "value": 5}]"#)
        let third = "\(Self.web.replacingOccurrences(of: "web", with: "two"))\(bad)"
        let text = "\(Self.web)\n\n\(third)\n"
        let column = third.distance(from: third.startIndex, to: third.range(of: "5}]")!.lowerBound) + 1
        let error = #expect(throws: ScenarioError.self) {
            var decoder = ObjectDecoder()
            for document in try YAMLDocuments.parse(text, file: "s.json") { _ = try decoder.decode(document) }
        }
        #expect(error?.location == SourceLocation(file: "s.json", line: 3, column: column), "\(String(describing: error))")
        #expect(error?.message.contains("env[0].value must be a string") == true, "\(String(describing: error))")
        // Flow YAML that is not JSON after two objects is refused, as kubectl's JSON decoder refuses it.
        let flow = #expect(throws: ScenarioError.self) { try YAMLDocuments.parse("\(Self.web)\n\(Self.web)\n  {a: 1}\n", file: "s.json") }
        #expect(flow?.location == SourceLocation(file: "s.json", line: 3, column: 4) && flow?.message.contains("invalid JSON") == true)
        // After one object kubectl reads the rest as YAML (`KubectlFramingTests.jsonThenYAML`);
        // a YAML flow mapping first is all YAML; braces in strings do not cut values.
        let lines = FileLines("{\"a\": \"}\"}\n{\"b\": 2}")
        #expect(try KubectlFraming.pieces(of: lines, file: "s.json").map(\.firstLine) == [1, 2])
        #expect(try KubectlFraming.pieces(of: FileLines("{a: 1}\n---\n{b: 2}"), file: "s.json").map(\.kind) == [.yaml, .yaml])
    }
}
