import Foundation
import Yams

/// Parses YAML text into documents, turning every parser failure into `file:line:col` errors.
enum YAMLDocuments {
    /// Inputs larger than this are refused before parsing. Generous on purpose: a `kubectl get -A
    /// -o yaml --show-managed-fields` dump of 10,000 NetworkPolicies is about 30 MiB.
    static let maximumBytes = 128 << 20
    /// Deeper nesting is refused. libyaml (Yams' parser) stops at this many written levels by
    /// itself (`MAX_NESTING_LEVEL`), in its iterative state machine, before the recursive composer
    /// sees them; the same limit holds once aliases are expanded, because every reader recurses
    /// per level. kubectl's limit is 10,000 (go-yaml's and encoding/json's); no manifest comes near.
    static let maximumDepth = 1000

    /// The documents of `text` as kubectl reads them (`KubectlFraming`); what kubectl ignores
    /// (a second document in text between separators) is a warning in `warnings`.
    static func parse(_ text: String, file: String) throws(ScenarioError) -> [YAMLValue] {
        var warnings: [ScenarioWarning] = []
        return try parse(text, file: file, warnings: &warnings)
    }

    /// `parse(text, file:)`, adding a warning for each document kubectl ignores.
    static func parse(_ text: String, file: String, warnings: inout [ScenarioWarning]) throws(ScenarioError) -> [YAMLValue] {
        try parse(text, file: file, warnings: &warnings, untilFirst: false)
    }

    /// The first document of `text` that is not null, read as `parse` reads it, without parsing
    /// the pieces after it (what tells a keycard scenario from manifests: a 2 MiB install.yaml
    /// had been parsed whole for that, twice per command). nil when there is none.
    static func firstDocument(_ text: String, file: String) throws(ScenarioError) -> YAMLValue? {
        var warnings: [ScenarioWarning] = []
        return try parse(text, file: file, warnings: &warnings, untilFirst: true).first { !$0.isNull }
    }

    private static func parse(
        _ text: String, file: String, warnings: inout [ScenarioWarning], untilFirst: Bool
    ) throws(ScenarioError) -> [YAMLValue] {
        let start = SourceLocation.start(of: file)
        guard text.utf8.count <= maximumBytes else {
            throw ScenarioError(start, "file is larger than \(maximumBytes >> 20) MiB")
        }
        let lines = FileLines(text)
        let pieces = try KubectlFraming.pieces(of: lines, file: file)
        var nodes: [(node: Node, marks: MarkMap, piece: Int)] = []
        for (index, piece) in pieces.enumerated() {
            let marks = MarkMap(piece, in: lines)
            guard let node = try firstDocument(piece, marks: marks, file: file, warnings: &warnings) else { continue }
            nodes.append((node, marks, index))
            if untilFirst, !YAMLValue(node, file: file, budget: VisitBudget(limit: 1), marks: marks).isNull { break }
        }
        // Aliases are substituted when a document is composed, so an anchored node reappears,
        // with its anchor's mark, wherever an alias names it. The written size counts each
        // written node once; the expansion may not exceed it by much (a bomb's does by millions).
        var seen = Set<MarkKey>()
        var written = 0
        for (node, _, piece) in nodes { countWritten(node, piece: piece, seen: &seen, written: &written) }
        let counting = VisitBudget(limit: VisitBudget.limit(forWrittenNodes: written), writtenNodes: written)
        var documents: [YAMLValue] = []
        for (node, marks, _) in nodes {
            // Walk the expansion, ignored fields included, so an alias bomb anywhere is refused
            // here rather than expanded by whoever reads that part later.
            let before = counting.spent
            try countNodes(node, file: file, marks: marks, budget: counting, depth: 0)
            // Readers visit a node a few times (a mapping's entries listed, then its fields read):
            // linear in the written size, never in a bomb's expansion.
            let reading = VisitBudget(limit: 16 * (counting.spent - before) + 10_000)
            let read = try asKubectlReadsIt(node, file: file, marks: marks)
            documents.append(YAMLValue(read, file: file, budget: reading, marks: marks))
        }
        return documents
    }

