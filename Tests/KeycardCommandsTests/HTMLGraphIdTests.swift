import Testing

@testable import KeycardCommands

/// `run -o html` with several scenarios inlined each Graphviz SVG unchanged, so `graph0`, `node1`,
/// `edge1` came once per scenario; an id must be unique in the page (HTML Living Standard).
@Suite("HTML report: graph element ids")
struct HTMLGraphIdTests {
    static let svg = """
        <?xml version="1.0" encoding="UTF-8" standalone="no"?>
        <svg width="8pt" height="8pt"><g id="graph0" class="graph"><g id="node1" class="node"><g id="a_node1"><a xlink:href="#node1">\
        <path fill="url(#l_0)" d="M0,0"/></a></g></g><g id="edge1"><use href="#edge1"/><path fill="url(#other)"/></g></g></svg>
        """

    @Test func eachGraphsIdsAndTheirReferencesGetTheScenariosPrefix() {
        let inlined = HTMLRenderer.inlineSVG(
            Self.svg.replacingOccurrences(of: "<path fill=\"url(#l_0)\"", with: "<linearGradient id=\"l_0\"/><path fill=\"url(#l_0)\""),
            idPrefix: "s2-")
        #expect(inlined.hasPrefix("<svg"))
        for id in ["graph0", "node1", "a_node1", "edge1", "l_0"] { #expect(inlined.contains(" id=\"s2-\(id)\""), "\(id)") }
        #expect(inlined.contains("xlink:href=\"#s2-node1\"") && inlined.contains("href=\"#s2-edge1\"") && inlined.contains("url(#s2-l_0)"))
        #expect(inlined.contains("url(#other)"), "a reference to no id of this graph stays as it is")
        #expect(!inlined.contains("id=\"graph0\""))
    }

    @Test func twoGraphsOnOnePageShareNoId() {
        let first = HTMLRenderer.inlineSVG(Self.svg, idPrefix: "s1-")
        let second = HTMLRenderer.inlineSVG(Self.svg, idPrefix: "s2-")
        let ids = { (text: String) in Set(text.matches(of: /\sid="([^"]*)"/).map { String($0.output.1) }) }
        #expect(!ids(first).isEmpty && ids(first).isDisjoint(with: ids(second)))
    }
}
