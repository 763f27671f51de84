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

    static func parse(_ text: String, file: String) throws(ScenarioError) -> [YAMLValue] {
        let start = SourceLocation.start(of: file)
        guard text.utf8.count <= maximumBytes else {
            throw ScenarioError(start, "file is larger than \(maximumBytes >> 20) MiB")
        }
        do {
            let nodes = try documentNodes(text, file: file)
            // Aliases are substituted when a document is composed, so an anchored node reappears,
            // with its anchor's mark, wherever an alias names it. The written size counts each
            // written node once; the expansion may not exceed it by much (a bomb's does by millions).
            var seen = Set<MarkKey>()
            var written = 0
            for (node, offset) in nodes { countWritten(node, offset: offset, seen: &seen, written: &written) }
            let counting = VisitBudget(limit: VisitBudget.limit(forWrittenNodes: written), writtenNodes: written)
            var documents: [YAMLValue] = []
            for (node, offset) in nodes {
                // Walk the expansion, ignored fields included, so an alias bomb anywhere is refused
                // here rather than expanded by whoever reads that part later.
                let before = counting.spent
                try countNodes(node, file: file, budget: counting, depth: 0, documentStart: MarkKey(node.mark))
                // Readers visit a node a few times (a mapping's entries listed, then its fields read):
                // linear in the written size, never in a bomb's expansion.
                let reading = VisitBudget(limit: 16 * (counting.spent - before) + 10_000)
                let read = try asKubectlReadsIt(node, file: file, lineOffset: offset)
                documents.append(YAMLValue(read, file: file, budget: reading, lineOffset: offset))
            }
            return documents
        } catch let error as ScenarioError {
            throw error
        } catch let error as YamlError {
            throw convert(error, file: file)
        } catch {
            throw ScenarioError(start, "cannot parse YAML: \(error)")
        }
    }

    /// The documents' root nodes, each with the lines written before the text it was parsed
    /// from: a stream of JSON objects is parsed object by object (`JSONStream`), YAML as one
    /// stream, with byte order marks at document starts dropped (`TextEncoding`).
    private static func documentNodes(_ written: String, file: String) throws -> [(Node, Int)] {
        let text = JSONStream.joiningSurrogates(written)
        guard let values = JSONStream.values(in: text) else {
            var nodes: [(Node, Int)] = []
            var sequence = try Yams.compose_all(yaml: TextEncoding.strippingDocumentBOMs(text))
            while let node = sequence.next() { nodes.append((node, 0)) }
            if let error = sequence.error { throw error }
            return nodes
        }
        let utf8 = Array(text.utf8)
        var nodes: [(Node, Int)] = []
        for value in values {
            // Spaces keep the columns of the object's first line; its marks then count lines from 1.
            let padded = String(repeating: " ", count: value.column - 1) + String(decoding: utf8[value.bytes], as: UTF8.self)
            let offset = value.line - 1
            // kubectl decodes such a stream as JSON: a YAML flow mapping (`{a: 1}`) is refused there.
            if (try? JSONSerialization.jsonObject(with: Data(utf8[value.bytes]))) == nil {
                throw ScenarioError(
                    SourceLocation(file: file, line: value.line, column: value.column),
                    "invalid JSON: a file that starts with { is read as a stream of JSON objects, as kubectl reads it, and this object is not JSON"
                )
            }
            do {
                guard let node = try Yams.compose(yaml: padded) else { continue }
                nodes.append((node, offset))
            } catch let error as YamlError {
                var converted = convert(error, file: file)
                converted.location.line += offset
                throw converted
            }
        }
        return nodes
    }

    /// Where a node was written: collections are unique by it, so a repeat is an alias.
    fileprivate struct MarkKey: Hashable, Comparable {
        var line: Int
        var column: Int

        static func < (lhs: Self, rhs: Self) -> Bool { (lhs.line, lhs.column) < (rhs.line, rhs.column) }
    }

    /// Counts written nodes: a collection met again (through an alias) counts once, unexplored.
    private static func countWritten(_ node: Node, offset: Int, seen: inout Set<MarkKey>, written: inout Int) {
        written += 1
        let children: [Node]
        switch node {
        case .scalar, .alias: return
        case .mapping(let mapping): children = mapping.flatMap { [$0.key, $0.value] }
        case .sequence(let sequence): children = Array(sequence)
        }
        if node.mark != nil, !seen.insert(MarkKey(node.mark, lineOffset: offset)).inserted { return }
        for child in children { countWritten(child, offset: offset, seen: &seen, written: &written) }
    }

    /// Walks a document's expansion: the budget caps the nodes, `maximumDepth` the depth once
    /// aliases are substituted (a chain of anchors nests far deeper than its text shows, and every
    /// reader recurses), and a node written before the document began came through an alias to an
    /// earlier document's anchor, which YAML scopes to its own document (kubectl decodes each
    /// document alone and answers "unknown anchor").
    private static func countNodes(
        _ node: Node, file: String, budget: VisitBudget, depth: Int, documentStart: MarkKey
    ) throws(ScenarioError) {
        let here = SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
        try budget.spend(at: here)
        if depth > maximumDepth {
            throw ScenarioError(here, "nesting is deeper than \(maximumDepth) levels (counting the levels aliases repeat)")
        }
        if MarkKey(node.mark) < documentStart {
            throw ScenarioError(here, "an alias refers to an anchor of an earlier YAML document (anchors are scoped to their document)")
        }
        switch node {
        case .scalar, .alias: return
        case .mapping(let mapping):
            for (key, value) in mapping {
                try countNodes(key, file: file, budget: budget, depth: depth + 1, documentStart: documentStart)
                try countNodes(value, file: file, budget: budget, depth: depth + 1, documentStart: documentStart)
            }
        case .sequence(let sequence):
            for item in sequence { try countNodes(item, file: file, budget: budget, depth: depth + 1, documentStart: documentStart) }
        }
    }

    private static func convert(_ error: YamlError, file: String) -> ScenarioError {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        switch error {
        case .parser(_, let problem, let mark, _) where problem.hasPrefix("Maximum nesting level reached"):
            return ScenarioError(at(mark), "nesting is deeper than \(maximumDepth) levels")
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let while_ = context.map { " (\($0.text))" } ?? ""
            return ScenarioError(at(mark), "invalid YAML: \(problem)\(while_)")
        case .reader(let problem, let offset, _, _):
            return ScenarioError(
                SourceLocation.start(of: file),
                "invalid YAML input: \(problem)\(offset.map { " at byte \($0)" } ?? "")")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ScenarioError(at(context.mark), "duplicate key \(duplicates.map { "\"\($0)\"" }.joined(separator: ", ")) in a mapping")
        default:
            return ScenarioError(SourceLocation.start(of: file), "invalid YAML: \(error)")
        }
    }
}

extension YAMLDocuments.MarkKey {
    /// Where `mark` points; a node without one (none Yams composes) sorts first.
    fileprivate init(_ mark: Mark?, lineOffset: Int = 0) { self.init(line: (mark?.line ?? 0) + lineOffset, column: mark?.column ?? 0) }
}
