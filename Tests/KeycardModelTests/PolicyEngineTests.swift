import KeycardModel
import KeycardValues
import Testing

/// One connection in `World` under some policies, and the decision the Kubernetes NetworkPolicy
/// documentation gives for it. `rule` names the documented rule the case checks.
struct EngineCase: Sendable, CustomTestStringConvertible {
    var rule: String
    var policies: [NetworkPolicy]
    var from: Endpoint
    var to: Endpoint
    var port: ProtocolPort
    var expected: Decision
    /// Set when keycard is known to disagree with the documentation here (reported, not hidden).
    var knownIssue: String? = nil

    var testDescription: String { "\(rule): \(from) -> \(to) \(port) = \(expected.rawValue)" }
}

private func allow(_ rule: String, _ policies: [NetworkPolicy], _ from: Endpoint, _ to: Endpoint, _ port: ProtocolPort) -> EngineCase {
    EngineCase(rule: rule, policies: policies, from: from, to: to, port: port, expected: .allow)
}

private func deny(_ rule: String, _ policies: [NetworkPolicy], _ from: Endpoint, _ to: Endpoint, _ port: ProtocolPort) -> EngineCase {
    EngineCase(rule: rule, policies: policies, from: from, to: to, port: port, expected: .deny)
}

// Policies reused across cases.
private let denyAllIngress = policy("prod", "deny-ingress", types: [.ingress])
private let denyAllEgress = policy("prod", "deny-egress", types: [.egress])
private let denyAllBoth = policy("prod", "deny-all", types: [.ingress, .egress])
/// Ingress to prod/web from exactly `peers`.
private func webFrom(_ peers: [Peer]) -> NetworkPolicy {
    policy("prod", "web-from", select: sel(["app": "web"]), ingress: [rule(peers)])
}
/// Ingress to every prod pod on exactly `ports`, from anyone.
private func prodPorts(_ ports: [PolicyPort]) -> NetworkPolicy {
    policy("prod", "prod-ports", ingress: [rule(nil, ports: ports)])
}
/// Egress of prod/web to exactly `peers` / `ports`.
private func webTo(_ peers: [Peer]?, ports: [PolicyPort]? = nil) -> NetworkPolicy {
    policy("prod", "web-to", select: sel(["app": "web"]), types: [.egress], egress: [rule(peers, ports: ports)])
}

