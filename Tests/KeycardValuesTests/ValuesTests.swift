import KeycardValues
import Testing

/// The one home of addresses, blocks, ranges and protocols: text forms both ways.
@Suite struct ValuesTests {
    @Test(arguments: ["10.0.0.1", "255.255.255.255", "0.0.0.0"])
    func ipv4RoundTrip(_ text: String) {
        #expect(IPv4(text)?.description == text)
    }

    /// Leading zeros are refused: `010` would be octal to inet_aton and decimal to Go's parser.
    @Test(arguments: ["10.0.0", "10.0.0.256", "a.b.c.d", "1.2.3.4.5", "", "010.0.0.1", " 10.0.0.1"])
    func ipv4Rejects(_ text: String) {
        #expect(IPv4(text) == nil)
    }

    @Test func ipv4Octets() {
        #expect(IPv4("10.244.0.7")?.octets == [10, 244, 0, 7])
    }

    @Test("only the pod's own proxy ports (its address or loopback) are ones its proxy must not follow; another address's are dialled")
    func ownProxyPortsAreOnlyThePodsOwn() throws {
        let pod = try #require(IPv4("10.244.0.7"))
        let loopback = try #require(IPv4("127.0.0.1"))
        let others = try ["10.244.0.8", "10.96.0.11"].map { try #require(IPv4($0)) }
        for port in MeshDataPath.proxyPorts {
            #expect(MeshDataPath.reachesOwnProxy(address: pod, port: port, podAddress: pod))
            #expect(MeshDataPath.reachesOwnProxy(address: loopback, port: port, podAddress: pod))
            for other in others { #expect(!MeshDataPath.reachesOwnProxy(address: other, port: port, podAddress: pod)) }
        }
        #expect(!MeshDataPath.reachesOwnProxy(address: pod, port: 8080, podAddress: pod))
    }

    @Test(arguments: [("10.244.0.0/16", "10.244.0.0/16"), ("1.2.3.4", "1.2.3.4/32"), ("0.0.0.0/0", "0.0.0.0/0")])
    func exactBlocks(text: String, expected: String) {
        #expect(CIDR.parseExact(text)?.description == expected)
    }

    @Test(arguments: ["1.2.3", "256.1.1.1", "01.2.3.4", "1.2.3.4/33", "10.0.0.1/24", "fd00::/8", "10.0.0.0/08", ""])
    func exactBlocksRefuse(_ text: String) {
        #expect(CIDR.parseExact(text) == nil)
    }

    @Test func blockArithmetic() throws {
        let block = try #require(CIDR.parseExact("10.244.0.0/16"))
        #expect(block.size == 65_536)
        #expect(block.firstAddress.description == "10.244.0.0" && block.lastAddress.description == "10.244.255.255")
        #expect(block.subnet(1, extraBits: 1)?.description == "10.244.128.0/17")
        #expect(block.overlaps(CIDR.host(IPv4("10.244.3.4")!)))
        #expect(!block.overlaps(CIDR.parse("fd00::/8")!))
    }

    @Test(arguments: [
        ("10.0.0.7", "10.0.0.7", "10.0.0.7"), ("10.0.0.0", "10.0.0.255", "10.0.0.0/24"),
        ("10.1.0.5", "10.1.0.1", "10.1.0.1-10.1.0.5"), ("0.0.0.0", "255.255.255.255", "0.0.0.0/0"),
    ])
    func rangeText(_ a: String, _ b: String, _ text: String) {
        #expect(IPv4Range(IPv4(a)!, IPv4(b)!).description == text)
    }

    @Test func protocolsAndPorts() {
        #expect(ProtocolPort.parse("UDP/53") == ProtocolPort(.udp, 53))
        #expect(ProtocolPort.parse("udp/53") == nil)
        #expect(TransportProtocol.sctp.number == 132 && TransportProtocol.tcp.lowercased == "tcp")
    }
}

/// resolv.conf values as the kubelet builds them (`appendDNSConfig`, `mergeDNSOptions`).
@Suite struct ResolvConfTests {
    @Test func clusterFirstWithDNSConfig() {
        let cluster = ResolvConf.clusterFirst(nameservers: ["10.96.0.10"], namespace: "x", domain: "cluster.local")
        #expect(cluster.ndots == 5)
        let merged = cluster.appending(
            ResolvConf(
                nameservers: ["10.96.0.10", "1.1.1.1"], searches: ["svc.cluster.local", "corp.test"], options: ["ndots:2", "edns0"]))
        #expect(merged.nameservers == ["10.96.0.10", "1.1.1.1"])
        #expect(merged.searches == ["x.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.test"])
        #expect(merged.options == ["edns0", "ndots:2"])
        #expect(merged.ndots == 2)
        #expect(
            merged.text
                == "nameserver 10.96.0.10\nnameserver 1.1.1.1\nsearch x.svc.cluster.local svc.cluster.local cluster.local corp.test\noptions edns0 ndots:2\n"
        )
        // resolv.conf(5): ndots defaults to 1 and is capped at 15.
        #expect(ResolvConf().ndots == 1)
        #expect(ResolvConf(options: ["ndots:40"]).ndots == 15)
        #expect(ResolvConf(nameservers: ["192.0.2.53"]).text == "nameserver 192.0.2.53\n")
    }

    /// A node's file as the kubelet reads it (`parseResolvConf`): nameservers accumulate, the last
    /// `search` and the last `options` line win, trailing dots and every other line dropped; a
    /// Default pod's `dnsConfig` is then appended to it (`GetPodDNS`).
    @Test func nodeFileAsTheKubeletParsesIt() {
        let node = ResolvConf(
            kubeletParsing:
                "# stub\nnameserver 192.0.2.53 # x\ndomain corp.test\nsearch old.test\r\nsearch corp.test. . lab.test\noptions rotate\n options edns0 trust-ad\nnameserver 192.0.2.54\nnameserver\n"
        )
        #expect(
            node
                == ResolvConf(
                    nameservers: ["192.0.2.53", "192.0.2.54"], searches: ["corp.test", "lab.test"], options: ["edns0", "trust-ad"]))
        let pod = node.appending(ResolvConf(nameservers: ["10.96.0.10"], searches: ["a.svc.cluster.local"], options: ["ndots:2"]))
        #expect(
            pod.text
                == "nameserver 192.0.2.53\nnameserver 192.0.2.54\nnameserver 10.96.0.10\nsearch corp.test lab.test a.svc.cluster.local\noptions edns0 ndots:2 trust-ad\n"
        )
    }

    /// The options a `dns` step's resolver takes from the pod's file (glibc's res_setoptions):
    /// `use-vc` by prefix, `timeout` at most 30, `attempts` at most 5, the last of each winning.
    @Test func resolverOptions() {
        let conf = ResolvConf(options: ["attempts:2", "edns0", "timeout:90", "attempts:9", "use-vc"])
        #expect(conf.usesTCP && conf.timeout == 30 && conf.attempts == 5)
        #expect(!ResolvConf(options: ["edns0"]).usesTCP && ResolvConf().timeout == nil && ResolvConf().attempts == nil)
    }

    /// `formDNSConfigFitsLimits`: 3 nameservers, 32 searches, none over 253 characters, a search
    /// line of at most 2048 characters (the last ones dropped).
    @Test func kubeletLimits() {
        let long = String(repeating: "a", count: 254)
        let many = (0..<40).map { "s\($0).example" }
        let fitted = ResolvConf(nameservers: ["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"], searches: [long] + many).fittingKubeletLimits()
        #expect(fitted.nameservers.count == 3)
        #expect(fitted.searches == Array(many.prefix(31)))
        let wide = (0..<20).map { String(repeating: "w", count: 120) + "\($0)" }
        let cut = ResolvConf(searches: wide).fittingKubeletLimits()
        #expect(cut.searches.joined(separator: " ").utf8.count <= 2048 && cut.searches == Array(wide.prefix(cut.searches.count)))
        #expect(cut.searches.count == 16)
    }
}

/// A lab a verb builds beside another (`generate --prove`, `diff --prove`) keeps its prefix and
/// stays a valid lab name, however long the base.
@Suite struct DerivedLabNameTests {
    @Test(arguments: [
        ("shop", "proof123", "shop-proof123"), (String(repeating: "a", count: 24), "proof4194304", "aaaaaaaaaaa-proof4194304"),
        ("abcdefghijk-lmnop", "old77", "abcdefghijk-lmnop-old77"), ("abcdefghijklmn-opq", "new12345", "abcdefghijklmn-new12345"),
    ])
    func keepsThePrefixAndFits(_ base: String, _ role: String, _ expected: String) {
        let name = LabName.derived(from: base, role: role)
        #expect(LabName.isValid(name), "\(name)")
        #expect(name.utf8.count <= LabName.maxLength)
        #expect(name == expected)
    }
}
