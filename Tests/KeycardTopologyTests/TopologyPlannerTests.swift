import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardTopology

/// The upstream-style 9 pods: namespaces x, y, z with pods a, b, c.
func ninePods(command: [String]? = nil) -> [PodSpec] {
    ["x", "y", "z"].flatMap { ns in
        ["a", "b", "c"].map { PodSpec(namespace: ns, name: $0, ports: [.init(.tcp, 80), .init(.udp, 81)], command: command) }
    }
}

@Suite struct TopologyPlannerTests {
    @Test func oneNodeGetsWholeCIDRAndSequentialAddresses() throws {
        let plan = try TopologyPlanner.plan(LabSpec(labName: "t", pods: ninePods()))
        #expect(plan.nodes.map(\.slice.description) == ["10.244.0.0/16"])
        #expect(plan.pods.map(\.address.description) == (1...9).map { "10.244.0.\($0)" })
        #expect(plan.pods.allSatisfy { $0.nodeIndex == 0 && $0.gateway.description == "169.254.1.1" })
        #expect(plan.pods[0].netns == "kc-t.pod.x.a")
        #expect(plan.namespaces.map(\.name).prefix(2) == ["kc-t.router", "kc-t.node0"])
        #expect(plan.namespaces.count == 11)
        #expect(plan.nodes[0].podInterfaces == (0..<9).map { "kcp\($0)" })
    }

    @Test(arguments: [
        (1, ["10.244.0.0/16"]),
        (2, ["10.244.0.0/17", "10.244.128.0/17"]),
        (3, ["10.244.0.0/18", "10.244.64.0/18", "10.244.128.0/18"]),
        (4, ["10.244.0.0/18", "10.244.64.0/18", "10.244.128.0/18", "10.244.192.0/18"]),
        (5, ["10.244.0.0/19", "10.244.32.0/19", "10.244.64.0/19", "10.244.96.0/19", "10.244.128.0/19"]),
    ])
    func slicesPerNode(nodes: Int, expected: [String]) throws {
        let plan = try TopologyPlanner.plan(LabSpec(labName: "t", nodes: nodes))
        #expect(plan.nodes.map(\.slice.description) == expected)
    }