    /// The first document of `piece`, as go-yaml v2's `Unmarshal` reads only that (nil when the
    /// piece holds none); a further document is ignored as kubectl ignores it, with a warning at it.
    private static func firstDocument(
        _ piece: KubectlFraming.Piece, marks: MarkMap, file: String, warnings: inout [ScenarioWarning]
    ) throws(ScenarioError) -> Node? {
        let parser: Parser
        let first: Node?
        do {
            parser = try Parser(yaml: piece.text)
            first = try parser.nextRoot()
        } catch let error as YamlError {
            throw convert(error, file: file, marks: marks)
        } catch {
            throw ScenarioError(SourceLocation.start(of: file), "cannot parse YAML: \(error)")
        }
        guard piece.kind == .yaml, first != nil else { return first }
        var ignored: [SourceLocation] = []
        var unreadable: SourceLocation?
        do {
            while let next = try parser.nextRoot() {
                if case .scalar(let scalar) = next, scalar.string.isEmpty, scalar.style == .plain { continue }
                ignored.append(marks.location(next.mark, file: file))
            }
        } catch let error as YamlError {
            unreadable = convert(error, file: file, marks: marks).location
        } catch {
            unreadable = marks.location(nil, file: file)
        }
        guard let at = ignored.first ?? unreadable else { return first }
        let more =
            ignored.count > 1
            ? " (and \(ignored.count - 1) more after it)"
            : unreadable != nil && !ignored.isEmpty
                ? " (and text after it that is not valid YAML)" : unreadable != nil ? " (text that is not valid YAML)" : ""
        warnings.append(
            ScenarioWarning(
                location: at,
                message:
                    "this document\(more) is ignored, as kubectl ignores it: kubectl cuts a file into documents at lines that are exactly --- (LF line ends), and reads only the first document of each part (go-yaml's Unmarshal); a `...` line or lone-CR line ends do not start a document it reads. Separate documents with a --- line"
            ))
        return first
    }

    /// Where a node was written (the piece of the file and the parser's line and column there):
    /// collections are unique by it, so a repeat is an alias.
    fileprivate struct MarkKey: Hashable {
        var piece: Int
        var line: Int
        var column: Int
    }

    /// Counts written nodes: a collection met again (through an alias) counts once, unexplored.
    private static func countWritten(_ node: Node, piece: Int, seen: inout Set<MarkKey>, written: inout Int) {
        written += 1
        switch node {
        case .scalar, .alias: return
        case .mapping, .sequence: break
        }
        // Before its children are touched: a wide collection met again through many aliases
        // would otherwise cost its width at every alias (quadratic in the file).
        if let mark = node.mark, !seen.insert(MarkKey(piece: piece, line: mark.line, column: mark.column)).inserted { return }
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                countWritten(key, piece: piece, seen: &seen, written: &written)
                countWritten(value, piece: piece, seen: &seen, written: &written)
            }
        case .sequence(let sequence):
            for item in sequence { countWritten(item, piece: piece, seen: &seen, written: &written) }
        case .scalar, .alias: return
        }
    }

    /// Walks a document's expansion: the budget caps the nodes, `maximumDepth` the depth once
    /// aliases are substituted (a chain of anchors nests far deeper than its text shows, and every
    /// reader recurses).
    private static func countNodes(_ node: Node, file: String, marks: MarkMap, budget: VisitBudget, depth: Int) throws(ScenarioError) {
        try budget.spend(at: marks.location(node.mark, file: file))
        if depth > maximumDepth {
            throw ScenarioError(
                marks.location(node.mark, file: file), "nesting is deeper than \(maximumDepth) levels (counting the levels aliases repeat)")
        }
        switch node {
        case .scalar, .alias: return
        case .mapping(let mapping):
            for (key, value) in mapping {
                try countNodes(key, file: file, marks: marks, budget: budget, depth: depth + 1)
                try countNodes(value, file: file, marks: marks, budget: budget, depth: depth + 1)
            }
        case .sequence(let sequence):
            for item in sequence { try countNodes(item, file: file, marks: marks, budget: budget, depth: depth + 1) }
        }
    }

    private static func convert(_ error: YamlError, file: String, marks: MarkMap) -> ScenarioError {
        func at(_ mark: Mark) -> SourceLocation { marks.location(mark, file: file) }
        switch error {
        case .parser(_, let problem, let mark, _) where problem.hasPrefix("Maximum nesting level reached"):
            return ScenarioError(at(mark), "nesting is deeper than \(maximumDepth) levels")
        case .composer(_, let problem, let mark, _) where problem == "found undefined alias":
            return ScenarioError(
                at(mark),
                "invalid YAML: found undefined alias (kubectl: unknown anchor; an anchor belongs to its document, and kubectl reads each document alone)"
            )
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let while_ = context.map { " (\($0.text))" } ?? ""
            return ScenarioError(at(mark), "invalid YAML: \(problem)\(while_)")
        case .reader(let problem, let offset, let value, _):
            // Yams counts the offset in Characters of the text it read.
            guard let offset else { return ScenarioError(SourceLocation.start(of: file), "invalid YAML input: \(problem)") }
            return ScenarioError(
                marks.location(ofCharacter: offset, file: file), "invalid YAML input: \(problem) (U+\(String(format: "%04X", value)))")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ScenarioError(at(context.mark), "duplicate key \(duplicates.map { "\"\($0)\"" }.joined(separator: ", ")) in a mapping")
        default:
            return ScenarioError(SourceLocation.start(of: file), "invalid YAML: \(error)")
        }
    }
}

