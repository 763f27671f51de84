import KeycardValues

/// Why a `LabSpec` cannot be planned; the description says which object and what to change.
public enum TopologyError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidLabName(String)
    case invalidName(kind: String, name: String)
    case invalidNodeCount(Int)
    case invalidCIDR(String)
    case reservedRangeOverlap(cidr: String, reserved: String)
    case tooManyNodesForCIDR(cidr: String, nodes: Int)
    case invalidAddress(owner: String, text: String)
    case pinnedOutsidePodCIDR(pod: String, ip: String, cidr: String)
    case duplicateAddress(ip: String, first: String, second: String)
    case duplicatePod(String)
    case duplicateExternal(String)
    case unknownNode(pod: String, nodeName: String, nodes: Int)
    case sliceExhausted(node: String, slice: String, pod: String)
    case externalInPodCIDR(external: String, ip: String, cidr: String)
    case externalInReservedRange(external: String, ip: String, reserved: String)
    case tooManyExternals(Int)

    public var description: String {
        switch self {
        case .invalidLabName(let name):
            return "lab name \"\(name)\" is invalid: use 1 to 24 characters from [a-z0-9-]"
        case .invalidName(let kind, let name):
            return "\(kind) name \"\(name)\" is invalid: use lowercase letters, digits, '-' and '.'"
        case .invalidNodeCount(let count):
            return "nodes must be between 1 and \(TopologyPlanner.maxNodes), got \(count)"
        case .invalidCIDR(let text):
            return "pod CIDR \"\(text)\" is not an IPv4 prefix with zero host bits (like 10.244.0.0/16)"
        case .reservedRangeOverlap(let cidr, let reserved):
            return "pod CIDR \(cidr) overlaps \(reserved), which the lab reserves for its own links"
        case .tooManyNodesForCIDR(let cidr, let nodes):
            return "pod CIDR \(cidr) is too small to be split into one slice per node for \(nodes) nodes"
        case .invalidAddress(let owner, let text):
            return "\(owner): \"\(text)\" is not an IPv4 address"
        case .pinnedOutsidePodCIDR(let pod, let ip, let cidr):
            return "pod \(pod): pinned IP \(ip) is outside the pod CIDR \(cidr)"
        case .duplicateAddress(let ip, let first, let second):
            return "address \(ip) is given to both \(first) and \(second)"
        case .duplicatePod(let pod):
            return "pod \(pod) is listed twice"
        case .duplicateExternal(let name):
            return "external \(name) is listed twice"
        case .unknownNode(let pod, let nodeName, let nodes):
            return "pod \(pod): node \"\(nodeName)\" does not exist (the lab has node-0 ... node-\(nodes - 1))"
        case .sliceExhausted(let node, let slice, let pod):
            return "pod \(pod): no free address left in \(node)'s slice \(slice); use more nodes or a larger pod CIDR"
        case .externalInPodCIDR(let external, let ip, let cidr):
            return "external \(external): IP \(ip) lies inside the pod CIDR \(cidr)"
        case .externalInReservedRange(let external, let ip, let reserved):
            return "external \(external): IP \(ip) lies inside \(reserved), which the lab reserves for its own links"
        case .tooManyExternals(let count):
            return "\(count) externals do not fit: nodes and externals together get at most \(TopologyPlanner.maxLinks) router links"
        }
    }
}
