import CYaml

extension YAMLDocuments {
    /// The deepest nesting of collections (mappings and sequences, the document's own included)
    /// kubectl reads: go-yaml v2's scanner refuses flow levels or block indentation beyond 10,000
    /// ("exceeded max depth of 10000"), and the JSON it converts a document to is decoded with
    /// encoding/json's limit of 10,000 nested arrays and objects ("exceeded max depth"), which
    /// also holds once aliases are expanded. Measured with kubectl v1.32: a ConfigMap with 9,999
    /// nested flow lists under one field applies, 10,000 are refused.
    static let maximumDepth = 10_000

    /// Refuses a document of `text` whose written collections nest deeper than `maximumDepth`,
    /// before Yams' composer (which recurses once per level) sees it. libyaml's event parser is
    /// iterative, so this walk cannot overflow the stack whatever the text: each mapping or
    /// sequence start counts one level, each end one less; scalars, comments, quoted and block
    /// scalars (CSS braces, a line of 500 dashes) are what the parser says they are, never
    /// brackets. A syntax error ends the walk quietly: the composer reports it, having nested no
    /// deeper than the levels walked.
    /// - Parameters: `lineOffset`, lines written before `text` (a JSON stream's object).
    /// - Throws: `ScenarioError` at the start of the first collection beyond the limit.
    static func checkNesting(_ text: String, file: String, lineOffset: Int = 0) throws(ScenarioError) {
        var utf8 = Array(text.utf8)
        if utf8.isEmpty { return }
        let refused: (line: Int, column: Int)? = utf8.withUnsafeMutableBufferPointer { buffer in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else { return nil }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var depth = 0
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                switch event.type {
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    depth += 1
                    if depth > maximumDepth { return (Int(event.start_mark.line) + 1, Int(event.start_mark.column) + 1) }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT: depth -= 1
                case YAML_DOCUMENT_START_EVENT: depth = 0
                case YAML_STREAM_END_EVENT: return nil
                default: break
                }
            }
        }
        if let (line, column) = refused {
            throw ScenarioError(
                SourceLocation(file: file, line: line + lineOffset, column: column),
                "nesting is deeper than \(maximumDepth) levels: kubectl refuses it (go-yaml v2 and encoding/json: exceeded max depth)")
        }
    }
}