let isolationCases: [EngineCase] = [
    // Pods are non-isolated (everything allowed) until some policy selects them.
    allow("no policy selects the pod: not isolated", [], at("dev/client"), at("prod/web"), tcp(80)),
    // A policy only selects pods in its own namespace.
    allow(
        "a policy isolates pods of its own namespace only", [policy("dev", "deny", types: [.ingress])],
        at("prod/api"), at("prod/web"), tcp(80)),
    // spec.podSelector picks the isolated pods: db is selected, web is not.
    allow(
        "podSelector app=db leaves web non-isolated", [policy("prod", "db", select: sel(["app": "db"]), types: [.ingress])],
        at("prod/api"), at("prod/web"), tcp(80)),
    deny(
        "podSelector app=db isolates db", [policy("prod", "db", select: sel(["app": "db"]), types: [.ingress])],
        at("prod/api"), at("prod/db"), tcp(5432)),
    // podSelector {} selects every pod of the namespace; [Ingress] with no rules denies all ingress.
    deny(
        "empty podSelector + policyTypes [Ingress] + no rules: default deny ingress", [denyAllIngress],
        at("dev/client"), at("prod/web"), tcp(80)),
    // `ingress: [{}]`: one rule with no from and no ports matches every peer on every port.
    allow(
        "ingress: [{}] allows all", [policy("prod", "allow-all", ingress: [rule()])],
        at("other/probe"), at("prod/web"), sctp(9)),
    // policyTypes omitted: Ingress is always inferred, so a rule-less policy isolates ingress.
    deny(
        "no policyTypes, no rules: Ingress inferred, all ingress denied", [policy("prod", "bare")],
        at("prod/api"), at("prod/web"), tcp(80)),
    // Policies are additive: the union of what each allows.
    allow(
        "policies are additive",
        [
            policy("prod", "from-api", select: sel(["app": "web"]), ingress: [rule([.pods(sel(["app": "api"]))])]),
            policy("prod", "from-db", select: sel(["app": "web"]), ingress: [rule([.pods(sel(["app": "db"]))])]),
        ], at("prod/db"), at("prod/web"), tcp(80)),
    // Both ends must allow: the source's egress AND the destination's ingress.
    deny(
        "destination ingress allows but source egress is isolated",
        [
            policy("dev", "deny-egress", types: [.egress]),
            policy("prod", "allow-all", ingress: [rule()]),
        ], at("dev/client"), at("prod/web"), tcp(80)),
    deny(
        "source egress allows but destination ingress denies",
        [
            policy("dev", "egress-to-prod", types: [.egress], egress: [rule([.namespaces(sel(["env": "prod"]))])]),
            denyAllIngress,
        ], at("dev/client"), at("prod/web"), tcp(80)),
    allow(
        "source egress and destination ingress both allow",
        [
            policy("dev", "egress-to-prod", types: [.egress], egress: [rule([.namespaces(sel(["env": "prod"]))])]),
            policy("prod", "from-dev", ingress: [rule([.namespaces(sel(["env": "dev"]))])]),
        ], at("dev/client"), at("prod/web"), tcp(80)),
    // A pod's traffic to itself is always allowed.
    allow("a pod reaching itself is always allowed", [denyAllBoth], at("prod/web"), at("prod/web"), tcp(80)),
    // Externals are not pods: no policy applies on their side.
    allow(
        "ingress isolation of the source does not stop its egress to an external", [denyAllIngress],
        at("prod/web"), ext("public"), tcp(443)),
    deny("egress isolation applies to traffic to externals", [denyAllEgress], at("prod/web"), ext("public"), tcp(443)),
]

