import Foundation
import KeycardModel
import Testing

@testable import KeycardScenario

/// How a file is cut into the documents kubectl reads (apimachinery's `YAMLOrJSONDecoder`,
/// `YAMLReader`, go-yaml v2's `Unmarshal`), and where errors point in it.
@Suite struct KubectlFramingTests {
    private static func namespace(_ name: String) -> String { "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \(name)\n" }

    /// The names of the documents' `metadata.name`, in order (nil for one without).
    private func names(_ text: String, warnings: inout [ScenarioWarning]) throws -> [String?] {
        try YAMLDocuments.parse(text, file: "f.yaml", warnings: &warnings).filter { !$0.isNull }.map { document in
            let metadata = try document.entries("a document").first { $0.key == "metadata" }?.value
            return try metadata?.entries("metadata").first { $0.key == "name" }?.value.string("name")
        }
    }

    private func refusal(_ text: String) -> ScenarioError? {
        #expect(throws: ScenarioError.self) { try YAMLDocuments.parse(text, file: "f.yaml") }
    }

    // MARK: 1. Line ends

    /// Old Mac line ends (lone CR): kubectl's YAMLReader cuts lines at LF only, so the file is one
    /// piece; go-yaml takes CR as a line break and reads that piece's first document only. keycard
    /// reads the same one document and warns at the ignored one, on the line an editor shows.
    @Test func loneCarriageReturnFileIsOnePieceAndItsFirstDocumentIsRead() throws {
        let text = (Self.namespace("a") + "---\n" + Self.namespace("b")).replacingOccurrences(of: "\n", with: "\r")
        var warnings: [ScenarioWarning] = []
        #expect(try names(text, warnings: &warnings) == ["a"])
        #expect(warnings.count == 1)
        #expect(warnings.first?.location == SourceLocation(file: "f.yaml", line: 6, column: 1), "\(warnings)")
        #expect(warnings.first?.message.contains("ignored, as kubectl ignores it") == true)
        // A lone-CR file that starts with `---` is one line starting with `---` and more: kubectl
        // refuses it ("invalid Yaml document separator").
        let error = refusal("---\r" + Self.namespace("a").replacingOccurrences(of: "\n", with: "\r"))
        #expect(error?.location == SourceLocation(file: "f.yaml", line: 1, column: 1))
        #expect(error?.message.contains("invalid Yaml document separator") == true && error?.message.contains("lone CR") == true)
    }

    /// CRLF and LF mixed: the separators cut as LF ones do, and errors are on the editor's lines.
    @Test func mixedCRLFAndLFLineEnds() throws {
        let text =
            Self.namespace("a").replacingOccurrences(of: "\n", with: "\r\n") + "---\r\n" + Self.namespace("b") + "--- \r\n"
            + Self.namespace("c").replacingOccurrences(of: "\n", with: "\r\n")
        var warnings: [ScenarioWarning] = []
        #expect(try names(text, warnings: &warnings) == ["a", "b", "c"])
        #expect(warnings.isEmpty)
        // A CR before a CRLF is a line of its own to an editor; go-yaml sees one break there
        // (ReadLine drops the CR of CRLF): the error is still reported on the editor's line.
        let error = refusal("a: 1\r\r\nb: 2\nc: [\n")
        #expect(error?.location.line == 4, "\(String(describing: error))")
    }

    // MARK: 2. Document markers

    /// `--- !!map`, `--- |`, `----`: a line that starts with `---` and is no separator is an error
    /// in kubectl (since 1.22); keycard had read them as YAML document starts.
    @Test(arguments: ["--- !!map", "--- |", "----", "--- {a: 1}"])
    func separatorLineWithContentIsRefused(_ line: String) {
        let error = refusal(Self.namespace("a") + line + "\n" + Self.namespace("b"))
        #expect(error?.location == SourceLocation(file: "f.yaml", line: 5, column: 1), "\(String(describing: error))")
        #expect(error?.message.contains("kubectl: invalid Yaml document separator") == true)
    }

    /// `--- # comment` and `---#x` separate documents (kubectl allows a comment, blank or not, after `---`).
    @Test(arguments: ["--- # second", "---#x", "---   ", "---\t# tab"])
    func separatorWithCommentSeparates(_ line: String) throws {
        var warnings: [ScenarioWarning] = []
        #expect(try names(Self.namespace("a") + line + "\n" + Self.namespace("b"), warnings: &warnings) == ["a", "b"])
        #expect(warnings.isEmpty)
    }

