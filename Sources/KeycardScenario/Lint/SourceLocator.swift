import Yams

/// One step of a path inside an object's YAML: a mapping key or a list index.
public enum SourcePath: Hashable, Sendable {
    case key(String)
    case index(Int)
}

/// Finds where a field inside an already loaded object was written, so a finding can point at
/// `spec.egress[1]` rather than at the object's first line. Loaders keep each object's location;
/// this re-reads the file (once, cached) and walks from the node at that location. When the path
/// is not there (a defaulted field) the deepest node found stands in.
final class SourceLocator {
    private struct Spot: Hashable {
        var line: Int
        var column: Int
    }

    /// Per file: every mapping node by where it was written (indexed once, so locating a finding
    /// costs its path, not a walk of the file: lint reports one finding per policy of thousands).
    private var mappings: [String: [Spot: (node: Node, marks: MarkMap)]] = [:]

    /// The location of `path` under the object node written at `object`.
    func locate(_ object: SourceLocation, _ path: [SourcePath]) -> SourceLocation {
        guard !path.isEmpty, let root = index(object.file)[Spot(line: object.line, column: object.column)] else { return object }
        var node = root.node
        func location(_ node: Node) -> SourceLocation { root.marks.location(node.mark, file: object.file) }
        for step in path {
            switch (step, node) {
            case (.key(let key), .mapping(let mapping)):
                guard let next = mapping.first(where: { $0.key.string == key })?.value else { return location(node) }
                node = next
            case (.index(let index), .sequence(let sequence)):
                guard index < sequence.count else { return location(node) }
                node = sequence[index]
            default: return location(node)
            }
        }
        return location(node)
    }

    private func index(_ file: String) -> [Spot: (node: Node, marks: MarkMap)] {
        if let cached = mappings[file] { return cached }
        let start = SourceLocation.start(of: file)
        let documents = (try? ScenarioLoader.readText(file, at: start)).flatMap { try? YAMLDocuments.parse($0, file: file) } ?? []
        var found: [Spot: (node: Node, marks: MarkMap)] = [:]
        for document in documents { Self.collect(document.node, marks: document.marks, file: file, into: &found) }
        mappings[file] = found
        return found
    }

    /// Every mapping node under `node`, the first written at a spot kept (depth first, as aliases
    /// repeat nodes at their anchor's spot). `marks`: the document's (`YAMLValue.marks`).
    private static func collect(_ node: Node, marks: MarkMap, file: String, into found: inout [Spot: (node: Node, marks: MarkMap)]) {
        switch node {
        case .mapping(let mapping):
            if node.mark != nil {
                let location = marks.location(node.mark, file: file)
                let spot = Spot(line: location.line, column: location.column)
                if found[spot] == nil { found[spot] = (node, marks) }
            }
            for (_, value) in mapping { collect(value, marks: marks, file: file, into: &found) }
        case .sequence(let sequence):
            for item in sequence { collect(item, marks: marks, file: file, into: &found) }
        default: break
        }
    }
}