let selectorCases: [EngineCase] = [
    // A podSelector-only peer selects pods in the policy's own namespace.
    allow(
        "podSelector alone: matching pod of the same namespace", [webFrom([.pods(sel(["app": "api"]))])],
        at("prod/api"), at("prod/web"), tcp(80)),
    deny(
        "podSelector alone: never pods of another namespace", [webFrom([.pods(sel(["app": "client"]))])],
        at("dev/client"), at("prod/web"), tcp(80)),
    deny(
        "podSelector alone: same labels in another namespace do not match", [webFrom([.pods(sel(["app": "web"]))])],
        at("dev/web"), at("prod/web"), tcp(80)),
    // namespaceSelector {} selects all namespaces (all pods in them).
    allow(
        "namespaceSelector {} alone: every pod of every namespace", [webFrom([.namespaces(.everything)])],
        at("dev/client"), at("prod/web"), tcp(80)),
    deny(
        "namespaceSelector {} does not select externals (not pods)", [webFrom([.namespaces(.everything)])],
        ext("public"), at("prod/web"), tcp(80)),
    // Both selectors in one peer: pods matching podSelector IN namespaces matching namespaceSelector.
    allow(
        "one peer with both selectors = AND: both match", [webFrom([.both(namespaces: sel(["env": "dev"]), pods: sel(["app": "client"]))])],
        at("dev/client"), at("prod/web"), tcp(80)),
    deny(
        "AND: namespace matches, pod does not", [webFrom([.both(namespaces: sel(["env": "dev"]), pods: sel(["app": "client"]))])],
        at("dev/web"), at("prod/web"), tcp(80)),
    deny(
        "AND: pod matches, namespace does not", [webFrom([.both(namespaces: sel(["env": "dev"]), pods: sel(["app": "web"]))])],
        at("other/probe"), at("prod/web"), tcp(80)),
    // Separate peers in `from` are ORed.
    allow(
        "separate peers = OR: first peer matches", [webFrom([.namespaces(sel(["env": "dev"])), .pods(sel(["app": "api"]))])],
        at("dev/web"), at("prod/web"), tcp(80)),
    allow(
        "separate peers = OR: second peer matches", [webFrom([.namespaces(sel(["env": "dev"])), .pods(sel(["app": "api"]))])],
        at("prod/api"), at("prod/web"), tcp(80)),
    deny(
        "separate peers = OR: neither matches", [webFrom([.namespaces(sel(["env": "dev"])), .pods(sel(["app": "api"]))])],
        at("other/probe"), at("prod/web"), tcp(80)),
    // The control plane labels every namespace kubernetes.io/metadata.name=<name>.
    allow(
        "namespaces carry kubernetes.io/metadata.name", [webFrom([.namespaces(sel(["kubernetes.io/metadata.name": "other"]))])],
        at("other/probe"), at("prod/web"), tcp(80)),
    // NotIn: the key is absent, or its value is not in the set.
    allow(
        "NotIn matches a namespace without the key", [webFrom([.namespaces(sel([:], req("env", .notIn, "prod")))])],
        at("other/probe"), at("prod/web"), tcp(80)),
    deny(
        "NotIn excludes a listed value", [webFrom([.namespaces(sel([:], req("env", .notIn, "prod")))])],
        at("prod/api"), at("prod/web"), tcp(80)),
    allow(
        "NotIn matches an unlisted value", [webFrom([.namespaces(sel([:], req("env", .notIn, "prod")))])],
        at("dev/client"), at("prod/web"), tcp(80)),
    // Exists / DoesNotExist look at the key only.
    deny(
        "Exists needs the key", [webFrom([.namespaces(sel([:], req("env", .exists)))])],
        at("other/probe"), at("prod/web"), tcp(80)),
    allow(
        "Exists matches any value", [webFrom([.namespaces(sel([:], req("env", .exists)))])],
        at("dev/client"), at("prod/web"), tcp(80)),
    allow(
        "DoesNotExist matches a pod without the key", [webFrom([.pods(sel([:], req("app", .doesNotExist)))])],
        at("prod/bare"), at("prod/web"), tcp(80)),
    deny(
        "DoesNotExist excludes a pod with the key", [webFrom([.pods(sel([:], req("app", .doesNotExist)))])],
        at("prod/api"), at("prod/web"), tcp(80)),
    // In: the key is present with one of the values.
    allow(
        "In matches one of the values", [webFrom([.pods(sel([:], req("tier", .in, "front", "back")))])],
        at("prod/api"), at("prod/web"), tcp(80)),
    deny(
        "In needs the key", [webFrom([.pods(sel([:], req("tier", .in, "front", "back")))])],
        at("prod/bare"), at("prod/web"), tcp(80)),
    // matchLabels and matchExpressions are ANDed.
    deny(
        "matchLabels AND matchExpressions", [webFrom([.pods(sel(["app": "api"], req("tier", .notIn, "back")))])],
        at("prod/api"), at("prod/web"), tcp(80)),
    // Empty from / ports lists mean "everything", like absent ones.
    allow(
        "from: [] = every source", [policy("prod", "empty-from", ingress: [Rule(peers: [], ports: nil)])],
        at("other/probe"), at("prod/web"), tcp(80)),
]

let ipBlockCases: [EngineCase] = [
    // ipBlock selects addresses; nothing restricts it to non-pod addresses.
    allow("ipBlock matches a pod's address", [webFrom([.block("10.244.1.0/24")])], at("dev/client"), at("prod/web"), tcp(80)),
    deny(
        "ipBlock except carves the address out", [webFrom([.block("10.244.1.0/24", except: ["10.244.1.10/32"])])],
        at("dev/client"), at("prod/web"), tcp(80)),
    allow(
        "ipBlock except leaves the rest of the block", [webFrom([.block("10.244.1.0/24", except: ["10.244.1.10/32"])])],
        at("dev/web"), at("prod/web"), tcp(80)),
    deny("an IPv6 block matches no IPv4 address", [webFrom([.block("::/0")])], at("dev/client"), at("prod/web"), tcp(80)),
    allow("ingress ipBlock matches an external source", [webFrom([.block("203.0.113.0/24")])], ext("public"), at("prod/web"), tcp(80)),
    allow(
        "egress ipBlock allows an external", [webTo([.block("0.0.0.0/0", except: ["10.0.0.0/8"])])],
        at("prod/web"), ext("public"), tcp(443)),
    deny(
        "egress ipBlock except excludes pod addresses", [webTo([.block("0.0.0.0/0", except: ["10.0.0.0/8"])])],
        at("prod/web"), at("dev/client"), tcp(80)),
    deny(
        "egress ipBlock except excludes an external", [webTo([.block("192.168.0.0/16", except: ["192.168.5.0/24"])])],
        at("prod/web"), ext("corp"), tcp(22)),
    deny(
        "egress pod/namespace selectors never match externals", [webTo([.namespaces(.everything)])],
        at("prod/web"), ext("public"), tcp(443)),
]

