/// How tables show a Service column whose backends disagree: some answer and others are blocked
/// (a policy lets the client reach one backend pod, or one target port, and not another). One
/// mark for the column would either hide the blocked backends or call a reachable Service blocked.
enum SplitService {
    static let mark: Character = "/"
    static let legend =
        "  (/: through the Service some backends are reached and others blocked; keycard probe --to svc/NS/NAME, or -o json, shows each)"
}
