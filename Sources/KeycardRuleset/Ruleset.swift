/// The address family of an nftables table (`table inet kc-x`).
public enum TableFamily: String, Hashable, Sendable, Codable, CaseIterable {
    case inet, ip, bridge, netdev
}

/// A whole nftables ruleset: the keycard tables of one namespace, as plain values.
public struct Ruleset: Hashable, Sendable, Codable {
    public var tables: [Table]

    public init(tables: [Table] = []) { self.tables = tables }
}

/// One nftables table with its named sets and chains. Keycard only ever owns tables named `kc-...`.
public struct Table: Hashable, Sendable, Codable {
    public var name: String
    public var family: TableFamily
    public var sets: [NamedSet]
    public var chains: [Chain]

    public init(name: String, family: TableFamily = .inet, sets: [NamedSet] = [], chains: [Chain] = []) {
        self.name = name
        self.family = family
        self.sets = sets
        self.chains = chains
    }

    /// The set called `name`, if the table declares it.
    public func set(named name: String) -> NamedSet? { sets.first { $0.name == name } }

    /// The chain called `name`, if the table declares it.
    public func chain(named name: String) -> Chain? { chains.first { $0.name == name } }
}

/// A chain: a base chain when `base` is set (attached to a hook), else a regular chain for jumps.
public struct Chain: Hashable, Sendable, Codable {
    public var name: String
    public var base: BaseChain?
    public var rules: [Rule]

    public init(name: String, base: BaseChain? = nil, rules: [Rule] = []) {
        self.name = name
        self.base = base
        self.rules = rules
    }
}

/// The hook attachment of a base chain (`type filter hook input priority 0; policy drop;`).
public struct BaseChain: Hashable, Sendable, Codable {
    /// `type filter` or `type nat`.
    public enum ChainType: String, Hashable, Sendable, Codable { case filter, nat }
    /// The netfilter hook the chain is attached to.
    public enum Hook: String, Hashable, Sendable, Codable, CaseIterable {
        case prerouting, input, forward, output, postrouting
    }
    /// What happens to a packet that falls off the end of the chain.
    public enum Policy: String, Hashable, Sendable, Codable { case accept, drop }

    public var type: ChainType
    public var hook: Hook
    public var priority: Int32
    public var policy: Policy

    public init(type: ChainType = .filter, hook: Hook, priority: Int32 = 0, policy: Policy = .accept) {
        self.type = type
        self.hook = hook
        self.priority = priority
        self.policy = policy
    }
}
