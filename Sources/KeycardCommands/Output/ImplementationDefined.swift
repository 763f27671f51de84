import KeycardModel

/// How tables show an implementation-defined cell (`Verdict.implementationDefined`): `~` where
/// it is allowed, `x` where it is denied (instead of `.` and `X`), with this legend under the table.
enum ImplementationDefined {
    static func mark(_ decision: Decision) -> Character { decision == .allow ? "~" : "x" }

    static let legend =
        "  (~ allowed, x denied: ICMP through a policy; the NetworkPolicy API defines only TCP, UDP and SCTP, and keycard follows the common behaviour: only a rule without ports admits ICMP)"
}