let portCases: [EngineCase] = [
    allow("numeric port matches", [prodPorts([.tcp(80)])], at("prod/api"), at("prod/web"), tcp(80)),
    deny("numeric port: another port is denied", [prodPorts([.tcp(80)])], at("prod/api"), at("prod/web"), tcp(443)),
    // protocol defaults to TCP.
    deny(
        "protocol defaults to TCP: UDP/53 not matched by {port: 53}", [prodPorts([.defaultProtocol(53)])],
        at("prod/api"), at("prod/web"), udp(53)),
    allow(
        "protocol defaults to TCP: TCP/53 matched by {port: 53}", [prodPorts([.defaultProtocol(53)])],
        at("prod/api"), at("prod/web"), tcp(53)),
    allow("UDP port", [prodPorts([.udp(53)])], at("prod/api"), at("prod/web"), udp(53)),
    deny("UDP and SCTP are distinct", [prodPorts([.udp(9)])], at("prod/api"), at("prod/web"), sctp(9)),
    deny("TCP and SCTP are distinct", [prodPorts([.tcp(9)])], at("prod/api"), at("prod/web"), sctp(9)),
    // endPort: the range port..endPort, inclusive at both ends.
    allow("endPort range includes its upper end", [prodPorts([.tcp(8000, to: 8080)])], at("prod/web"), at("prod/api"), tcp(8080)),
    allow("endPort range includes its lower end", [prodPorts([.tcp(8000, to: 8080)])], at("prod/web"), at("prod/api"), tcp(8000)),
    deny("endPort range ends at endPort", [prodPorts([.tcp(8000, to: 8080)])], at("prod/web"), at("prod/api"), tcp(8081)),
    deny("endPort range starts at port", [prodPorts([.tcp(8000, to: 8080)])], at("prod/web"), at("prod/api"), tcp(7999)),
    // A named port is resolved against the destination pod's container ports.
    allow("named port http on web = TCP/80", [prodPorts([.named("http")])], at("dev/client"), at("prod/web"), tcp(80)),
    allow("named port http on api = TCP/8080", [prodPorts([.named("http")])], at("dev/client"), at("prod/api"), tcp(8080)),
    deny("named port http on web is not 8080", [prodPorts([.named("http")])], at("dev/client"), at("prod/web"), tcp(8080)),
    deny(
        "a port name the destination does not declare matches nothing", [prodPorts([.named("metrics")])],
        at("dev/client"), at("prod/web"), tcp(80)),
    deny("named port: protocol must match too", [prodPorts([.named("http", .udp)])], at("dev/client"), at("prod/web"), tcp(80)),
    allow("named UDP port", [prodPorts([.named("dns", .udp)])], at("dev/client"), at("prod/web"), udp(53)),
    allow(
        "named port in egress resolves on the destination (api's http = 8080)", [webTo(nil, ports: [.named("http")])],
        at("prod/web"), at("prod/api"), tcp(8080)),
    deny(
        "named port in egress is not the source's own port number", [webTo(nil, ports: [.named("http")])],
        at("prod/web"), at("prod/api"), tcp(80)),
    // A port entry with only a protocol matches every port of that protocol.
    allow("protocol without port: every port of the protocol", [prodPorts([.all(.udp)])], at("prod/api"), at("prod/web"), udp(5353)),
    deny("protocol without port: other protocols denied", [prodPorts([.all(.udp)])], at("prod/api"), at("prod/web"), tcp(5353)),
    // Absent or empty ports: every port.
    allow("no ports field: every port and protocol", [webFrom([.pods(sel(["app": "api"]))])], at("prod/api"), at("prod/web"), sctp(9)),
    allow(
        "ports: [] = every port", [policy("prod", "empty-ports", ingress: [Rule(peers: nil, ports: [])])],
        at("prod/api"), at("prod/web"), tcp(12345)),
]

