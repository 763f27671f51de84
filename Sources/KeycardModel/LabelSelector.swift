/// Labels of a namespace or pod.
public typealias Labels = [String: String]

/// A Kubernetes label selector: matchLabels AND every matchExpression. Empty selects everything.
public struct LabelSelector: Hashable, Sendable {
    public var matchLabels: Labels
    public var matchExpressions: [Requirement]

    public init(matchLabels: Labels = [:], matchExpressions: [Requirement] = []) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }

    /// The selector `{}`, which selects every object in its scope.
    public static let everything = LabelSelector()

    public var isEmpty: Bool { matchLabels.isEmpty && matchExpressions.isEmpty }

    /// Whether `labels` satisfy every matchLabels pair and every matchExpressions requirement (ANDed);
    /// the empty selector matches everything (apimachinery `LabelSelectorAsSelector`).
    public func matches(_ labels: Labels) -> Bool {
        matchLabels.allSatisfy { labels[$0.key] == $0.value }
            && matchExpressions.allSatisfy { $0.matches(labels) }
    }

    /// One matchExpressions entry.
    public struct Requirement: Hashable, Sendable {
        public enum Operator: String, Sendable, CaseIterable {
            case `in` = "In"
            case notIn = "NotIn"
            case exists = "Exists"
            case doesNotExist = "DoesNotExist"
        }

        public var key: String
        public var `operator`: Operator
        public var values: [String]

        public init(key: String, operator: Operator, values: [String] = []) {
            self.key = key
            self.operator = `operator`
            self.values = values
        }

        /// `NotIn` matches objects without the key too, as in Kubernetes.
        public func matches(_ labels: Labels) -> Bool {
            switch self.operator {
            case .in: labels[key].map(values.contains) ?? false
            case .notIn: labels[key].map { !values.contains($0) } ?? true
            case .exists: labels[key] != nil
            case .doesNotExist: labels[key] == nil
            }
        }
    }
}

extension LabelSelector: CustomStringConvertible {
    /// kubectl's selector syntax: `app=web,tier in (a,b),!debug`; `{}` for the empty selector.
    public var description: String {
        if isEmpty { return "{}" }
        var parts = matchLabels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        for requirement in matchExpressions {
            let values = requirement.values.sorted().joined(separator: ",")
            switch requirement.operator {
            case .in: parts.append("\(requirement.key) in (\(values))")
            case .notIn: parts.append("\(requirement.key) notin (\(values))")
            case .exists: parts.append(requirement.key)
            case .doesNotExist: parts.append("!\(requirement.key)")
            }
        }
        return parts.joined(separator: ",")
    }
}