    @Test func roundRobinAndPinnedNode() throws {
        var pods = ninePods()
        pods[4].nodeName = "node-0"
        let plan = try TopologyPlanner.plan(LabSpec(labName: "t", nodes: 3, pods: pods))
        #expect(plan.pods.map(\.nodeIndex) == [0, 1, 2, 0, 0, 1, 2, 0, 1])
        #expect(
            plan.pods.map(\.address.description) == [
                "10.244.0.1", "10.244.64.1", "10.244.128.1", "10.244.0.2", "10.244.0.3",
                "10.244.64.2", "10.244.128.2", "10.244.0.4", "10.244.64.3",
            ])
        #expect(plan.nodes[0].podInterfaces == ["kcp0", "kcp3", "kcp4", "kcp7"])
    }

    @Test func pinnedAddressIsReservedBeforeAllocation() throws {
        var pods = ninePods()
        pods[5].pinnedIP = "10.244.0.2"
        let plan = try TopologyPlanner.plan(LabSpec(labName: "t", pods: pods))
        #expect(
            plan.pods.map(\.address.description) == [
                "10.244.0.1", "10.244.0.3", "10.244.0.4", "10.244.0.5", "10.244.0.6",
                "10.244.0.2", "10.244.0.7", "10.244.0.8", "10.244.0.9",
            ])
    }

    @Test func pinnedOutsideItsSliceGetsRouterHostRoute() throws {
        let pods = [PodSpec(namespace: "x", name: "a", nodeName: "node-0", pinnedIP: "10.244.200.7")]
        let plan = try TopologyPlanner.plan(LabSpec(labName: "t", nodes: 2, pods: pods))
        let routerRoutes = plan.routes.filter { $0.namespace == "kc-t.router" }
        #expect(
            routerRoutes.map { "\($0.destination) via \($0.gateway.map(String.init(describing:)) ?? "-") dev \($0.interface)" } == [
                "10.244.0.0/17 via 100.64.0.2 dev kcn0",
                "10.244.128.0/17 via 100.64.0.6 dev kcn1",
                "10.244.200.7/32 via 100.64.0.2 dev kcn0",
            ])
        // node-1 blackholes its slice, so it sends the address it does not hold up to the router.
        let ownerRoutes = plan.routes.filter { $0.namespace == "kc-t.node1" && $0.destination == .host("10.244.200.7") }
        #expect(
            ownerRoutes.map { "\($0.gateway.map(String.init(describing:)) ?? "-") dev \($0.interface)#\($0.interfaceIndex)" } == [
                "100.64.0.5 dev kcu#2"
            ])
    }

    /// Each node drops the addresses of its slice that no pod holds (Calico's blackhole route per
    /// IPAM block): without it a packet to such an address loops between node and router.
    @Test func everyNodeBlackholesItsSlice() throws {
        let plan = try TopologyPlanner.plan(LabSpec(labName: "t", nodes: 2, pods: [PodSpec(namespace: "x", name: "a")]))
        #expect(plan.blackholes.map { "\($0.namespace) \($0.destination)" } == ["kc-t.node0 10.244.0.0/17", "kc-t.node1 10.244.128.0/17"])
        #expect(plan.blackholes.map(\.destination) == plan.nodes.map(\.slice))
    }

    @Test func podAndNodeRoutesAndAddresses() throws {
        let plan = try TopologyPlanner.plan(LabSpec(labName: "t", pods: [PodSpec(namespace: "x", name: "a")]))
        let describe: (PlannedRoute) -> String = {
            "\($0.destination)\($0.gateway.map { " via \($0)" } ?? "") dev \($0.interface)#\($0.interfaceIndex) \($0.scope)"
        }
        #expect(
            plan.routes.filter { $0.namespace == "kc-t.pod.x.a" }.map(describe) == [
                "169.254.1.1/32 dev eth0#2 link", "0.0.0.0/0 via 169.254.1.1 dev eth0#2 universe",
            ])
        #expect(
            plan.routes.filter { $0.namespace == "kc-t.node0" }.map(describe) == [
                "0.0.0.0/0 via 100.64.0.1 dev kcu#2 universe", "10.244.0.1/32 dev kcp0#3 link",
            ])
        #expect(
            plan.addresses.filter { $0.namespace == "kc-t.node0" }.map { "\($0.interface) \($0.address)/\($0.prefixLength)" } == [
                "kcu 100.64.0.2/30", "kcp0 169.254.1.1/32",
            ])
        // The node's own connections to its pods leave from its address, not the pod gateway's.
        #expect(plan.routes.first { $0.namespace == "kc-t.node0" && $0.interface == "kcp0" }?.preferredSource == IPv4(0x6440_0002))
        #expect(
            plan.sysctls.filter { $0.key == "net/ipv4/ip_forward" }.map { "\($0.namespace) \($0.key)=\($0.value)" } == [
                "kc-t.router net/ipv4/ip_forward=1", "kc-t.node0 net/ipv4/ip_forward=1",
            ])
        // No namespace rate-limits its ICMP errors: a UDP probe's port-unreachable always comes back.
        #expect(
            Set(plan.sysctls.filter { $0.key == "net/ipv4/icmp_ratemask" && $0.value == "0" }.map(\.namespace))
                == Set(plan.namespaces.map(\.name)))
    }

    /// Both ends of a pod veth get fixed MACs and each side a permanent neighbour entry for the
    /// other, so no pod link ever needs ARP (the shared neighbour table overflows near 500 pods).
    @Test func podVethsHaveFixedMACsAndPermanentNeighbours() throws {
        let plan = try TopologyPlanner.plan(LabSpec(labName: "t", pods: [PodSpec(namespace: "x", name: "a")]))
        let link = try #require(plan.links.first { $0.peer.namespace == "kc-t.pod.x.a" })
        #expect(link.end.mac?.description == "0a:59:0a:f4:00:01")
        #expect(link.peer.mac?.description == "0a:58:0a:f4:00:01")
        #expect(
            plan.neighbours.map { "\($0.namespace) \($0.address) ifindex \($0.interfaceIndex) \($0.mac)" } == [
                "kc-t.node0 10.244.0.1 ifindex 3 0a:58:0a:f4:00:01", "kc-t.pod.x.a 169.254.1.1 ifindex 2 0a:59:0a:f4:00:01",
            ])
        // Router links keep kernel-chosen MACs and ARP: there are at most 64 nodes and a few externals.
        #expect(plan.links.filter { $0.end.namespace == "kc-t.router" }.allSatisfy { $0.end.mac == nil && $0.peer.mac == nil })
    }

    @Test func externalsGetAddressAndRoutes() throws {
        let spec = LabSpec(labName: "t", nodes: 2, externals: [ExternalSpec(name: "web", ip: "192.0.2.10")])
        let plan = try TopologyPlanner.plan(spec)
        #expect(plan.externals == [PlannedExternal(name: "web", netns: "kc-t.ext.web", address: "192.0.2.10", ports: [])])
        let ext = plan.routes.filter { $0.namespace == "kc-t.ext.web" }
        #expect(ext.count == 1)
        #expect(ext.first?.gateway?.description == "100.64.0.9")
        #expect(ext.first?.preferredSource?.description == "192.0.2.10")
        #expect(
            plan.routes.contains {
                $0.namespace == "kc-t.router" && $0.destination.description == "192.0.2.10/32" && $0.interface == "kcx0"
            })
    }

    @Test func interfaceNamesAreShortUniqueAndIndexesDistinctPerNamespace() throws {
        let pods = (0..<2000).map { PodSpec(namespace: "n\($0 % 7)", name: "pod-\($0)") }
        let plan = try TopologyPlanner.plan(LabSpec(labName: "abcdefghijklmnopqrstuvwx", nodes: 3, pods: pods))
        var names: [String: Set<String>] = [:]
        var indexes: [String: Set<Int32>] = [:]
        for end in plan.links.flatMap({ [$0.end, $0.peer] }) {
            #expect(end.name.utf8.count <= 15)
            #expect(names[end.namespace, default: []].insert(end.name).inserted, "duplicate \(end.name) in \(end.namespace)")
            #expect(indexes[end.namespace, default: []].insert(end.index).inserted)
            #expect(end.index >= 2)
        }
        #expect(Set(plan.pods.map(\.address)).count == 2000)
        #expect(plan.namespaces.allSatisfy { $0.name.hasPrefix("kc-abcdefghijklmnopqrstuvwx.") })
    }

    @Test func planIsCodableAndDeterministic() throws {
        let spec = LabSpec(labName: "t", nodes: 3, pods: ninePods(), externals: [ExternalSpec(name: "e", ip: "8.8.8.8")])
        let first = try TopologyPlanner.plan(spec)
        #expect(try TopologyPlanner.plan(spec) == first)
    }

    @Test(arguments: [
        (LabSpec(labName: "Bad"), "lab name \"Bad\" is invalid"),
        (LabSpec(labName: "t", nodes: 0), "nodes must be between"),
        (LabSpec(labName: "t", podCIDR: "10.244.0.1/16"), "is not an IPv4 prefix"),
        (LabSpec(labName: "t", podCIDR: "fd00::/64"), "is not an IPv4 prefix"),
        (LabSpec(labName: "t", podCIDR: "100.64.0.0/10"), "overlaps 100.64.0.0/16"),
        (LabSpec(labName: "t", nodes: 3, podCIDR: "10.0.0.0/31"), "too small"),
        (
            LabSpec(labName: "t", pods: [PodSpec(namespace: "x", name: "a", pinnedIP: "10.0.0.1")]),
            "pod x/a: pinned IP 10.0.0.1 is outside the pod CIDR 10.244.0.0/16"
        ),
        (
            LabSpec(
                labName: "t",
                pods: [
                    PodSpec(namespace: "x", name: "a", pinnedIP: "10.244.1.1"),
                    PodSpec(namespace: "y", name: "a", pinnedIP: "10.244.1.1"),
                ]),
            "address 10.244.1.1 is given to both pod x/a and pod y/a"
        ),
        (
            LabSpec(labName: "t", nodes: 2, pods: [PodSpec(namespace: "x", name: "a", nodeName: "node-2")]),
            "node \"node-2\" does not exist"
        ),
        (LabSpec(labName: "t", podCIDR: "10.0.0.0/30", pods: ninePods()), "no free address left in node-0's slice 10.0.0.0/30"),
        (LabSpec(labName: "t", pods: [PodSpec(namespace: "x", name: "a"), PodSpec(namespace: "x", name: "a")]), "listed twice"),
        (LabSpec(labName: "t", externals: [ExternalSpec(name: "e", ip: "10.244.3.3")]), "lies inside the pod CIDR"),
        (LabSpec(labName: "t", pods: [PodSpec(namespace: "X", name: "a")]), "namespace name \"X\" is invalid"),
        (LabSpec(labName: "t", pods: [PodSpec(namespace: "x", name: "a..b")]), "pod name \"a..b\" is invalid"),
        (LabSpec(labName: "t", pods: [PodSpec(namespace: "x", name: "a-")]), "pod name \"a-\" is invalid"),
    ])
    func rejectsInvalidSpecs(spec: LabSpec, message: String) {
        #expect {
            _ = try TopologyPlanner.plan(spec)
        } throws: { error in
            String(describing: error).contains(message)
        }
    }

    /// Pod names as the API server checks them (`IsDNS1123Subdomain`): a dot-separated part may be
    /// longer than 63 characters, and a 253-character name fits the files of its namespace and
    /// program (`LabFileName`: at most 200 bytes, distinct names stay distinct).
    @Test func longPodNamesArePlannedAndFitFileNames() throws {
        let part = String(repeating: "p", count: 61)
        let names = [String(repeating: "p", count: 64), [part, part, part, part].joined(separator: ".") + ".abc"]
        let plan = try TopologyPlanner.plan(LabSpec(labName: "t", pods: names.map { PodSpec(namespace: "default", name: $0) }))
        #expect(plan.pods.map(\.name) == names)
        #expect(plan.pods.allSatisfy { $0.netns.utf8.count <= 200 })
        let fitted = names.map { LabFileName.fitted("default.\($0)") }
        #expect(fitted[0] == "default.\(names[0])")
        #expect(fitted[1].utf8.count <= 200 && fitted[1] != LabFileName.fitted("default.\(names[1].dropLast())"))
    }

    @Test(arguments: [
        ("10.244.0.0/16", "10.244.0.0/16"), ("1.2.3.4", "1.2.3.4/32"), ("0.0.0.0/0", "0.0.0.0/0"),
    ])
    func cidrParsing(text: String, expected: String) {
        #expect(CIDR.parseExact(text)?.description == expected)
    }

    @Test(arguments: ["1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4/33", "a.b.c.d", ""])
    func rejectsBadAddresses(text: String) {
        #expect(CIDR.parseExact(text) == nil)
    }

    /// `LabNetwork.nodeAddress` (the model's node addresses) is what the plan gives each node.
    @Test func nodeAddressesAgreeWithTheModel() throws {
        let plan = try TopologyPlanner.plan(LabSpec(labName: "t", nodes: 5))
        #expect(plan.nodes.map(\.uplinkAddress) == (0..<5).map(LabNetwork.nodeAddress))
    }
}

