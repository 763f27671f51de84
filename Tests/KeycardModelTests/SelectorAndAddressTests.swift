import KeycardModel
import KeycardValues
import Testing

/// A selector, some labels, and whether the selector matches (apimachinery's label-selector rules).
struct SelectorCase: Sendable, CustomTestStringConvertible {
    var rule: String
    var selector: LabelSelector
    var labels: Labels
    var matches: Bool
    var testDescription: String { "\(rule): \(selector) on \(labels.sorted { $0.key < $1.key }) = \(matches)" }
}

let selectorUnitCases: [SelectorCase] = [
    SelectorCase(rule: "empty selector selects everything", selector: .everything, labels: [:], matches: true),
    SelectorCase(rule: "empty selector selects labelled objects too", selector: sel(), labels: ["a": "1"], matches: true),
    SelectorCase(
        rule: "matchLabels: every pair must be present", selector: sel(["a": "1", "b": "2"]), labels: ["a": "1", "b": "2", "c": "3"],
        matches: true),
    SelectorCase(rule: "matchLabels: one pair missing", selector: sel(["a": "1", "b": "2"]), labels: ["a": "1"], matches: false),
    SelectorCase(rule: "matchLabels: value differs", selector: sel(["a": "1"]), labels: ["a": "2"], matches: false),
    SelectorCase(rule: "matchLabels: empty value must equal empty value", selector: sel(["a": ""]), labels: ["a": ""], matches: true),
    SelectorCase(rule: "In: value in set", selector: sel([:], req("a", .in, "1", "2")), labels: ["a": "2"], matches: true),
    SelectorCase(rule: "In: value not in set", selector: sel([:], req("a", .in, "1", "2")), labels: ["a": "3"], matches: false),
    SelectorCase(rule: "In: key absent", selector: sel([:], req("a", .in, "1")), labels: [:], matches: false),
    SelectorCase(rule: "NotIn: value in set", selector: sel([:], req("a", .notIn, "1")), labels: ["a": "1"], matches: false),
    SelectorCase(rule: "NotIn: value not in set", selector: sel([:], req("a", .notIn, "1")), labels: ["a": "2"], matches: true),
    SelectorCase(rule: "NotIn: key absent matches", selector: sel([:], req("a", .notIn, "1")), labels: ["b": "1"], matches: true),
    SelectorCase(rule: "Exists: key present with any value", selector: sel([:], req("a", .exists)), labels: ["a": ""], matches: true),
    SelectorCase(rule: "Exists: key absent", selector: sel([:], req("a", .exists)), labels: ["b": "x"], matches: false),
    SelectorCase(rule: "DoesNotExist: key absent", selector: sel([:], req("a", .doesNotExist)), labels: ["b": "x"], matches: true),
    SelectorCase(rule: "DoesNotExist: key present", selector: sel([:], req("a", .doesNotExist)), labels: ["a": "x"], matches: false),
    SelectorCase(
        rule: "requirements are ANDed", selector: sel(["a": "1"], req("b", .exists), req("c", .doesNotExist)),
        labels: ["a": "1", "b": "x", "c": "y"], matches: false),
]

@Suite("Label selectors, namespaces, CIDRs")
struct SelectorAndAddressTests {
    @Test("LabelSelector.matches", arguments: selectorUnitCases)
    func selector(_ c: SelectorCase) {
        #expect(c.selector.matches(c.labels) == c.matches, "\(c.rule)")
    }

    /// The control plane sets the immutable label kubernetes.io/metadata.name on every namespace.
    @Test func namespaceNameLabelIsAlwaysPresent() {
        var namespace = Namespace(name: "dev", labels: ["env": "dev"])
        #expect(namespace.labels == ["env": "dev", "kubernetes.io/metadata.name": "dev"])
        // A label change that drops it, or sets it to another value, cannot remove or change it.
        namespace.setLabels([:])
        #expect(namespace.labels == ["kubernetes.io/metadata.name": "dev"])
        namespace.setLabels(["kubernetes.io/metadata.name": "prod", "team": "a"])
        #expect(namespace.labels == ["kubernetes.io/metadata.name": "dev", "team": "a"])
        #expect(Namespace(name: "x", labels: ["kubernetes.io/metadata.name": "y"]).labels[Namespace.nameLabel] == "x")
    }

    /// ipBlock.cidr / except text, and whether an IPv4 address falls inside.
    @Test(
        "CIDR.contains(IPv4)",
        arguments: [
            ("10.0.0.0/8", "10.255.255.255", true),
            ("10.0.0.0/8", "11.0.0.0", false),
            ("0.0.0.0/0", "255.255.255.255", true),
            ("192.168.1.7/32", "192.168.1.7", true),
            ("192.168.1.7/32", "192.168.1.8", false),
            // Host bits set: the block named is 10.1.2.0/24 (as Kubernetes' ParseCIDR reads it).
            ("10.1.2.3/24", "10.1.2.200", true),
            ("::/0", "1.2.3.4", false),
            ("::ffff:0:0/96", "1.2.3.4", false),
        ])
    func cidrContains(_ cidr: String, _ address: String, _ inside: Bool) throws {
        let block = try #require(CIDR.parse(cidr))
        #expect(block.contains(try #require(IPv4(address))) == inside)
    }

    @Test(
        "CIDR.parse refuses malformed blocks",
        arguments: [
            "10.0.0.0", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0/8", "256.0.0.0/8", "::/129", "1:2:3/64", "10.0.0.0/8/8", "",
        ])
    func cidrRejects(_ text: String) {
        #expect(CIDR.parse(text) == nil)
    }

    @Test(
        "CIDR.contains(CIDR): except must lie inside cidr",
        arguments: [
            ("10.0.0.0/8", "10.1.0.0/16", true),
            ("10.0.0.0/8", "11.0.0.0/16", false),
            ("10.0.0.0/16", "10.0.0.0/8", false),
            ("2001:db8::/32", "2001:db8:1::/48", true),
            ("2001:db8::/32", "2001:db9::/48", false),
            ("10.0.0.0/8", "::/0", false),
        ])
    func cidrContainsBlock(_ outer: String, _ inner: String, _ inside: Bool) throws {
        #expect(try #require(CIDR.parse(outer)).contains(try #require(CIDR.parse(inner))) == inside)
    }
}