    /// `---#x` as the first line is kept in its piece, where go-yaml reads it as text, not a
    /// document start: refused by both.
    @Test func separatorWithoutBlankFirstIsText() {
        #expect(refusal("---#x\n" + Self.namespace("a")) != nil)
    }

    /// `...` ends a document inside a piece: what follows is a second document go-yaml never
    /// reads. keycard had read it; now it is ignored, with a warning at it.
    @Test func documentEndMarkerHidesTheRest() throws {
        var warnings: [ScenarioWarning] = []
        #expect(try names(Self.namespace("a") + "...\n" + Self.namespace("b"), warnings: &warnings) == ["a"])
        #expect(warnings.map(\.location) == [SourceLocation(file: "f.yaml", line: 6, column: 1)])
        warnings = []
        #expect(try names(Self.namespace("a") + "...\n# end\n---\n" + Self.namespace("b"), warnings: &warnings) == ["a", "b"])
        #expect(warnings.isEmpty)
    }

    /// A directive before `---` is a piece of its own to kubectl, with no document after it:
    /// go-yaml refuses it ("did not find expected <document start>"), as keycard now does.
    @Test(arguments: ["%YAML 1.1", "%TAG ! tag:example.com,2000:"])
    func directiveAtFileStartIsRefused(_ directive: String) {
        let error = refusal(directive + "\n---\n" + Self.namespace("a"))
        #expect(error?.message.contains("did not find expected <document start>") == true, "\(String(describing: error))")
    }

    /// After `---`, a directive line ends an empty document; the next piece is read.
    @Test func directiveAfterSeparatorEndsAnEmptyDocument() throws {
        var warnings: [ScenarioWarning] = []
        #expect(try names("---\n%YAML 1.1\n---\n" + Self.namespace("a"), warnings: &warnings) == ["a"])
    }

    // MARK: 3. JSON and YAML in one stream

    private static let jsonNamespace = #"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "NAME"}}"#
    private static func json(_ name: String) -> String { jsonNamespace.replacingOccurrences(of: "NAME", with: name) }

