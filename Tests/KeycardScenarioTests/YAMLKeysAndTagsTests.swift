import Foundation
import KeycardModel
import KeycardValues
import Testing
import Yams

@testable import KeycardScenario

/// Mapping keys and explicit tags as kubectl reads them: go-yaml v2's `resolve`, then
/// sigs.k8s.io/yaml's key conversion (`GoYAMLScalar`, `YAMLDocuments.asKubectlReadsIt`).
@Suite("YAML keys and tags as kubectl reads them")
struct YAMLKeysAndTagsTests {
    /// go-yaml v2 resolve.go on plain scalars, case by case (Go's ParseInt with base 0, then
    /// ParseUint, then `yamlStyleFloat`; the words of `resolveMap`).
    @Test func plainScalarsResolveAsGoYAMLv2() {
        let cases: [(String, GoYAMLScalar)] = [
            ("80", .int(80)), ("0x50", .int(80)), ("0120", .int(80)), ("0o120", .int(80)), ("0b1010000", .int(80)),
            ("8_0", .int(80)), ("+80", .int(80)), ("-0x10", .int(-16)), ("08", .float(8)), ("1e3", .float(1000)),
            (".5", .float(0.5)), ("80.0", .float(80)), ("9223372036854775808", .uint(9_223_372_036_854_775_808)),
            ("on", .bool(true)), ("Off", .bool(false)), ("TRUE", .bool(true)), ("y", .string("y")), ("N", .string("N")),
            ("~", .null), ("", .null), ("Null", .null), (".inf", .float(.infinity)), ("-.Inf", .float(-.infinity)),
            ("2001-12-14", .timestamp("2001-12-14")), ("2001-12-14T21:59:43Z", .timestamp("2001-12-14T21:59:43Z")),
            ("12:30", .string("12:30")), ("0x", .string("0x")), ("1.2.3", .string("1.2.3")), ("-", .string("-")),
            ("web", .string("web")), ("0xG", .string("0xG")), ("1e400", .string("1e400")), (".5e999", .string(".5e999")),
            ("2023-02-29", .string("2023-02-29")),
        ]
        for (text, expected) in cases { #expect(GoYAMLScalar.plain(text) == expected, "\(text)") }
        if case .float(let nan) = GoYAMLScalar.plain(".nan") { #expect(nan.isNaN) } else { Issue.record(".nan is a float") }
    }

    /// The keys sigs.k8s.io/yaml makes: Go's FormatFloat(f, 'g', -1, 32) for floats.
    @Test func keyStringsAreSigsYAMLs() {
        #expect(GoYAMLScalar.plain("on").keyString == "true")
        #expect(GoYAMLScalar.plain("0x10").keyString == "16")
        #expect(GoYAMLScalar.plain("~").keyString == nil)
        #expect(GoYAMLScalar.plain("18446744073709551615").keyString == nil)
        let floats: [(Double, String)] = [
            (1.5, "1.5"), (100_000, "100000"), (1_000_000, "1e+06"), (0.0001, "0.0001"), (0.00001, "1e-05"), (0.1, "0.1"),
            (123_456_789, "1.2345679e+08"), (3.14159265358979, "3.1415927"), (-2.5, "-2.5"), (80, "80"), (0, "0"),
            (1e-10, "1e-10"), (.infinity, ".inf"), (-.infinity, "-.inf"), (1e300, ".inf"),
        ]
        for (value, text) in floats { #expect(GoYAMLScalar.goFloat32(value) == text, "\(value)") }
    }

    /// An explicit tag decides the type as go-yaml's `resolve(tag, text)` does; a text that is not
    /// of the tag's type is go-yaml's error.
    @Test func explicitTagsAreHonoured() {
        #expect(GoYAMLScalar.tagged("0x50", tag: "tag:yaml.org,2002:int") == .success(.int(80)))
        #expect(GoYAMLScalar.tagged("80", tag: "tag:yaml.org,2002:str") == .success(.string("80")))
        #expect(GoYAMLScalar.tagged("80", tag: "tag:yaml.org,2002:float") == .success(.float(80)))
        #expect(GoYAMLScalar.tagged("yes", tag: "tag:yaml.org,2002:bool") == .success(.bool(true)))
        #expect(GoYAMLScalar.tagged("y", tag: "tag:yaml.org,2002:bool") == .success(.bool(true)))
        #expect(GoYAMLScalar.tagged("aGk=", tag: "tag:yaml.org,2002:binary") == .success(.string("hi")))
        #expect(GoYAMLScalar.tagged("aGVsbG8g\nd29ybGQ=\n", tag: "tag:yaml.org,2002:binary") == .success(.string("hello world")))
        #expect(GoYAMLScalar.tagged("/w==", tag: "tag:yaml.org,2002:binary") == .success(.string("\u{FFFD}")))
        #expect(
            GoYAMLScalar.tagged("1e400", tag: "tag:yaml.org,2002:float")
                == .failure(.init(message: "cannot decode !!str `1e400` as a !!float")))
        #expect(
            GoYAMLScalar.tagged("2001-13-45", tag: "tag:yaml.org,2002:timestamp")
                == .failure(.init(message: "cannot decode !!str `2001-13-45` as a !!timestamp")))
        #expect(GoYAMLScalar.tagged("2024-02-29", tag: "tag:yaml.org,2002:timestamp") == .success(.timestamp("2024-02-29")))
        #expect(GoYAMLScalar.tagged("x", tag: "!custom") == .success(.string("x")))
        #expect(GoYAMLScalar.tagged("x", tag: "tag:yaml.org,2002:null") == .failure(.init(message: "cannot decode !!str `x` as a !!null")))
        #expect(
            GoYAMLScalar.tagged("1.5", tag: "tag:yaml.org,2002:int") == .failure(.init(message: "cannot decode !!float `1.5` as a !!int")))
    }