/// How a node's mark (the parser's line and column in the piece of the file it read) becomes its
/// place in the file as an editor shows it: lines counted from the piece's first line, or, where
/// the parser's lines are not the editor's (`KubectlFraming.Piece.plain`), through `PieceLocator`.
struct MarkMap {
    /// Lines of the file before the piece's first line.
    var lineOffset: Int
    /// For a piece whose lines or columns are not the file's.
    var locator: PieceLocator?
    /// The piece and the file's lines, for a reader error's byte offset.
    private var source: (piece: KubectlFraming.Piece, lines: FileLines)?

    /// Marks that are the file's own lines and columns (`lineOffset` lines down).
    init(lineOffset: Int = 0) {
        self.lineOffset = lineOffset
        locator = nil
        source = nil
    }

    /// For a piece whose text does not end in a line break: the parser's line after its last,
    /// where libyaml puts the end of the stream (it adds a line break there), and the file's
    /// place after the piece's last character, where an editor shows that end.
    private var unterminatedEnd: (parserLine: Int, line: Int, column: Int)?

    init(_ piece: KubectlFraming.Piece, in lines: FileLines) {
        lineOffset = piece.firstLine - 1
        let locator = PieceLocator(piece, in: lines)
        self.locator = piece.plain ? nil : locator
        source = (piece, lines)
        if let last = piece.text.utf8.last, last != 0x0A, last != 0x0D {
            let end = locator.location(ofByte: piece.text.utf8.count)
            unterminatedEnd = (locator.parserLineCount + 1, end.line, end.column)
        }
    }

    /// Where `mark` is in `file` (the piece's first line without a mark).
    func location(_ mark: Mark?, file: String) -> SourceLocation {
        guard let mark else { return SourceLocation(file: file, line: 1 + lineOffset, column: 1) }
        if let end = unterminatedEnd, mark.line >= end.parserLine {
            return SourceLocation(file: file, line: end.line, column: end.column)
        }
        guard let locator else { return SourceLocation(file: file, line: mark.line + lineOffset, column: mark.column) }
        let (line, column) = locator.location(line: mark.line, column: mark.column)
        return SourceLocation(file: file, line: line, column: column)
    }

    /// Where the piece's Character `offset` (a libyaml reader error's, as Yams counts it) is in `file`.
    func location(ofCharacter offset: Int, file: String) -> SourceLocation {
        guard let source else { return SourceLocation(file: file, line: 1 + lineOffset, column: 1) }
        let text = source.piece.text
        let index = text.index(text.startIndex, offsetBy: offset, limitedBy: text.endIndex) ?? text.endIndex
        let byte = text.utf8.distance(from: text.utf8.startIndex, to: index)
        let (line, column) = PieceLocator(source.piece, in: source.lines).location(ofByte: byte)
        return SourceLocation(file: file, line: line, column: column)
    }
}
