import KeycardValues

extension YAMLValue {
    /// A string scalar naming one case of `Choice` by its raw value, case-sensitive as the API's
    /// enumerations are. Anything else is refused as `<what> must be <expected>, found <text>`.
    func choice<Choice: RawRepresentable>(_ what: String, expected: String) throws(ScenarioError) -> Choice
    where Choice.RawValue == String {
        try choice(what) { "\(what) must be \(expected), found \($0)" }
    }

    /// A string scalar naming one case of `Choice` by its raw value; anything else is refused with
    /// `refusal(text)`, for fields whose message follows the API server's wording.
    func choice<Choice: RawRepresentable>(_ what: String, refusal: (String) -> String) throws(ScenarioError) -> Choice
    where Choice.RawValue == String {
        let text = try string(what)
        guard let choice = Choice(rawValue: text) else { throw error(refusal(text)) }
        return choice
    }

    /// A lab address range: an IPv4 CIDR whose prefix length is in `prefixes`, without host bits
    /// set (`10.96.0.1/16` is refused with the network it probably means). `example` shows the form.
    func ipv4Network(_ what: String, prefixes: ClosedRange<Int>, example: String) throws(ScenarioError) -> CIDR {
        let text = try string(what)
        guard let cidr = CIDR.parse(text), cidr.family == .ipv4, prefixes.contains(cidr.prefixLength) else {
            throw error("\(what) \"\(text)\" is not an IPv4 CIDR from /\(prefixes.lowerBound) to /\(prefixes.upperBound) like \(example)")
        }
        guard !cidr.hasHostBits else {
            throw error("\(what) \"\(text)\" has host bits set; did you mean \(IPv4(cidr.network))/\(cidr.prefixLength)?")
        }
        return cidr
    }
}
