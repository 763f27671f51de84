import KeycardModel
import KeycardTestSupport
import KeycardValues

// Small builders for policy-model tests: a fixed little cluster and one-line policies, peers and ports.

/// A label selector from matchLabels and match expressions.
func sel(_ labels: Labels = [:], _ expressions: LabelSelector.Requirement...) -> LabelSelector {
    LabelSelector(matchLabels: labels, matchExpressions: expressions)
}

func req(_ key: String, _ op: LabelSelector.Requirement.Operator, _ values: String...) -> LabelSelector.Requirement {
    LabelSelector.Requirement(key: key, operator: op, values: values)
}

typealias Peer = NetworkPolicy.Peer
typealias PolicyPort = NetworkPolicy.Port
typealias Rule = NetworkPolicy.Rule

extension NetworkPolicy.Peer {
    /// `- podSelector: ...` alone: pods of the policy's own namespace.
    static func pods(_ selector: LabelSelector) -> Peer { Peer(podSelector: selector) }
    /// `- namespaceSelector: ...` alone: every pod of the selected namespaces.
    static func namespaces(_ selector: LabelSelector) -> Peer { Peer(namespaceSelector: selector) }
    /// One peer with both selectors (AND).
    static func both(namespaces: LabelSelector, pods: LabelSelector) -> Peer {
        Peer(podSelector: pods, namespaceSelector: namespaces)
    }
    static func block(_ cidr: String, except: [String] = []) -> Peer {
        Peer(ipBlock: NetworkPolicy.IPBlock(cidr: required(CIDR.parse(cidr), cidr), except: except.map { required(CIDR.parse($0), $0) }))
    }
}

extension NetworkPolicy.Port {
    static func tcp(_ port: Int, to end: Int? = nil) -> PolicyPort { PolicyPort(proto: .tcp, port: .number(port), endPort: end) }
    static func udp(_ port: Int) -> PolicyPort { PolicyPort(proto: .udp, port: .number(port)) }
    static func sctp(_ port: Int) -> PolicyPort { PolicyPort(proto: .sctp, port: .number(port)) }
    /// `{port: 53}` with no protocol: the API default is TCP.
    static func defaultProtocol(_ port: Int) -> PolicyPort { PolicyPort(port: .number(port)) }
    static func named(_ name: String, _ proto: TransportProtocol = .tcp) -> PolicyPort { PolicyPort(proto: proto, port: .name(name)) }
    /// `{protocol: X}` with no port: every port of that protocol.
    static func all(_ proto: TransportProtocol) -> PolicyPort { PolicyPort(proto: proto) }
}

func rule(_ peers: [Peer]? = nil, ports: [PolicyPort]? = nil) -> Rule { Rule(peers: peers, ports: ports) }

func policy(
    _ namespace: String = "prod", _ name: String, select: LabelSelector = .everything,
    types: [NetworkPolicy.PolicyType]? = nil, ingress: [Rule]? = nil, egress: [Rule]? = nil
) -> NetworkPolicy {
    NetworkPolicy(namespace: namespace, name: name, podSelector: select, policyTypes: types, ingress: ingress, egress: egress)
}

/// `ns/name` as a pod endpoint.
func at(_ text: String) -> Endpoint { .pod(required(ObjectKey.parse(text), text)) }
func ext(_ name: String) -> Endpoint { .external(name) }

func tcp(_ port: Int) -> ProtocolPort { ProtocolPort(.tcp, port) }
func udp(_ port: Int) -> ProtocolPort { ProtocolPort(.udp, port) }
func sctp(_ port: Int) -> ProtocolPort { ProtocolPort(.sctp, port) }

/// The little cluster every engine case runs in.
///
/// Namespaces: prod {env: prod}, dev {env: dev}, other {} (only the name label).
/// Pods: prod/web {app: web, tier: front} serves http=TCP/80, https=TCP/443, dns=UDP/53, sig=SCTP/9;
/// prod/api {app: api, tier: back} serves http=TCP/8080 (same port name, other number);
/// prod/db {app: db} serves pg=TCP/5432; prod/bare has no labels and no ports;
/// dev/client {app: client}; dev/web {app: web}; other/probe {app: web, role: probe}.
/// Externals: public 203.0.113.10 (TCP/443), corp 192.168.5.5 (TCP/22).
enum World {
    static let addresses: [String: String] = [
        "prod/web": "10.244.0.10", "prod/api": "10.244.0.11", "prod/db": "10.244.0.12", "prod/bare": "10.244.0.13",
        "dev/client": "10.244.1.10", "dev/web": "10.244.1.11", "other/probe": "10.244.2.10",
    ]

    static func cluster(_ policies: [NetworkPolicy] = []) -> Cluster {
        var cluster = Cluster()
        for namespace in [
            Namespace(name: "prod", labels: ["env": "prod"]), Namespace(name: "dev", labels: ["env": "dev"]),
            Namespace(name: "other"),
        ] { cluster.namespaces[namespace.name] = namespace }
        let pods = [
            Pod(
                namespace: "prod", name: "web", labels: ["app": "web", "tier": "front"],
                ports: [
                    ContainerPort(name: "http", port: 80), ContainerPort(name: "https", port: 443),
                    ContainerPort(name: "dns", port: 53, proto: .udp), ContainerPort(name: "sig", port: 9, proto: .sctp),
                ]),
            Pod(namespace: "prod", name: "api", labels: ["app": "api", "tier": "back"], ports: [ContainerPort(name: "http", port: 8080)]),
            Pod(namespace: "prod", name: "db", labels: ["app": "db"], ports: [ContainerPort(name: "pg", port: 5432)]),
            Pod(namespace: "prod", name: "bare"),
            Pod(namespace: "dev", name: "client", labels: ["app": "client"]),
            Pod(namespace: "dev", name: "web", labels: ["app": "web"]),
            Pod(namespace: "other", name: "probe", labels: ["app": "web", "role": "probe"]),
        ]
        for pod in pods {
            cluster.pods[pod.key] = pod
            cluster.addresses[pod.key] = IPv4(required(addresses[pod.key.description], "address of \(pod.key)"))
        }
        cluster.externals["public"] = External(name: "public", ip: required(IPv4("203.0.113.10"), "203.0.113.10"), ports: [tcp(443)])
        cluster.externals["corp"] = External(name: "corp", ip: required(IPv4("192.168.5.5"), "192.168.5.5"), ports: [tcp(22)])
        for policy in policies { cluster.policies[policy.key] = policy }
        return cluster
    }

    static func verdict(_ policies: [NetworkPolicy], _ from: Endpoint, _ to: Endpoint, _ port: ProtocolPort) -> Verdict {
        PolicyEngine(cluster(policies)).evaluate(from: from, to: to, port: port)
    }
}
