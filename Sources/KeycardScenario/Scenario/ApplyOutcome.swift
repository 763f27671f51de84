/// What `kubectl apply` says it did to one object: `created`, `configured`, or `unchanged` when
/// the object it would store equals the one stored (kubectl prints "unchanged" for an empty patch).
public enum ApplyOutcome: String, Sendable {
    case created, configured, unchanged

    /// The outcome of replacing `before` (nil: none existed) with `after`.
    init<Object: Equatable>(_ before: Object?, _ after: Object?) {
        guard let before else {
            self = .created
            return
        }
        self = before == after ? .unchanged : .configured
    }
}
