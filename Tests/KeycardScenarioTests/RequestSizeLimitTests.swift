import Foundation
import KeycardModel
import Testing

@testable import KeycardScenario

/// The API server refuses a request body above 3 MiB ("Request entity too large: limit is
/// 3145728", `MaxRequestBodyBytes`); kubectl sends each object, each List item, as its own
/// request, so the limit holds per object, measured as the JSON kubectl sends.
@Suite("Request body size limit")
struct RequestSizeLimitTests {
    /// A ConfigMap prod/big whose one data value is `value`: its JSON
    /// (`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big","namespace":"prod"},"data":{"k":"…"}}`)
    /// is 99 bytes plus the value's.
    static func configMap(_ value: String) -> String {
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: big, namespace: prod}, data: {k: \(value)}}"
    }

    @Test func anObjectAtTheLimitLoadsAndOneByteMoreIsRefusedAtTheObject() throws {
        let limit = 3 * 1024 * 1024
        #expect(RequestBodySize.limit == limit)
        let fits = ScenarioText.scenario(resources: Self.configMap(String(repeating: "x", count: limit - 99)))
        _ = try timeline(fits)
        let over = ScenarioText.scenario(resources: Self.configMap(String(repeating: "x", count: limit - 98)))
        let error = try #require(parseError(over))
        #expect(error.message.contains("ConfigMap prod/big: Request entity too large: limit is 3145728"), "\(error.message.prefix(300))")
        #expect(error.message.contains("JSON is 3145729 bytes"), "\(error.message.prefix(300))")
        #expect(error.location.line == Spot.line("kind: ConfigMap").resolve(in: over)?.line)
    }

    /// What counts is the JSON, not the YAML: `<` is six bytes there (`\u003c`), so 600,000 of
    /// them (600 kB of text) pass the limit where 600,000 letters do not.
    @Test func theJSONEncodingIsMeasuredNotTheText() throws {
        _ = try timeline(ScenarioText.scenario(resources: Self.configMap("\"" + String(repeating: "a", count: 600_000) + "\"")))
        let escaped = ScenarioText.scenario(resources: Self.configMap("\"" + String(repeating: "<", count: 600_000) + "\""))
        #expect(parseError(escaped)?.message.contains("Request entity too large") == true)
    }

    /// A List is not one request: items under the limit load however large the list; an item over
    /// it is refused at its own line.
    @Test func theLimitHoldsPerListItem() throws {
        let item = String(repeating: "x", count: 1_200_000)
        let items = (0..<3).map { "  - {apiVersion: v1, kind: ConfigMap, metadata: {name: c\($0), namespace: prod}, data: {k: \(item)}}" }
        let list = "apiVersion: v1\nkind: List\nitems:\n" + items.joined(separator: "\n") + "\n"
        let t = try loadManifests(["list.yaml": list])
        #expect(t.warnings.allSatisfy { !$0.message.contains("too large") })
        let big =
            "  - {apiVersion: v1, kind: ConfigMap, metadata: {name: huge, namespace: prod}, data: {k: \(String(repeating: "x", count: 3_200_000))}}"
        do {
            _ = try loadManifests(["list.yaml": list + big + "\n"])
            Issue.record("a List item over 3 MiB loaded")
        } catch let error as ScenarioError {
            #expect(error.message.contains("ConfigMap prod/huge: Request entity too large"), "\(error.message.prefix(200))")
            #expect(error.location.line == 7)
        }
    }

    /// The exact length follows go-yaml v2's types and encoding/json's forms.
    @Test(arguments: [
        ("{a: 0x10}", #"{"a":16}"#), ("{a: 1e3}", #"{"a":1000}"#), ("{a: .5}", #"{"a":0.5}"#), ("{a: 80.0}", #"{"a":80}"#),
        ("{a: 1e-7}", #"{"a":1e-7}"#), ("{a: 1.5e21}", #"{"a":1.5e+21}"#), ("{a: 0.000001}", #"{"a":0.000001}"#),
        ("{a: -0.25}", #"{"a":-0.25}"#), ("{a: 1e-300}", #"{"a":1e-300}"#),
        ("{a: yes, b: y, c: ~, d: off}", #"{"a":true,"b":true,"c":null,"d":false}"#),
        ("{a: 2024-01-15T10:00:00Z}", #"{"a":"2024-01-15T10:00:00Z"}"#),
        (#"{a: "x<y&z>", b: "q\"\\\t\u2028"}"#, #"{"a":"x\u003cy\u0026z\u003e","b":"q\"\\\t\u2028"}"#),
        ("{a: [1, '2', [], {}], b: null}", #"{"a":[1,"2",[],{}],"b":null}"#),
        ("{base: &b {x: 1, y: 2}, m: {<<: *b, y: 3}}", #"{"base":{"x":1,"y":2},"m":{"x":1,"y":3}}"#),
    ])
    func jsonLengthMatchesWhatKubectlSends(yaml: String, json: String) throws {
        let value = try #require(try YAMLDocuments.parse(yaml, file: "t.yaml").first)
        #expect(try RequestBodySize.jsonLength(value) == json.utf8.count, "\(yaml)")
    }

    /// The cheap bound never says "fits" for an object that does not: checked on texts whose JSON
    /// grows the most (escapes, short numbers, empty scalars).
    @Test(arguments: ["{a: '<<<<'}", "{a: 9e20}", "{a: [~, ~, ~]}", "{a: \"\\u0001\"}", "{on: 1}", "{a: ''}", "{a: .5}"])
    func theBoundIsAnUpperBound(yaml: String) throws {
        let value = try #require(try YAMLDocuments.parse(yaml, file: "t.yaml").first)
        let length = try RequestBodySize.jsonLength(value)
        // A bound of at least `length` exceeds `length - 1`.
        #expect(RequestBodySize.mayExceed(value.node, limit: length - 1), "\(yaml): bound below \(length)")
    }
}
