import KeycardCompiler
import KeycardModel
import KeycardRuleset
import KeycardTestSupport
import KeycardValues

// The table of policy cases the compiler snapshots and the controller's kernel tests share.
// (Tests/KeycardLabTests/ControllerPolicyCases.swift is a symlink to this file.)

/// A label selector from matchLabels and match expressions.
func labels(_ matchLabels: Labels = [:], _ expressions: LabelSelector.Requirement...) -> LabelSelector {
    LabelSelector(matchLabels: matchLabels, matchExpressions: expressions)
}

/// One `matchExpressions` entry.
func requirement(_ key: String, _ op: LabelSelector.Requirement.Operator, _ values: String...) -> LabelSelector.Requirement {
    LabelSelector.Requirement(key: key, operator: op, values: values)
}

/// A CIDR the test writes literally; a typo is a test bug, reported as an impossible block.
func cidr(_ text: String) -> CIDR { CIDR.parse(text) ?? CIDR.ipv4(IPv4(0), 32) }

/// An IPv4 address the test writes literally.
func ip(_ text: String) -> IPv4 { IPv4(text) ?? IPv4(0) }

extension NetworkPolicy.Peer {
    /// `podSelector` alone: pods of the policy's namespace.
    static func pods(_ selector: LabelSelector) -> Self { Self(podSelector: selector) }
    /// `namespaceSelector` alone: every pod of the selected namespaces.
    static func namespaces(_ selector: LabelSelector) -> Self { Self(namespaceSelector: selector) }
    /// Both selectors in one peer (AND).
    static func both(namespaces: LabelSelector, pods: LabelSelector) -> Self {
        Self(podSelector: pods, namespaceSelector: namespaces)
    }
    /// An ipBlock with its excepts.
    static func block(_ block: String, except: [String] = []) -> Self {
        Self(ipBlock: NetworkPolicy.IPBlock(cidr: cidr(block), except: except.map(cidr)))
    }
}

extension NetworkPolicy.Port {
    static func tcp(_ port: Int, to end: Int? = nil) -> Self { Self(proto: .tcp, port: .number(port), endPort: end) }
    static func udp(_ port: Int) -> Self { Self(proto: .udp, port: .number(port)) }
    static func sctp(_ port: Int) -> Self { Self(proto: .sctp, port: .number(port)) }
    static func named(_ name: String, _ proto: TransportProtocol = .tcp) -> Self { Self(proto: proto, port: .name(name)) }
}

/// One ingress or egress rule.
func allow(_ peers: [NetworkPolicy.Peer]? = nil, ports: [NetworkPolicy.Port]? = nil) -> NetworkPolicy.Rule {
    NetworkPolicy.Rule(peers: peers, ports: ports)
}

/// A policy in one line.
func policy(
    _ namespace: String, _ name: String, select: LabelSelector = .everything,
    types: [NetworkPolicy.PolicyType]? = nil, ingress: [NetworkPolicy.Rule]? = nil, egress: [NetworkPolicy.Rule]? = nil
) -> NetworkPolicy {
    NetworkPolicy(namespace: namespace, name: name, podSelector: select, policyTypes: types, ingress: ingress, egress: egress)
}

/// A small cluster on two nodes.
///
/// Namespaces: prod {env: prod}, dev {env: dev}, other {}.
/// Node 0: prod/web 10.244.0.10 {app: web, tier: front} http=TCP/80 dns=UDP/53 sig=SCTP/9,
///         prod/db 10.244.0.11 {app: db} pg=TCP/5432, dev/web 10.244.0.12 {app: web} http=TCP/81.
/// Node 1: prod/api 10.244.1.10 {app: api, tier: back} http=TCP/8080, dev/client 10.244.1.11
///         {app: client}, other/probe 10.244.1.12 {app: probe}.
struct CaseWorld {
    struct PodEntry {
        var pod: Pod
        var address: String
        var node: Int
    }

    var namespaces: [Namespace] = [
        Namespace(name: "prod", labels: ["env": "prod"]), Namespace(name: "dev", labels: ["env": "dev"]),
        Namespace(name: "other"),
    ]
    var pods: [PodEntry] = [
        PodEntry(
            pod: Pod(
                namespace: "prod", name: "web", labels: ["app": "web", "tier": "front"],
                ports: [
                    ContainerPort(name: "http", port: 80), ContainerPort(name: "dns", port: 53, proto: .udp),
                    ContainerPort(name: "sig", port: 9, proto: .sctp),
                ]), address: "10.244.0.10", node: 0),
        PodEntry(
            pod: Pod(namespace: "prod", name: "db", labels: ["app": "db"], ports: [ContainerPort(name: "pg", port: 5432)]),
            address: "10.244.0.11", node: 0),
        PodEntry(
            pod: Pod(namespace: "dev", name: "web", labels: ["app": "web"], ports: [ContainerPort(name: "http", port: 81)]),
            address: "10.244.0.12", node: 0),
        PodEntry(
            pod: Pod(
                namespace: "prod", name: "api", labels: ["app": "api", "tier": "back"],
                ports: [ContainerPort(name: "http", port: 8080)]), address: "10.244.1.10", node: 1),
        PodEntry(pod: Pod(namespace: "dev", name: "client", labels: ["app": "client"]), address: "10.244.1.11", node: 1),
        PodEntry(pod: Pod(namespace: "other", name: "probe", labels: ["app": "probe"]), address: "10.244.1.12", node: 1),
    ]
    let nodeCount = 2

