import KeycardModel

/// The namespace a compiled table is programmed into.
public enum RulesetTarget: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// A pod's own namespace (pod placement).
    case pod(ObjectKey)
    /// Node i's namespace (node placement).
    case node(Int)

    public var description: String {
        switch self {
        case .pod(let key): "pod \(key)"
        case .node(let index): "node node-\(index)"
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.pod(let a), .pod(let b)): a < b
        case (.node(let a), .node(let b)): a < b
        case (.node, .pod): true
        case (.pod, .node): false
        }
    }
}

/// Where rules live.
public enum Placement: String, Sendable, CaseIterable {
    /// Rules inside each pod's namespace: ingress on the input hook, egress on the output hook.
    case pod
    /// Rules only in node namespaces, on the forward hook: egress judged at the source's node,
    /// ingress at the destination's node.
    case node
}
