import Testing

@testable import KeycardScenario

/// JSON input as Python's `json.dump` writes it: non-ASCII text as UTF-16 escapes, a character
/// outside the Basic Multilingual Plane as a surrogate pair. Go's encoding/json (kubectl) decodes
/// a pair to the character and a lone surrogate to U+FFFD; libyaml refused both.
@Suite struct JSONSurrogateTests {
    static let pod =
        #"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop", "annotations": {"note": "NOTE"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}"#

    func annotation(_ escaped: String) throws -> String? {
        let values = try YAMLDocuments.parse(Self.pod.replacingOccurrences(of: "NOTE", with: escaped), file: "pod.json")
        var decoder = ObjectDecoder()
        guard case .pod(let pod)? = try decoder.decode(values[0]).first?.object else { return nil }
        return pod.annotations["note"]
    }

    @Test func surrogatePairsAndLoneSurrogatesDecodeAsGoDecodesThem() throws {
        #expect(try annotation(#"launch \ud83d\ude80 now"#) == "launch 🚀 now")
        #expect(try annotation(#"lone \ud800 here"#) == "lone \u{FFFD} here")
        // An escaped backslash keeps what follows as text.
        #expect(try annotation(#"path \\ud83d"#) == #"path \ud83d"#)
        #expect(try annotation(#"caf\u00e9"#) == "café")
    }

    /// YAML is not JSON: a surrogate escape there is refused, as go-yaml refuses it.
    @Test func yamlIsLeftAsItIs() {
        #expect(throws: ScenarioError.self) { try YAMLDocuments.parse("a: \"\\ud83d\"\n", file: "a.yaml") }
    }
}