    /// A plain `=` or `<<` as a value is a string to go-yaml v2 (YAML 1.1's value type does not
    /// exist there; `<<` merges only as a key), so a string field takes it; a `<<` key tagged
    /// `!!str` is an ordinary key, not a merge (go-yaml `isMerge`), as kubectl reads it (review of
    /// hostile input, findings 2 and 3).
    @Test func equalsAndMergeTextAsValuesAndTaggedMergeKeys() throws {
        let values = try #require(try YAMLDocuments.parse("a: =\nb: <<\nc: [=, <<]", file: "t.yaml").first)
            .fields("t", allowed: ["a", "b", "c"])
        #expect(try values["a"]?.string("a") == "=")
        #expect(try values["b"]?.string("b") == "<<")
        #expect(try values["c"]?.items("c").map { try $0.string("c") } == ["=", "<<"])

        let merged = try #require(try YAMLDocuments.parse("m: {<<: {app: web}}", file: "t.yaml").first).fields("t", allowed: ["m"])
        #expect(try merged["m"]?.entries("m").map(\.key) == ["app"])
        let tagged = try #require(try YAMLDocuments.parse("m: {!!str <<: {app: web}}", file: "t.yaml").first).fields("t", allowed: ["m"])
        #expect(try tagged["m"]?.entries("m").map(\.key) == ["<<"])
        let explicit = try #require(try YAMLDocuments.parse("m: {!!merge <<: {app: web}}", file: "t.yaml").first).fields(
            "t", allowed: ["m"])
        #expect(try explicit["m"]?.entries("m").map(\.key) == ["app"])
    }

    /// On plain values Yams' resolver and go-yaml's agree on the type, which is all the readers
    /// check (the value of a number comes from Yams): a table of the forms that differ in YAML 1.1
    /// and 1.2.
    @Test func yamsAndGoYAMLAgreeOnTheTypeOfPlainValues() throws {
        let texts = [
            "80", "0x50", "0120", "0o120", "0b101", "8_0", "+80", "-80", "08", "1e3", ".5", "80.0", "on", "off", "yes", "NO",
            "true", "~", "null", ".inf", "-.inf", ".nan", "2001-12-14", "web", "1.2.3", "0x", "v1", "=", "<<",
        ]
        for text in texts {
            let value = try #require(try YAMLDocuments.parse("k: \(text)", file: "t.yaml").first).fields("t", allowed: ["k"])["k"]
            let yams: String =
                switch value?.tagName {
                case nil, .null?: "null"
                case .int?: "int"
                case .float?: "float"
                case .bool?: "bool"
                case .timestamp?: "timestamp"
                default: "string"
                }
            let go: String =
                switch GoYAMLScalar.plain(text) {
                case .null: "null"
                case .int, .uint: "int"
                case .float: "float"
                case .bool: "bool"
                case .timestamp: "timestamp"
                case .string: "string"
                }
            // An integral float and an integer reach the API server as the same JSON number.
            let same = yams == go || Set([yams, go]) == ["int", "float"]
            #expect(same, "\(text): Yams \(yams), go-yaml \(go)")
        }
    }

    /// `on: duty` is the label `true: duty` to kubectl: a policy selecting the key "true" isolates
    /// the pod (the reviewer's verdict flip, where keycard had kept the key `on`).
    @Test func plainKeysAreTheStringsKubectlMakes() throws {
        let t = try loadManifests([
            "a.yaml": """
            apiVersion: v1
            kind: Pod
            metadata: {name: web, labels: {on: duty, 0x10: hex, 010: octal, y: kept, 1.5: half}}
            spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}
            """
        ])
        let pod = try #require(t.initial.pods[ObjectKey("default", "web")])
        #expect(pod.labels == ["true": "duty", "16": "hex", "8": "octal", "y": "kept", "1.5": "half"])
        // `!!str on` and `! on` are not resolved: the key "on", as go-yaml leaves both.
        let kept = try loadManifests([
            "a.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n  labels: {!!str on: a, ! off: b, !!int \"0x10\": c}\n"
        ])
        #expect(kept.initial.namespaces["n"]?.labels["on"] == "a")
        #expect(kept.initial.namespaces["n"]?.labels["off"] == "b")
        #expect(kept.initial.namespaces["n"]?.labels["16"] == "c")
    }

    @Test func keysThatBecomeOneOrNullAreRefused() throws {
        let twice = try #require(throws: ScenarioError.self) {
            try loadManifests(["a.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n  labels: {on: a, \"true\": b}\n"])
        }
        #expect(twice.message.contains("duplicate key \"true\""), "\(twice.message)")
        #expect(twice.location.line == 5)
        let null = try #require(throws: ScenarioError.self) {
            try loadManifests(["a.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n  labels: {~: a}\n"])
        }
        #expect(null.message.contains("a mapping key may not be null"), "\(null.message)")
        #expect(null.location.line == 5 && null.location.column == 12, "\(null.location)")
    }

    /// `port: !!int "0x50"` is port 80 to kubectl, not a port named "0x50"; `!!str 80` is a
    /// string, which an integer field refuses; `!!null x` is refused as go-yaml refuses it.
    @Test func taggedValuesAreWhatGoYAMLMakesOfThem() throws {
        func policy(_ port: String) -> [String: String] {
            [
                "a.yaml": """
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: p}
                spec: {podSelector: {}, ingress: [{ports: [{port: \(port)}]}]}
                """
            ]
        }
        let t = try loadManifests(policy("!!int \"0x50\""))
        let rule = try #require(t.initial.policies[ObjectKey("default", "p")]?.ingress?.first)
        #expect(rule.ports?.first?.port == .number(80))
        let named = try loadManifests(policy("!!str http"))
        #expect(named.initial.policies[ObjectKey("default", "p")]?.ingress?.first?.ports?.first?.port == .name("http"))
        let bool = try #require(throws: ScenarioError.self) { try loadManifests(policy("!!bool \"true\"")) }
        #expect(bool.message.contains("port must be"), "\(bool.message)")
        let null = try #require(throws: ScenarioError.self) { try loadManifests(policy("!!null x")) }
        #expect(null.message.contains("cannot decode !!str `x` as a !!null"), "\(null.message)")
        #expect(null.location.line == 4)
        let container = try loadManifests([
            "a.yaml":
                "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i, ports: [{containerPort: !!int \"8080\"}]}]}\n"
        ])
        #expect(container.initial.pods[ObjectKey("default", "p")]?.ports.map(\.port) == [8080])
    }

    /// Plain scalars go-yaml v2 reads as numbers where YAML 1.1's patterns see strings: Go's
    /// `ParseInt(text, 0, 64)` takes upper-case radix prefixes, `yamlStyleFloat` a sign before the
    /// dot. A port field takes them as numbers; a label value refuses them, as the API server does.
    @Test func upperCaseRadixPrefixesAndSignedDotFloatsAreNumbers() throws {
        let t = try loadManifests([
            "a.yaml": """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p}
            spec: {podSelector: {}, ingress: [{ports: [{port: 0X50}, {port: 0O120}, {port: 0B1010000}, {port: +.8e2}]}]}
            """
        ])
        let ports = try #require(t.initial.policies[ObjectKey("default", "p")]?.ingress?.first?.ports).map(\.port)
        #expect(ports == [.number(80), .number(80), .number(80), .number(80)], "\(ports)")
        let label = try #require(throws: ScenarioError.self) {
            try loadManifests(["a.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: n, labels: {app: 0X1F}}\n"])
        }
        #expect(label.message.contains("must be a string"), "\(label.message)")
        // As a key (sigs.k8s.io/yaml writes a number key with FormatInt / FormatFloat) and a quantity.
        let keyed = try loadManifests([
            "a.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {0X10: a}, annotations: {+.8e2: b}}\n"
                + "spec: {containers: [{name: c, image: i, resources: {limits: {cpu: 0X50}}}]}\n"
        ])
        let pod = try #require(keyed.initial.pods[ObjectKey("default", "p")])
        #expect(pod.labels == ["16": "a"] && pod.annotations == ["80": "b"], "\(pod.labels) \(pod.annotations)")
    }
}

