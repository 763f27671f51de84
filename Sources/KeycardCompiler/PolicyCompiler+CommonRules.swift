import KeycardRuleset

// Rules every judging chain of the policy tables starts with, in one place so that the chains
// cannot drift apart.

extension Rule {
    /// `ct state established,related accept`: a reply belongs to a connection already allowed, and
    /// NetworkPolicy allows the reply traffic of an allowed connection implicitly
    /// (https://kubernetes.io/docs/concepts/services-networking/network-policies/).
    static let allowReplies = Rule([.ctState([.established, .related])], verdict: .accept, comment: "replies of allowed connections")

    /// `meta nfproto ipv6 drop`: the lab is IPv4-only (docs/kubernetes-fidelity.md, NP-38) and
    /// policies are compiled to IPv4 tuples, so a pod's IPv6 (the link-local addresses of its veth,
    /// which reach only its node's namespace, where host-network pods listen) is dropped, not
    /// counted: fail closed, since an isolated pod's policy cannot be judged on it. Without this
    /// rule an inet table sent IPv6 past every `ip saddr`/`ip daddr` gate to the drop of an
    /// isolated pod, counting it there as evidence of a policy drop, for pods no policy selects too.
    static let dropIPv6 = Rule([.ipv6], verdict: .drop, comment: "IPv6: the lab is IPv4-only, policies judge IPv4")

    /// Counts and drops packets to (`.daddr`) or from (`.saddr`) the address of a lab pod that
    /// does not exist now (the node table's `absent-pods` set).
    static func dropAbsentPods(_ field: ConcatField) -> Rule {
        let match: Match = field == .saddr ? .saddrInSet("absent-pods") : .daddrInSet("absent-pods")
        return Rule([match], counter: true, verdict: .drop, comment: "no such pod now")
    }
}

extension PolicyCompiler {
    /// A node-table base chain on `hook` that judges isolated pods' connections by one address
    /// (`field`): a pod absent now is dropped, replies pass, the rest goes through the verdict map
    /// `map` keyed by that address (`comment` says what it dispatches).
    func podDispatchChain(_ name: String, hook: BaseChain.Hook, by field: ConcatField, map: String, comment: String) -> Chain {
        Chain(
            name: name, base: BaseChain(hook: hook),
            rules: [Rule.dropAbsentPods(field), Rule.allowReplies, Rule(verdict: .vmap([field], map: map), comment: comment)])
    }
}
