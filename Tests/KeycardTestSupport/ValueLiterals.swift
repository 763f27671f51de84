import KeycardValues

// Tests write addresses and blocks as text; a typo in a test stops it at once.

extension IPv4: ExpressibleByStringLiteral {
    /// `"10.244.0.7"` in tests; traps on text that is not a dotted quad.
    public init(stringLiteral text: String) {
        guard let address = IPv4(text) else { preconditionFailure("not an IPv4 address: \(text)") }
        self = address
    }
}

extension CIDR: ExpressibleByStringLiteral {
    /// `"10.244.0.0/16"` in tests, read as `CIDR.parse` reads it; traps on anything else.
    public init(stringLiteral text: String) {
        guard let block = CIDR.parse(text) else { preconditionFailure("not a CIDR: \(text)") }
        self = block
    }
}

/// Test data that must parse: the value, or a stop naming what did not.
public func required<T>(_ value: T?, _ what: @autoclosure () -> String) -> T {
    guard let value else { preconditionFailure("test data does not parse: \(what())") }
    return value
}