    var nodes: [ObjectKey: Int] { Dictionary(uniqueKeysWithValues: pods.map { ($0.pod.key, $0.node) }) }

    func cluster(_ policies: [NetworkPolicy]) -> Cluster {
        var cluster = Cluster()
        for namespace in namespaces { cluster.namespaces[namespace.name] = namespace }
        for entry in pods {
            cluster.pods[entry.pod.key] = entry.pod
            cluster.addresses[entry.pod.key] = ip(entry.address)
        }
        for policy in policies { cluster.policies[policy.key] = policy }
        return cluster
    }

    /// Every table of `policies` compiled for `lab` in `placement`.
    func compile(_ policies: [NetworkPolicy], lab: String, _ placement: Placement) -> [RulesetTarget: Table] {
        PolicyCompiler(labName: lab, placement: placement).compile(cluster(policies), nodes: nodes, nodeCount: nodeCount)
    }
}

/// One row of the table: a name (the snapshot's stem) and the policies in force.
struct PolicyCase: Sendable, CustomStringConvertible {
    let name: String
    let policies: [NetworkPolicy]
    var description: String { name }

    static let all: [PolicyCase] = [
        PolicyCase(
            name: "default-deny-both",
            policies: [
                policy("prod", "deny-all", types: [.ingress, .egress])
            ]),
        PolicyCase(
            name: "ingress-pod-selector",
            policies: [
                policy(
                    "prod", "web-from-api", select: labels(["app": "web"]),
                    ingress: [allow([.pods(labels(["app": "api"]))], ports: [.tcp(80)])])
            ]),
        PolicyCase(
            name: "namespace-and-pod-selector",
            policies: [
                policy(
                    "prod", "db-from-dev-client", select: labels(["app": "db"]),
                    ingress: [allow([.both(namespaces: labels(["env": "dev"]), pods: labels(["app": "client"]))], ports: [.tcp(5432)])])
            ]),
        PolicyCase(
            name: "ipblock-except",
            policies: [
                policy(
                    "prod", "web-from-block", select: labels(["app": "web"]),
                    ingress: [allow([.block("10.244.0.0/16", except: ["10.244.1.0/24", "10.244.0.12/32"])], ports: [.tcp(80)])])
            ]),
        PolicyCase(
            name: "named-port-ingress",
            policies: [
                policy(
                    "prod", "http-from-anywhere", select: labels([:], requirement("tier", .in, "front", "back")),
                    ingress: [allow([.namespaces(labels())], ports: [.named("http")])])
            ]),
        PolicyCase(
            name: "named-port-egress",
            policies: [
                policy(
                    "dev", "client-to-http", select: labels(["app": "client"]), types: [.egress],
                    egress: [allow([.namespaces(labels(["env": "prod"]))], ports: [.named("http")])])
            ]),
        PolicyCase(
            name: "endport-range",
            policies: [
                policy(
                    "prod", "db-range", select: labels(["app": "db"]),
                    ingress: [allow([.pods(labels())], ports: [.tcp(5000, to: 5999)])])
            ]),
        PolicyCase(
            name: "no-ports",
            policies: [
                policy(
                    "prod", "api-from-dev", select: labels(["app": "api"]),
                    ingress: [allow([.namespaces(labels(["env": "dev"]))])])
            ]),
        PolicyCase(
            name: "no-peers",
            policies: [
                policy("prod", "web-http-anyone", select: labels(["app": "web"]), ingress: [allow(ports: [.tcp(80)])])
            ]),
        PolicyCase(
            name: "udp-and-sctp",
            policies: [
                policy(
                    "prod", "web-dns-sig", select: labels(["app": "web"]),
                    ingress: [allow([.pods(labels())], ports: [.udp(53), .tcp(53), .sctp(9)])])
            ]),
        PolicyCase(
            name: "egress-only",
            policies: [
                policy(
                    "prod", "api-egress", select: labels(["app": "api"]), types: [.egress],
                    egress: [
                        allow([.pods(labels(["app": "db"]))], ports: [.tcp(5432)]),
                        allow([.namespaces(labels())], ports: [.udp(53)]),
                    ])
            ]),
    ]
}
