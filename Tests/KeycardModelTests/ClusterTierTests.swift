import KeycardModel
import KeycardTestSupport
import KeycardValues
import Testing

/// The tiers' semantics (docs/cluster-network-policy.md T1–T10) on the little `World` cluster.
@Suite("ClusterNetworkPolicy tiers")
struct ClusterTierTests {
    typealias CNP = ClusterNetworkPolicy

    static func world(_ cnps: [CNP], policies: [NetworkPolicy] = []) -> PolicyEngine {
        var cluster = World.cluster(policies)
        for cnp in cnps { cluster.clusterPolicies[cnp.key] = cnp }
        return PolicyEngine(cluster)
    }

    static let prod = CNP.Subject.namespaces(sel(["env": "prod"]))

    static func admin(_ name: String, _ priority: Int = 10, subject: CNP.Subject = prod, ingress: [CNP.Rule] = [], egress: [CNP.Rule] = [])
        -> CNP
    {
        CNP(name: name, tier: .admin, priority: priority, subject: subject, ingress: ingress, egress: egress)
    }

    @Test("T7: selecting a pod isolates nothing; without a matching rule the verdict is as without tiers")
    func noImplicitIsolation() {
        let engine = Self.world([Self.admin("mon", ingress: [CNP.Rule(action: .accept, peers: [.namespaces(sel(["env": "none"]))])])])
        let verdict = engine.evaluate(from: at("dev/client"), to: at("prod/web"), port: tcp(80))
        #expect(verdict.decision == .allow)
        #expect(verdict.ingress.outcome == .notIsolated)
        #expect(verdict.ingress.tiers.isEmpty)
    }

    /// `World` on two nodes with a host-network pod `infra/agent` on node-1 (its address is the
    /// node's) serving TCP/34345, TCP/34346 and UDP/34347; the other pods stay on node-0.
    static func withNodes(_ cnps: [CNP], policies: [NetworkPolicy] = []) -> PolicyEngine {
        var cluster = World.cluster(policies)
        cluster.namespaces["infra"] = Namespace(name: "infra")
        var agent = Pod(
            namespace: "infra", name: "agent",
            ports: [ContainerPort(port: 34345), ContainerPort(port: 34346), ContainerPort(port: 34347, proto: .udp)])
        agent.hostNetwork = true
        agent.nodeName = "node-1"
        cluster.pods[agent.key] = agent
        cluster.addresses[agent.key] = LabNetwork.nodeAddress(1)
        cluster.nodeCount = 2
        for key in cluster.pods.keys { cluster.podNodes[key] = key == agent.key ? 1 : 0 }
        for cnp in cnps { cluster.clusterPolicies[cnp.key] = cnp }
        return PolicyEngine(cluster)
    }