    /// kubectl 1.33+: one JSON object, then YAML (`---` separated, or a flow mapping), is read;
    /// after two JSON objects a failure is the JSON error.
    @Test func jsonThenYAML() throws {
        var warnings: [ScenarioWarning] = []
        #expect(try names(Self.json("a") + "\n---\n" + Self.namespace("b"), warnings: &warnings) == ["a", "b"])
        #expect(
            try names(Self.json("a") + "\n  {apiVersion: v1, kind: Namespace, metadata: {name: b}}\n", warnings: &warnings) == ["a", "b"])
        let documents = try YAMLDocuments.parse(Self.json("a") + "\n  {apiVersion: v1}\n", file: "f.yaml")
        #expect(documents.map(\.location.line) == [1, 2] && documents[1].location.column == 3)
        // A flow mapping first: JSON fails on it at once, and the whole file is YAML.
        #expect(
            try names("{apiVersion: v1, kind: Namespace, metadata: {name: a}}\n---\n" + Self.namespace("b"), warnings: &warnings) == [
                "a", "b",
            ])
        let error = refusal(Self.json("a") + "\n" + Self.json("b") + "\n---\n" + Self.namespace("c"))
        #expect(error?.location == SourceLocation(file: "f.yaml", line: 3, column: 2), "\(String(describing: error))")
        #expect(error?.message.contains("invalid JSON: invalid character '-' in numeric literal") == true)
    }

    /// JSON's own text: a raw U+2028 in a string is a character there (a line break to YAML),
    /// so the value keeps it and later lines keep their numbers.
    @Test func jsonStringKeepsLineSeparator() throws {
        let text =
            #"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "annotations": {"x": "p\#u{2028}q"}}}"# + "\n"
            + Self.json("b") + "\n"
        let documents = try YAMLDocuments.parse(text, file: "f.json")
        #expect(documents.count == 2 && documents[1].location.line == 2)
        let metadata = try documents[0].entries("d").first { $0.key == "metadata" }?.value
        let annotations = try metadata?.entries("m").first { $0.key == "annotations" }?.value
        #expect(try annotations?.entries("a").first?.value.string("x") == "p\u{2028}q")
    }

    /// Characters Go's encoding/json takes raw in a string and libyaml refuses as not printable
    /// (DEL, C1 controls, U+FEFF, U+FFFE, U+FFFF) are read, as kubectl reads them, and what
    /// follows keeps its column.
    @Test(arguments: ["\u{7F}", "\u{80}", "\u{9F}", "\u{FEFF}", "\u{FFFE}", "\u{FFFF}"])
    func jsonStringKeepsWhatYAMLCannotHoldRaw(_ character: String) throws {
        let text =
            #"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "annotations": {"x": "p\#(character)q", "y": "z"}}}"#
            + "\n"
        let documents = try YAMLDocuments.parse(text, file: "f.json")
        let metadata = try documents[0].entries("d").first { $0.key == "metadata" }?.value
        let annotations = try metadata?.entries("m").first { $0.key == "annotations" }?.value
        let entries = try annotations?.entries("a") ?? []
        #expect(try entries.first?.value.string("x") == "p\(character)q")
        // "y"'s value starts at column 102: the character takes one column, its escape none (a
        // U+FEFF none at all, as `FileLines` counts a byte order mark anywhere).
        let column = character == "\u{FEFF}" ? 101 : 102
        #expect(entries.last?.value.location == SourceLocation(file: "f.json", line: 1, column: column))
    }

    // MARK: 4. Error positions

    /// U+2028, U+2029 and U+0085 are line breaks to go-yaml and libyaml, not to an editor: an
    /// error after one is reported on the line the editor shows (it had been one line further per
    /// such character): the unclosed `[` is on the editor's line 3.
    @Test(arguments: ["\u{2028}", "\u{2029}", "\u{85}"])
    func yamlOnlyLineBreaksDoNotShiftErrorLines(_ mark: String) {
        let error = refusal("a: \"x\(mark)y\"\nb: 1\nc: [\n")
        #expect(error?.location.line == 3, "\(String(describing: error))")
        let nested = refusal("a: 1 # note\(mark)\nb: ]\n")
        #expect(nested?.location == SourceLocation(file: "f.yaml", line: 2, column: 4), "\(String(describing: nested))")
    }

    /// YAML after a JSON object on the same line (kubectl switches to YAML there): an error in
    /// it is at the file's column, not the parser's.
    @Test func yamlAfterJSONOnTheSameLineKeepsTheFileColumns() {
        let object = Self.json("a")
        let error = refusal(object + " a: b: c\n")
        #expect(error?.location == SourceLocation(file: "f.yaml", line: 1, column: object.count + 6), "\(String(describing: error))")
    }

    /// An error at the end of a file without a final line break is after its last character,
    /// not on a line past it (libyaml adds a line break at the end of the stream).
    @Test func errorAtTheEndOfAnUnterminatedFileIsOnItsLastLine() {
        let unclosed = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: [a"
        let error = refusal(unclosed)
        #expect(error?.location == SourceLocation(file: "f.yaml", line: 4, column: 11), "\(String(describing: error))")
        let quoted = refusal(Self.namespace("a") + "---\nkind: \"x")
        #expect(quoted?.location == SourceLocation(file: "f.yaml", line: 6, column: 9), "\(String(describing: quoted))")
        let terminated = refusal(unclosed + "\n")
        #expect(terminated?.location == SourceLocation(file: "f.yaml", line: 5, column: 1), "\(String(describing: terminated))")
    }

    /// A NUL (or another control character) is refused at its line and column, not at 1:1.
    @Test func controlCharacterIsReportedWhereItIs() {
        let error = refusal(Self.namespace("a") + "---\n" + "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\u{0}c\n")
        #expect(error?.location == SourceLocation(file: "f.yaml", line: 9, column: 10), "\(String(describing: error))")
        #expect(error?.message.contains("control characters are not allowed") == true)
    }

    /// The editor's columns: a byte order mark (hidden by editors, skipped by go-yaml at a line
    /// start) takes none.
    @Test func byteOrderMarkTakesNoColumn() throws {
        let documents = try YAMLDocuments.parse("a: 1\n---\n\u{FEFF}b: [1, 2]\n", file: "f.yaml")
        #expect(documents.count == 2 && documents[1].location == SourceLocation(file: "f.yaml", line: 3, column: 1))
    }
}