/// The resolv.conf the lab writes for a pod's program (`LabDNS.resolvConf`), as the kubelet's
/// `GetPodDNS` builds it: `appendDNSConfig` runs after the policy's switch, so dnsPolicy Default
/// (`.node`) gets its `dnsConfig` appended to the node's file, where the node's file had been
/// left alone and `dnsConfig` dropped.
@Suite struct PodResolvConfTests {
    @Test func defaultAppendsDNSConfigToTheNodesFile() {
        let dns = LabDNS(serverPod: "kube-system/kube-dns-0", nameserver: IPv4(0x0A60_000A))
        let extra = ResolvConf(nameservers: ["10.96.0.10"], searches: ["a.svc.cluster.local"], options: ["ndots:2"])
        let nodeFile = "nameserver 192.0.2.53\nsearch corp.test\noptions edns0\n"
        #expect(
            dns.resolvConf(namespace: "a", resolver: .node(extra), nodeFile: nodeFile)
                == "nameserver 192.0.2.53\nnameserver 10.96.0.10\nsearch corp.test a.svc.cluster.local\noptions edns0 ndots:2\n")
        #expect(dns.resolvConf(namespace: "a", resolver: .node(ResolvConf()), nodeFile: nodeFile) == nodeFile)
        #expect(
            dns.resolvConf(namespace: "a", resolver: .own(extra), nodeFile: nodeFile)
                == "nameserver 10.96.0.10\nsearch a.svc.cluster.local\noptions ndots:2\n")
    }

    /// ClusterFirst's file lists the node's search domains after the cluster's, without repeats,
    /// and the pod's `dnsConfig` after them, the whole list within the kubelet's limits
    /// (`generateSearchesForDNSClusterFirst`, `formDNSSearchFitsLimits`); they had been left out.
    @Test func clusterFirstAppendsTheNodesSearchDomains() {
        let dns = LabDNS(serverPod: "kube-system/kube-dns-0", nameserver: IPv4(0x0A60_000A))
        let nodeFile = "nameserver 192.0.2.53\nsearch corp.test cluster.local lab.test\noptions edns0\n"
        #expect(
            dns.resolvConf(namespace: "a", resolver: .cluster(ResolvConf(searches: ["b.svc.cluster.local"])), nodeFile: nodeFile)
                == "nameserver 10.96.0.10\nsearch a.svc.cluster.local svc.cluster.local cluster.local corp.test lab.test b.svc.cluster.local\noptions ndots:5\n"
        )
        // 32 searches at most: the pod's own beyond them are cut.
        let many = (0..<30).map { "d\($0).test" }.joined(separator: " ")
        let cut = dns.resolvConf(namespace: "a", resolver: .cluster(ResolvConf(searches: ["last.test"])), nodeFile: "search \(many)\n")
        #expect(cut.contains("d28.test\n") && !cut.contains("d29.test") && !cut.contains("last.test"))
    }
}