    @Test("nodes peer: the selected nodes' addresses (nodes, host-network pods), never a pod on the pod network")
    func nodesPeer() {
        let linux = sel(["kubernetes.io/os": "linux"])
        // network-policy-api conformance CNPAdminTierEgressNodePeers (experimental-egress-selector-rules).
        let engine = Self.withNodes([
            Self.admin(
                "node-peers",
                egress: [
                    CNP.Rule(action: .accept, peers: [.nodes(linux)], protocols: [.port(.tcp, 34345...34345)]),
                    CNP.Rule(action: .pass, peers: [.nodes(linux)], protocols: [.port(.udp, 34347...34347)]),
                    CNP.Rule(action: .deny, peers: [.namespaces(sel(["env": "dev"])), .nodes(linux)]),
                ])
        ])
        let agent = at("infra/agent")
        #expect(
            engine.evaluate(from: at("prod/web"), to: agent, port: tcp(34345)).egress.tiers.walkthrough
                == "[Admin] Accept (node-peers/egress[0])")
        #expect(engine.evaluate(from: at("prod/web"), to: agent, port: tcp(34345)).decision == .allow)
        let passed = engine.evaluate(from: at("prod/web"), to: agent, port: udp(34347))
        #expect(passed.decision == .allow)
        #expect(passed.egress.tiers.walkthrough == "[Admin] Pass (node-peers/egress[1]) -> [Default] Allowed")
        #expect(engine.evaluate(from: at("prod/web"), to: agent, port: tcp(34346)).decision == .deny)
        // A nodes peer matches no pod of the pod network: the Deny after the Pass decides.
        let pod = engine.evaluate(from: at("prod/web"), to: at("dev/client"), port: udp(34347))
        #expect(pod.decision == .deny)
        #expect(pod.egress.tiers.walkthrough == "[Admin] Deny (node-peers/egress[2])")
        #expect(engine.evaluate(from: at("prod/web"), to: at("prod/api"), port: tcp(34345)).decision == .allow)
        // The node itself (a scan meets its address) is matched as its host-network pod is.
        #expect(engine.evaluate(from: at("prod/web"), to: .node("node-1"), port: tcp(34346)).decision == .deny)
        #expect(engine.evaluate(from: at("prod/web"), to: .node("node-0"), port: tcp(34346)).decision == .deny)
        #expect(engine.evaluate(from: at("prod/web"), to: ext("public"), port: tcp(443)).decision == .allow)
    }

    @Test("nodes peer selects by the node's labels: kubernetes.io/hostname picks one node")
    func nodesPeerHostname() {
        func engine(_ hostname: String) -> PolicyEngine {
            Self.withNodes(
                [Self.admin("one-node", egress: [CNP.Rule(action: .deny, peers: [.nodes(sel(["kubernetes.io/hostname": hostname]))])])])
        }
        #expect(engine("node-1").evaluate(from: at("prod/web"), to: at("infra/agent"), port: tcp(34345)).decision == .deny)
        #expect(engine("node-0").evaluate(from: at("prod/web"), to: at("infra/agent"), port: tcp(34345)).decision == .allow)
        #expect(engine("node-0").evaluate(from: at("prod/web"), to: .node("node-0"), port: tcp(22)).decision == .deny)
        #expect(Cluster.nodeLabels(3)["kubernetes.io/hostname"] == "node-3")
    }

    @Test("an Accept to nodes decides before the NetworkPolicy tier; it opens nothing on the pod network")
    func nodesAcceptBeforeNetworkPolicy() {
        let engine = Self.withNodes(
            [Self.admin("nodes", egress: [CNP.Rule(action: .accept, peers: [.nodes(.everything)])])],
            policies: [policy("prod", "deny-egress", types: [.egress])])
        #expect(engine.evaluate(from: at("prod/web"), to: at("infra/agent"), port: tcp(34345)).decision == .allow)
        #expect(engine.evaluate(from: at("prod/web"), to: at("dev/web"), port: tcp(80)).decision == .deny)
    }

    @Test("networks match externals and pods; IPv6 matches nothing")
    func networks() throws {
        let cidr = try #require(CIDR.parse("203.0.113.0/24"))
        let podNet = try #require(CIDR.parse("10.244.1.0/24"))
        let v6 = try #require(CIDR.parse("::/0"))
        let engine = Self.world([Self.admin("nets", egress: [CNP.Rule(action: .deny, peers: [.networks([cidr, podNet, v6])])])])
        #expect(engine.evaluate(from: at("prod/web"), to: ext("public"), port: tcp(443)).decision == .deny)
        #expect(engine.evaluate(from: at("prod/web"), to: at("dev/client"), port: tcp(80)).decision == .deny)
        #expect(engine.evaluate(from: at("prod/web"), to: ext("corp"), port: tcp(22)).decision == .allow)
        #expect(engine.evaluate(from: at("prod/web"), to: at("prod/api"), port: tcp(8080)).decision == .allow)
    }

    @Test("domainNames: exact or *. for one or more whole labels, answered from the lab's DNS records")
    func domainNames() {
        #expect(PolicyEngine.domain("*.kubernetes.io", matches: "blog.kubernetes.io"))
        #expect(PolicyEngine.domain("*.kubernetes.io", matches: "latest.blog.kubernetes.io"))
        #expect(!PolicyEngine.domain("*.kubernetes.io", matches: "kubernetes.io"))
        #expect(PolicyEngine.domain("kubernetes.io.", matches: "kubernetes.io"))
        #expect(!PolicyEngine.domain("kubernetes.io", matches: "my-kubernetes.io"))
        // Accept to dev pods by their DNS names, Deny the rest: dev/client is reached, prod/api not.
        let engine = Self.world([
            Self.admin(
                "dns",
                egress: [
                    CNP.Rule(action: .accept, peers: [.domainNames(["*.dev.pod.cluster.local"])]),
                    CNP.Rule(action: .deny, peers: [.namespaces(.everything)]),
                ])
        ])
        #expect(engine.evaluate(from: at("prod/web"), to: at("dev/client"), port: tcp(80)).decision == .allow)
        #expect(engine.evaluate(from: at("prod/web"), to: at("prod/api"), port: tcp(8080)).decision == .deny)
    }

    @Test("T9: own pod IP is not subject; through a Service back to itself it is")
    func hairpin() throws {
        var cluster = World.cluster()
        let cnp = Self.admin("no-pods", egress: [CNP.Rule(action: .deny, peers: [.namespaces(.everything)])])
        cluster.clusterPolicies[cnp.key] = cnp
        let service = Service(namespace: "prod", name: "web", selector: ["app": "web"], ports: [ServicePort(port: 80)])
        cluster.services[service.key] = service
        let engine = PolicyEngine(cluster)
        #expect(engine.evaluate(from: at("prod/web"), to: at("prod/web"), port: tcp(80)).decision == .allow)
        let through = engine.evaluate(from: at("prod/web"), toService: service, port: ServicePort(port: 80))
        #expect(through.first?.verdict.decision == .deny)
        #expect(through.first?.verdict.egress.tiers.walkthrough == "[Admin] Deny (no-pods/egress[0])")
    }

    /// The NetworkPolicy tier is final only for a pod a NetworkPolicy selects (`Tier`: "Further
    /// evaluation only happens for Pods not selected by a v1.NetworkPolicy"): through its own
    /// Service, a pod no NetworkPolicy selects meets the Baseline tier; a selected one is let
    /// through by its NetworkPolicy (the pod itself).
    @Test("T9 with T6: hairpin meets the Baseline tier unless a NetworkPolicy selects the pod")
    func hairpinBaseline() throws {
        let service = Service(namespace: "prod", name: "web", selector: ["app": "web"], ports: [ServicePort(port: 80)])
        for direction in [NetworkPolicy.PolicyType.ingress, .egress] {
            let rule = [CNP.Rule(action: .deny, peers: [.namespaces(.everything)])]
            let baseline = CNP(
                name: "deny", tier: .baseline, priority: 0, subject: .namespaces(.everything),
                ingress: direction == .ingress ? rule : [], egress: direction == .egress ? rule : [])
            var cluster = Self.world([baseline]).cluster
            cluster.services[service.key] = service
            let through = PolicyEngine(cluster).evaluate(from: at("prod/web"), toService: service, port: ServicePort(port: 80))
            #expect(through.first?.verdict.decision == .deny, "\(direction)")
            let isolating = policy("prod", "web-from-dev", select: sel(["app": "web"]), types: [direction])
            cluster.policies[isolating.key] = isolating
            let selected = PolicyEngine(cluster).evaluate(from: at("prod/web"), toService: service, port: ServicePort(port: 80))
            #expect(selected.first?.verdict.decision == .allow, "\(direction)")
            let side = direction == .ingress ? selected.first?.verdict.ingress : selected.first?.verdict.egress
            #expect(side?.tiers.walkthrough == "[NetworkPolicy] Allowed (the pod itself)")
        }
    }

    @Test("T6/T1: Baseline applies only to pods no NetworkPolicy isolates; then the default allows")
    func baselineAfterNetworkPolicy() {
        let baseline = CNP(
            name: "deny", tier: .baseline, priority: 0, subject: .namespaces(.everything),
            ingress: [CNP.Rule(action: .deny, peers: [.namespaces(.everything)])])
        let allowWeb = policy("prod", "web-from-dev", select: sel(["app": "web"]), ingress: [rule([.namespaces(sel(["env": "dev"]))])])
        let engine = Self.world([baseline], policies: [allowWeb])
        let web = engine.evaluate(from: at("dev/client"), to: at("prod/web"), port: tcp(80))
        #expect(web.decision == .allow)
        #expect(web.ingress.tiers.walkthrough == "[NetworkPolicy] Allowed (prod/web-from-dev)")
        let api = engine.evaluate(from: at("dev/client"), to: at("prod/api"), port: tcp(8080))
        #expect(api.decision == .deny)
        #expect(api.ingress.tiers.walkthrough == "[Baseline] Deny (deny/ingress[0])")
        let pass = CNP(
            name: "pass", tier: .baseline, priority: 0, subject: .namespaces(.everything),
            ingress: [CNP.Rule(action: .pass, peers: [.namespaces(.everything)])])
        let passed = Self.world([
            pass, CNP(name: "z", tier: .baseline, priority: 5, subject: .namespaces(.everything), ingress: baseline.ingress),
        ])
        let verdict = passed.evaluate(from: at("dev/client"), to: at("prod/api"), port: tcp(8080))
        #expect(verdict.decision == .allow)
        #expect(verdict.ingress.tiers.walkthrough == "[Baseline] Pass (pass/ingress[0]) -> [Default] Allowed")
    }

    @Test("named ports resolve on the destination pod with the packet's protocol")
    func namedPort() {
        let engine = Self.world([
            Self.admin("no-http", ingress: [CNP.Rule(action: .deny, peers: [.namespaces(.everything)], protocols: [.namedPort("http")])])
        ])
        #expect(engine.evaluate(from: at("dev/client"), to: at("prod/web"), port: tcp(80)).decision == .deny)
        #expect(engine.evaluate(from: at("dev/client"), to: at("prod/api"), port: tcp(8080)).decision == .deny)
        #expect(engine.evaluate(from: at("dev/client"), to: at("prod/web"), port: tcp(443)).decision == .allow)
        #expect(engine.evaluate(from: at("dev/client"), to: at("prod/web"), port: udp(80)).decision == .allow)
    }
}