let policyTypeCases: [EngineCase] = [
    // `egress: []` without policyTypes: no egress rule exists, so only Ingress is inferred.
    allow(
        "egress: [] without policyTypes is Ingress-only: egress not isolated", [policy("prod", "p", egress: [])],
        at("prod/web"), ext("public"), tcp(443)),
    deny(
        "egress: [] without policyTypes still isolates ingress", [policy("prod", "p", egress: [])],
        at("dev/client"), at("prod/web"), tcp(80)),
    // Egress is inferred when the policy has egress rules.
    deny(
        "egress rules without policyTypes: Egress inferred, unlisted destination denied",
        [policy("prod", "p", select: sel(["app": "web"]), egress: [rule([.pods(sel(["app": "db"]))])])],
        at("prod/web"), at("prod/api"), tcp(8080)),
    allow(
        "egress rules without policyTypes: listed destination allowed",
        [policy("prod", "p", select: sel(["app": "web"]), egress: [rule([.pods(sel(["app": "db"]))])])],
        at("prod/web"), at("prod/db"), tcp(5432)),
    // Rules of a type not listed in policyTypes are ignored.
    allow(
        "policyTypes [Egress]: the pod is not isolated for ingress", [policy("prod", "p", types: [.egress], ingress: [rule([])])],
        at("dev/client"), at("prod/web"), tcp(80)),
    deny(
        "policyTypes [Egress]: ingress: [{}] does not open egress", [policy("prod", "p", types: [.egress], ingress: [rule()])],
        at("prod/web"), ext("public"), tcp(443)),
    allow(
        "policyTypes [Ingress]: egress rules are ignored, egress not isolated",
        [policy("prod", "p", types: [.ingress], ingress: [rule()], egress: [rule([.pods(sel(["app": "db"]))])])],
        at("prod/web"), ext("public"), tcp(443)),
    // `policyTypes: []` is "not specified" (Go omits the empty list; the API server defaults it
    // from the rules: Ingress always), so the policy isolates ingress.
    EngineCase(
        rule: "policyTypes: [] is defaulted like an omitted field (Ingress)", policies: [policy("prod", "p", types: [])],
        from: at("dev/client"), to: at("prod/web"), port: tcp(80), expected: .deny),
]

@Suite("PolicyEngine against the NetworkPolicy documentation")
struct PolicyEngineTests {
    @Test("isolation, additivity, both ends, self, externals", arguments: isolationCases)
    func isolation(_ c: EngineCase) { check(c) }

    @Test("pod and namespace selectors", arguments: selectorCases)
    func selectors(_ c: EngineCase) { check(c) }

    @Test("ipBlock", arguments: ipBlockCases)
    func ipBlocks(_ c: EngineCase) { check(c) }

    @Test("ports", arguments: portCases)
    func ports(_ c: EngineCase) { check(c) }

    @Test("policyTypes, explicit and inferred", arguments: policyTypeCases)
    func policyTypes(_ c: EngineCase) { check(c) }

    private func check(_ c: EngineCase) {
        let verdict = World.verdict(c.policies, c.from, c.to, c.port)
        if let issue = c.knownIssue {
            withKnownIssue(Comment(rawValue: issue)) {
                #expect(verdict.decision == c.expected, "\(c.rule)")
            }
        } else {
            #expect(verdict.decision == c.expected, "\(c.rule)")
        }
    }
}
