import Foundation
import Glibc
import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardKernel

@Suite(.serialized) struct LinkKernelTests {
    @Test func vethBornInBothNamespacesWithAddressesAndRoutes() throws {
        let scratch = try ScratchNamespaces(2)
        defer { scratch.remove() }
        let (a, b) = (scratch.names[0], scratch.names[1])
        let hostLinksBefore = try runWitness(["ip", "-j", "link"])
        let socketA = try LinkConfigurator.open(inNamespace: a)
        let socketB = try LinkConfigurator.open(inNamespace: b)
        let fdB = open(NetworkNamespace.path(b), O_RDONLY | O_CLOEXEC)
        #expect(fdB >= 0)
        defer { close(fdB) }
        try socketA.apply([
            .createVeth(name: "kcva", index: 5, peerName: "eth0", peerIndex: 7, peerNamespaceFD: fdB, up: true),
            .setLinkUp(index: 1),
            .addAddress(index: 5, address: "100.64.0.1", prefixLength: 30),
            .addRoute(
                RouteRequest(destination: .ipv4("10.98.0.0", 16), gateway: "100.64.0.2", outputIndex: 5)),
        ])
        try socketB.apply([
            .setLinkUp(index: 1),
            .setLinkUp(index: 7),
            .addAddress(index: 7, address: "10.98.0.5", prefixLength: 32),
            .addRoute(RouteRequest(destination: .host("169.254.1.1"), outputIndex: 7, scope: .link)),
            .addRoute(RouteRequest(destination: .any, gateway: "169.254.1.1", outputIndex: 7)),
            .addRoute(
                RouteRequest(
                    destination: .ipv4("10.97.0.0", 24), gateway: "100.64.7.7",
                    outputIndex: 7, onlink: true, preferredSource: "10.98.0.5")),
            .addBlackholeRoute(destination: .ipv4("10.96.0.0", 24)),
        ])

        let linksA = try ipJSON(a, ["link"])
        let vethA = linksA.first { $0["ifname"] as? String == "kcva" }
        #expect(vethA?["ifindex"] as? Int == 5)
        #expect((vethA?["flags"] as? [String])?.contains("UP") == true)
        #expect((linksA.first { $0["ifname"] as? String == "lo" }?["flags"] as? [String])?.contains("UP") == true)
        let linksB = try ipJSON(b, ["link"])
        #expect(linksB.first { $0["ifname"] as? String == "eth0" }?["ifindex"] as? Int == 7)
        #expect(linksB.first { $0["ifname"] as? String == "eth0" }?["operstate"] as? String == "UP")
        let addressesB = try ipJSON(b, ["-4", "addr", "show", "dev", "eth0"]).first?["addr_info"] as? [[String: Any]]
        #expect(addressesB?.map { "\($0["local"] ?? "")/\($0["prefixlen"] ?? "")" } == ["10.98.0.5/32"])
        let routesB = try ipJSON(b, ["route"]).map { route in
            ["dst", "gateway", "dev", "scope", "prefsrc"].compactMap { key in route[key].map { "\(key)=\($0)" } }
                .joined(separator: " ") + ((route["flags"] as? [String])?.contains("onlink") == true ? " onlink" : "")
        }
        #expect(
            routesB == [
                "dst=default gateway=169.254.1.1 dev=eth0",
                "dst=10.96.0.0/24",
                "dst=10.97.0.0/24 gateway=100.64.7.7 dev=eth0 prefsrc=10.98.0.5 onlink",
                "dst=169.254.1.1 dev=eth0 scope=link",
            ])
        #expect(try ipJSON(b, ["route", "show", "type", "blackhole"]).map { "\($0["dst"] ?? "")" } == ["10.96.0.0/24"])
        let routesA = try ipJSON(a, ["route"]).map { "\($0["dst"] ?? "") \($0["gateway"] ?? "-")" }
        #expect(routesA.contains("10.98.0.0/16 100.64.0.2"))
        // Nothing was born in (or moved through) the host namespace.
        #expect(try runWitness(["ip", "-j", "link"]) == hostLinksBefore)
    }

    @Test(arguments: [
        (LinkRequest.addAddress(index: 99, address: IPv4(0x0A00_0001), prefixLength: 32), ENODEV, "ifindex 99"),
        (LinkRequest.setLinkUp(index: 42), ENODEV, "ifindex 42"),
        (
            LinkRequest.addRoute(RouteRequest(destination: .any, gateway: IPv4(0x0A00_0001), outputIndex: 1)),
            ENETUNREACH, "0.0.0.0/0 via 10.0.0.1"
        ),
    ])
    func failuresNameTheObjectAndErrno(request: LinkRequest, code: Int32, fragment: String) throws {
        let scratch = try ScratchNamespaces(1)
        defer { scratch.remove() }
        let socket = try LinkConfigurator.open(inNamespace: scratch.names[0])
        #expect {
            try socket.apply([.setLinkUp(index: 1), request])
        } throws: { error in
            guard let error = error as? KernelError else { return false }
            return error.errno == code && error.subject.contains(fragment) && error.subject.contains(scratch.names[0])
        }
    }

    /// Fixed MACs at creation and permanent neighbours: what `ip` reports, and a ping-free check
    /// that the kernel never needed ARP (the entry stays PERMANENT after traffic).
    @Test func fixedMACsAndPermanentNeighbours() throws {
        let scratch = try ScratchNamespaces(2)
        defer { scratch.remove() }
        let (a, b) = (scratch.names[0], scratch.names[1])
        let fdB = open(NetworkNamespace.path(b), O_RDONLY | O_CLOEXEC)
        defer { close(fdB) }
        let pod: IPv4 = "10.98.0.5"
        let (nodeMAC, podMAC) = (MACAddress.nodeSide(of: pod), MACAddress.podSide(of: pod))
        try LinkConfigurator.open(inNamespace: a).apply([
            .createVeth(
                name: "kcp0", index: 3, peerName: "eth0", peerIndex: 2, peerNamespaceFD: fdB, up: true, mac: nodeMAC, peerMAC: podMAC),
            .addAddress(index: 3, address: LabNetwork.podGateway, prefixLength: 32),
            .addNeighbour(index: 3, address: pod, mac: podMAC),
        ])
        try LinkConfigurator.open(inNamespace: b).apply([
            .setLinkUp(index: 2),
            .addAddress(index: 2, address: pod, prefixLength: 32),
            .addNeighbour(index: 2, address: LabNetwork.podGateway, mac: nodeMAC),
        ])
        #expect(try ipJSON(a, ["link", "show", "kcp0"]).first?["address"] as? String == nodeMAC.description)
        #expect(try ipJSON(b, ["link", "show", "eth0"]).first?["address"] as? String == podMAC.description)
        let neighboursA = try ipJSON(a, ["-4", "neigh"])
        #expect(neighboursA.count == 1)
        #expect(neighboursA.first?["dst"] as? String == pod.description)
        #expect(neighboursA.first?["lladdr"] as? String == podMAC.description)
        #expect(neighboursA.first?["state"] as? [String] == ["PERMANENT"])
        let neighboursB = try ipJSON(b, ["-4", "neigh"])
        #expect(neighboursB.first?["dst"] as? String == "169.254.1.1")
        #expect(neighboursB.first?["state"] as? [String] == ["PERMANENT"])
    }

    @Test func duplicateVethIsRefusedWithEEXIST() throws {
        let scratch = try ScratchNamespaces(2)
        defer { scratch.remove() }
        let socket = try LinkConfigurator.open(inNamespace: scratch.names[0])
        let peer = open(NetworkNamespace.path(scratch.names[1]), O_RDONLY | O_CLOEXEC)
        defer { close(peer) }
        let veth = LinkRequest.createVeth(name: "kcp0", index: 3, peerName: "eth0", peerIndex: 2, peerNamespaceFD: peer, up: false)
        try socket.apply([veth])
        do {
            try socket.apply([veth])
            Issue.record("second veth with the same name succeeded")
        } catch {
            #expect(error.errno == EEXIST || error.errno == EBUSY)
            #expect(error.description.contains("kcp0"))
        }
    }

    @Test func manyRequestsSpanSeveralBatches() throws {
        let scratch = try ScratchNamespaces(1)
        defer { scratch.remove() }
        let socket = try LinkConfigurator.open(inNamespace: scratch.names[0])
        let addresses = (1...300).map { LinkRequest.addAddress(index: 1, address: IPv4(0x0A63_0000 + UInt32($0)), prefixLength: 32) }
        try socket.apply([.setLinkUp(index: 1)] + addresses)
        let info = try ipJSON(scratch.names[0], ["addr", "show", "dev", "lo"]).first?["addr_info"] as? [[String: Any]]
        #expect(info?.filter { ($0["local"] as? String)?.hasPrefix("10.99.") == true }.count == 300)
    }

    @Test func sysctlWritesFollowTheNamespace() throws {
        let scratch = try ScratchNamespaces(2)
        defer { scratch.remove() }
        let hostBefore = try Sysctl.read("net/ipv4/ip_forward")
        try Sysctl.write("net/ipv4/ip_forward", "1", inNamespace: scratch.names[0])
        #expect(try Sysctl.read("net/ipv4/ip_forward", inNamespace: scratch.names[0]) == "1")
        #expect(try runWitness(["ip", "netns", "exec", scratch.names[0], "cat", "/proc/sys/net/ipv4/ip_forward"]) == "1\n")
        #expect(try runWitness(["ip", "netns", "exec", scratch.names[1], "cat", "/proc/sys/net/ipv4/ip_forward"]) == "0\n")
        #expect(try Sysctl.read("net/ipv4/ip_forward") == hostBefore)
    }

    @Test func spawnedProcessLivesInTheNamespaceAndStops() throws {
        let scratch = try ScratchNamespaces(1)
        defer { scratch.remove() }
        let log = "/tmp/kc-spawn-\(UInt32.random(in: 0...UInt32.max)).log"
        defer { unlink(log) }
        let pid = try NamespacedProcess.spawn(["sh", "-c", "echo started; exec sleep 30"], inNamespace: scratch.names[0], logPath: log)
        let inode = try #require(NetworkNamespace.inode(of: scratch.names[0]))
        #expect(ProcessTable.namespaceInode(of: pid) == inode)
        #expect(ProcessTable.namespaceInode(of: getpid()) != inode)
        #expect(ProcessTable.pids(inNamespaceInodes: [inode]) == [pid])
        #expect(ProcessTable.startTime(of: pid) != nil)
        // The program runs with default signal handling: let it write its line before stopping it.
        let deadline = ContinuousClock.now + .seconds(5)
        while (try? String(contentsOfFile: log, encoding: .utf8)) != "started\n" && ContinuousClock.now < deadline {
            usleep(5_000)
        }
        ProcessTable.stop([pid])
        #expect(ProcessTable.hasExited(pid))
        #expect(ProcessTable.pids(inNamespaceInodes: [inode]).isEmpty)
        #expect((try? String(contentsOfFile: log, encoding: .utf8)) == "started\n")
    }
}
