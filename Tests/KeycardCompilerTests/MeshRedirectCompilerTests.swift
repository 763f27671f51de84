import KeycardCompiler
import KeycardModel
import KeycardRuleset
import KeycardValues
import Testing

@Suite("Mesh redirect compiler: the capture table of meshed pods, and the policy tables' mesh layout")
struct MeshRedirectCompilerTests {
    /// `shop/side` has a sidecar, `shop/amb` is enrolled in ambient by its own label, `shop/out`
    /// opted out, `kube-system/dns` is never meshed whatever its labels.
    static func cluster() -> Cluster {
        var cluster = Cluster()
        cluster.namespaces["shop"] = Namespace(name: "shop")
        cluster.namespaces["kube-system"] = Namespace(name: "kube-system", labels: [Pod.MeshLabel.dataplaneMode: "ambient"])
        let pods = [
            Pod(namespace: "shop", name: "side", labels: ["app": "side"]),
            Pod(namespace: "shop", name: "amb", labels: [Pod.MeshLabel.dataplaneMode: "ambient"]),
            Pod(namespace: "shop", name: "out", labels: ["app": "out"]),
            Pod(namespace: "kube-system", name: "dns", labels: [Pod.MeshLabel.dataplaneMode: "ambient"]),
        ]
        for (index, pod) in pods.enumerated() {
            cluster.pods[pod.key] = pod
            cluster.addresses[pod.key] = IPv4(0x0AF4_0002 + UInt32(index))
        }
        cluster.sidecars = [ObjectKey("shop", "side")]
        return cluster
    }