/// ObjectMeta fields a dump carries, decoded as the API server decodes them (`Metadata.checkFieldTypes`).
struct MetadataFieldTypeTests {
    @Test(arguments: [
        ("uid: 12", "metadata.uid must be a string"), ("resourceVersion: 5", "metadata.resourceVersion must be a string"),
        ("generation: x", "metadata.generation must be an integer"),
        ("creationTimestamp: notatime", "parsing time \"notatime\" as RFC 3339 failed"),
        ("finalizers: x", "metadata.finalizers must be a list"),
        ("finalizers: [\"bad name\"]", "metadata.finalizers: Invalid value: \"bad name\""),
        ("finalizers: [orphan, foregroundDeletion]", "cannot be both set"),
    ])
    func aWrongTypeIsRefused(_ field: String, _ message: String) throws {
        let error = try #require(throws: ScenarioError.self) {
            try loadManifests(["a.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: n, \(field)}\n"])
        }
        #expect(error.message.contains(message), "\(error.message)")
    }

    @Test func aDumpsMetadataLoads() throws {
        let dump = """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: n
              uid: 0b4c2f7e-1111-2222-3333-444455556666
              resourceVersion: "12345"
              generation: 3
              creationTimestamp: "2024-01-15T10:00:00Z"
              finalizers: [kubernetes, example.com/cleanup]
              managedFields: [{manager: kubectl, operation: Apply}]
            """
        #expect(throws: Never.self) { try loadManifests(["a.yaml": dump]) }
    }
}
