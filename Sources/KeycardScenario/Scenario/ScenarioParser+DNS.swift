import KeycardModel
import KeycardValues

extension ScenarioParser {
    /// `dns: {from: ns/pod, name: NAME}` with `expect:` a list of IPv4 addresses, `nxdomain`,
    /// `blocked` or `model` (the default).
    func dns(_ value: YAMLValue, expect: YAMLValue?) throws(ScenarioError) -> DNSStep {
        let fields = try value.fields("dns", allowed: ["from", "name"])
        let fromValue = try fields.required("from")
        let fromText = try fromValue.string("dns.from")
        guard let from = ObjectKey.parse(fromText) else {
            throw fromValue.error("dns.from \"\(fromText)\" must be a pod as namespace/name")
        }
        let nameValue = try fields.required("name")
        let name = try nameValue.string("dns.name")
        if let problem = Self.dnsNameProblem(name) { throw nameValue.error("dns.name \"\(name)\" \(problem)") }
        var step = DNSStep(from: from, name: name, expect: nil)
        guard let expect, !expect.isNull else { return step }
        if case .scalar = expect.node {
            let text = try expect.string("expect")
            switch text {
            case "model": break
            case "blocked": step.expect = .blocked
            case "nxdomain": step.expect = .notFound
            default: throw expect.error("a dns step's expect must be a list of IPv4 addresses, nxdomain, blocked or model; found \(text)")
            }
            return step
        }
        var addresses: [IPv4] = []
        for item in try expect.items("expect") {
            let text = try item.string("an expected address")
            guard let ip = IPv4(text) else { throw item.error("expected address \"\(text)\" is not an IPv4 address") }
            if addresses.contains(ip) { throw item.error("\(ip) is listed twice") }
            addresses.append(ip)
        }
        if addresses.isEmpty { throw expect.error("an empty list expects nothing; write nxdomain for a name that does not exist") }
        step.expect = .addresses(addresses.sorted())
        return step
    }

    /// A DNS name a resolver accepts: dot-separated labels of 1–63 letters, digits, '-' or '_',
    /// at most 253 characters, an optional final dot (RFC 1035 §2.3.4).
    static func dnsNameProblem(_ name: String) -> String? {
        var text = Substring(name)
        if text.hasSuffix(".") { text = text.dropLast() }
        if text.isEmpty { return "must not be empty" }
        if text.utf8.count > 253 { return "is longer than 253 characters" }
        for label in text.split(separator: ".", omittingEmptySubsequences: false) {
            if label.isEmpty { return "has an empty label" }
            if label.utf8.count > 63 { return "has a label longer than 63 characters" }
            let allowed = label.utf8.allSatisfy {
                ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95
            }
            if !allowed { return "may hold only letters, digits, '-', '_' and dots" }
        }
        return nil
    }
}
