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
    private var documents: [String: [Node]] = [:]

    /// The location of `path` under the object node written at `object`.
    func locate(_ object: SourceLocation, _ path: [SourcePath]) -> SourceLocation {
        guard !path.isEmpty, let root = roots(object.file).lazy.compactMap({ Self.find(object, in: $0) }).first else { return object }
        var node = root
        for step in path {
            switch (step, node) {
            case (.key(let key), .mapping(let mapping)):
                guard let next = mapping.first(where: { $0.key.string == key })?.value else { return Self.location(node, object.file) }
                node = next
            case (.index(let index), .sequence(let sequence)):
                guard index < sequence.count else { return Self.location(node, object.file) }
                node = sequence[index]
            default: return Self.location(node, object.file)
            }
        }
        return Self.location(node, object.file)
    }

    private func roots(_ file: String) -> [Node] {
        if let cached = documents[file] { return cached }
        let start = SourceLocation(file: file, line: 1, column: 1)
        let nodes =
            (try? ScenarioLoader.readText(file, at: start)).flatMap { try? YAMLDocuments.parse($0, file: file).map(\.node) } ?? []
        documents[file] = nodes
        return nodes
    }

    private static func location(_ node: Node, _ file: String) -> SourceLocation {
        SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    /// The mapping node written at `location`, depth first.
    private static func find(_ location: SourceLocation, in node: Node) -> Node? {
        if case .mapping = node, node.mark?.line == location.line, node.mark?.column == location.column { return node }
        switch node {
        case .mapping(let mapping):
            for (_, value) in mapping { if let found = find(location, in: value) { return found } }
        case .sequence(let sequence):
            for item in sequence { if let found = find(location, in: item) { return found } }
        default: break
        }
        return nil
    }
}