    @Test func captureTableText() {
        let table = MeshRedirectCompiler(labName: "t").table()
        #expect(
            table.nftText() == """
                table ip kc-t-mesh {
                	chain mesh-inbound {
                		type nat hook prerouting priority -100; policy accept;
                		iifname "lo" accept comment "loopback: the pod itself and the proxy's own hops"
                		meta l4proto tcp th dport 15001 accept comment "the proxy's own port 15001 is never captured"
                		meta l4proto tcp th dport 15006 accept comment "the proxy's own port 15006 is never captured"
                		meta l4proto tcp th dport 15008 accept comment "the proxy's own port 15008 is never captured"
                		meta l4proto tcp redirect to :15006 comment "inbound TCP to the mesh proxy"
                	}

                	chain mesh-outbound {
                		type nat hook output priority -110; policy accept;
                		meta mark 0x00006b63 accept comment "the mesh proxy's own sockets"
                		oifname "lo" accept comment "the pod reaching itself"
                		meta l4proto tcp redirect to :15001 comment "outbound TCP to the mesh proxy"
                	}
                }

                """)
    }

    /// Every redirect is TCP only (R56), and comes after the exemptions of the proxy's ports,
    /// its marked sockets and loopback; the outbound chain maps before the Service DNAT (-100).
    @Test func onlyTCPIsCapturedAndTheProxyIsExempt() throws {
        let table = MeshRedirectCompiler(labName: "t").table()
        for chain in table.chains {
            let redirects = chain.rules.indices.filter { if case .redirect = chain.rules[$0].verdict { true } else { false } }
            #expect(redirects == [chain.rules.count - 1], "\(chain.name): one redirect, last")
            let redirect = chain.rules[chain.rules.count - 1]
            #expect(redirect.matches == [.l4proto(6)])
            #expect(chain.rules.dropLast().allSatisfy { $0.verdict == .accept })
        }
        let outbound = try #require(table.chain(named: "mesh-outbound")?.base)
        #expect(outbound.type == .nat && outbound.hook == .output && outbound.priority < -100)
        #expect(table.chain(named: "mesh-outbound")?.rules.first?.matches == [.mark(MeshDataPath.bypassMark)])
        #expect(table.chain(named: "mesh-outbound")?.rules.last?.verdict == .redirect(port: MeshDataPath.outboundPort))
        #expect(table.chain(named: "mesh-inbound")?.rules.last?.verdict == .redirect(port: MeshDataPath.inboundPort))
        let exempt = table.chain(named: "mesh-inbound")?.rules.compactMap { rule -> UInt16? in
            if case .dport(let port) = rule.matches.last { port } else { nil }
        }
        #expect(exempt == MeshDataPath.proxyPorts.sorted())
    }

    /// A sidecar's `traffic.sidecar.istio.io` annotations shape its own table as istio-iptables
    /// does: excluded ports and ranges pass before the redirect; an inclusion list redirects only
    /// its ports; an ambient pod ignores them.
    @Test func sidecarCaptureAnnotations() throws {
        let compiler = MeshRedirectCompiler(labName: "t")
        var cluster = Self.cluster()
        let annotations = [
            SidecarCapture.Annotation.excludeInboundPorts: "9100, 9200",
            SidecarCapture.Annotation.excludeOutboundPorts: "5432",
            SidecarCapture.Annotation.excludeOutboundIPRanges: "10.96.0.0/12,bogus",
        ]
        cluster.pods[ObjectKey("shop", "side")]?.annotations = annotations
        cluster.pods[ObjectKey("shop", "amb")]?.annotations = annotations
        let tables = compiler.compile(cluster)
        #expect(tables[ObjectKey("shop", "amb")] == compiler.table())
        let side = try #require(tables[ObjectKey("shop", "side")])
        let text = side.nftText()
        #expect(text.contains("meta l4proto tcp th dport 9100 accept comment \"TCP/9100 not captured (excludeInboundPorts)\""))
        #expect(text.contains("meta l4proto tcp th dport 9200 accept"))
        #expect(text.contains("meta l4proto tcp th dport 5432 accept comment \"TCP/5432 not captured (excludeOutboundPorts)\""))
        #expect(text.contains("ip daddr 10.96.0.0/12 accept"))
        let inbound = try #require(side.chain(named: "mesh-inbound"))
        let outbound = try #require(side.chain(named: "mesh-outbound"))
        #expect(inbound.rules.last?.verdict == .redirect(port: MeshDataPath.inboundPort))
        #expect(outbound.rules.last?.verdict == .redirect(port: MeshDataPath.outboundPort))
        #expect(outbound.rules.dropLast().allSatisfy { $0.verdict == .accept })
        // An inclusion list: only its ports go to the proxy; an empty one captures nothing inbound.
        cluster.pods[ObjectKey("shop", "side")]?.annotations = [SidecarCapture.Annotation.includeInboundPorts: "8080"]
        let listed = try #require(compiler.compile(cluster)[ObjectKey("shop", "side")]?.chain(named: "mesh-inbound"))
        #expect(
            listed.rules.filter { $0.verdict == .redirect(port: MeshDataPath.inboundPort) }.map(\.matches) == [[.l4proto(6), .dport(8080)]])
        cluster.pods[ObjectKey("shop", "side")]?.annotations = [SidecarCapture.Annotation.includeInboundPorts: ""]
        let none = try #require(compiler.compile(cluster)[ObjectKey("shop", "side")]?.chain(named: "mesh-inbound"))
        #expect(!none.rules.contains { $0.verdict == .redirect(port: MeshDataPath.inboundPort) })
    }

    /// `includeOutboundIPRanges` with a list: only the included ports and ranges are redirected,
    /// after the exclusions, and nothing else (istio-iptables' `handleOutboundIncludeRules`); an
    /// empty list and `interceptionMode: NONE` redirect nothing, inbound or outbound for NONE.
    @Test func includedOutboundRanges() throws {
        let compiler = MeshRedirectCompiler(labName: "t")
        var cluster = Self.cluster()
        cluster.pods[ObjectKey("shop", "side")]?.annotations = [
            SidecarCapture.Annotation.includeOutboundIPRanges: "10.96.0.0/12,fd00::/8",
            SidecarCapture.Annotation.excludeOutboundIPRanges: "10.96.0.10/32",
            SidecarCapture.Annotation.includeOutboundPorts: "5432",
        ]
        let outbound = try #require(compiler.compile(cluster)[ObjectKey("shop", "side")]?.chain(named: "mesh-outbound"))
        let redirects = outbound.rules.filter { $0.verdict == .redirect(port: MeshDataPath.outboundPort) }.map(\.matches)
        #expect(redirects == [[.l4proto(6), .dport(5432)], [.l4proto(6), .daddr(prefix: 0x0A60_0000, length: 12)]])
        let excluded = try #require(outbound.rules.firstIndex { $0.matches == [.daddr(prefix: 0x0A60_000A, length: 32)] })
        #expect(outbound.rules[excluded].verdict == .accept)
        #expect(excluded < outbound.rules.firstIndex { $0.verdict == .redirect(port: MeshDataPath.outboundPort) }!)
        for annotations in [
            [SidecarCapture.Annotation.includeOutboundIPRanges: ""], [SidecarCapture.Annotation.interceptionMode: "NONE"],
        ] {
            cluster.pods[ObjectKey("shop", "side")]?.annotations = annotations
            let table = try #require(compiler.compile(cluster)[ObjectKey("shop", "side")])
            #expect(
                !(table.chain(named: "mesh-outbound")?.rules.contains { if case .redirect = $0.verdict { true } else { false } } ?? true))
            let inboundRedirects = table.chain(named: "mesh-inbound")?.rules.filter {
                if case .redirect = $0.verdict { true } else { false }
            }
            #expect(inboundRedirects?.isEmpty == (annotations[SidecarCapture.Annotation.interceptionMode] == "NONE"))
        }
    }

    /// An ambient pod in ingress mode (`ambient.istio.io/bypass-inbound-capture`) keeps its
    /// outbound capture and loses the inbound redirect (istio-cni's `IngressMode`).
    @Test func ambientIngressMode() throws {
        let compiler = MeshRedirectCompiler(labName: "t")
        var cluster = Self.cluster()
        cluster.pods[ObjectKey("shop", "amb")]?.annotations = [Pod.ambientBypassInboundCapture: "true"]
        let table = try #require(compiler.compile(cluster)[ObjectKey("shop", "amb")])
        #expect(table.chain(named: "mesh-outbound") == compiler.table().chain(named: "mesh-outbound"))
        let inbound = try #require(table.chain(named: "mesh-inbound"))
        #expect(!inbound.rules.contains { if case .redirect = $0.verdict { true } else { false } })
        cluster.pods[ObjectKey("shop", "amb")]?.annotations = [Pod.ambientBypassInboundCapture: "yes"]
        #expect(compiler.compile(cluster)[ObjectKey("shop", "amb")] == compiler.table())
    }

    /// Sidecar and ambient pods get the table; pods outside the mesh and kube-system do not;
    /// an ambient pod that opts out loses it, a sidecar pod keeps it whatever its labels.
    @Test func tablesFollowTheDataPlane() {
        let compiler = MeshRedirectCompiler(labName: "t")
        var cluster = Self.cluster()
        #expect(Set(compiler.compile(cluster).keys) == [ObjectKey("shop", "side"), ObjectKey("shop", "amb")])
        #expect(compiler.compile(cluster).values.allSatisfy { $0 == compiler.table() })
        cluster.pods[ObjectKey("shop", "amb")]?.labels[Pod.MeshLabel.dataplaneMode] = "none"
        cluster.pods[ObjectKey("shop", "side")]?.labels[Pod.MeshLabel.inject] = "false"
        cluster.namespaces["shop"] = Namespace(name: "shop", labels: [Pod.MeshLabel.dataplaneMode: "ambient"])
        #expect(Set(compiler.compile(cluster).keys) == [ObjectKey("shop", "side"), ObjectKey("shop", "out")])
        #expect(compiler.compile(Cluster()).isEmpty)
    }

    /// The mesh layout moves pod ingress to prerouting before dstnat and lets egress to
    /// 127.0.0.0/8 (the outbound capture) pass; everything else stays as it was.
    @Test func policyTablesMeshLayout() throws {
        let cluster = Self.cluster()
        let nodes = Dictionary(uniqueKeysWithValues: cluster.pods.keys.map { ($0, 0) })
        let plain = PolicyCompiler(labName: "t", placement: .pod)
        var meshed = plain
        meshed.meshLayout = true
        let before = plain.compile(cluster, nodes: nodes, nodeCount: 1)
        let after = meshed.compile(cluster, nodes: nodes, nodeCount: 1)
        #expect(before.keys.sorted() == after.keys.sorted())
        for (target, table) in after {
            let old = try #require(before[target])
            #expect(table.sets == old.sets)
            let ingress = try #require(table.chain(named: "policy-ingress"))
            #expect(ingress.base == BaseChain(hook: .prerouting, priority: PolicyCompiler.meshIngressPriority))
            #expect(PolicyCompiler.meshIngressPriority > -200 && PolicyCompiler.meshIngressPriority < MeshRedirectCompiler.inboundPriority)
            #expect(ingress.rules == old.chain(named: "policy-ingress")?.rules)
            let egress = try #require(table.chain(named: "policy-egress"))
            let oldEgress = try #require(old.chain(named: "policy-egress"))
            #expect(egress.base == oldEgress.base)
            #expect(egress.rules.filter { $0.matches != [.daddr(prefix: 0x7F00_0000, length: 8)] } == oldEgress.rules)
            // After established, loopback and IPv6 (NP-38), before any drop.
            #expect(egress.rules[3].nftText == #"ip daddr 127.0.0.0/8 accept comment "a pod reaching itself (the mesh proxy)""#)
            #expect(table.chains.filter { $0.base == nil } == old.chains.filter { $0.base == nil })
        }
        // Node placement: nothing changes (the node namespaces never see the redirection).
        var node = PolicyCompiler(labName: "t", placement: .node)
        let nodeBefore = node.compile(cluster, nodes: nodes, nodeCount: 1)
        node.meshLayout = true
        #expect(node.compile(cluster, nodes: nodes, nodeCount: 1) == nodeBefore)
    }
}
