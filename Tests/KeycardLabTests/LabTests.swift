import Foundation
import Glibc
import KeycardKernel
import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardLab
@testable import KeycardTopology

@Suite(.serialized) struct LabTests {
    @Test(arguments: [1, 3])
    func ninePodsComeUpRoutedAndTearDownClean(nodes: Int) throws {
        let name = uniqueLabName("t\(nodes)")
        let hostBefore = try hostSnapshot()
        let spec = LabSpec(
            labName: name, nodes: nodes, pods: ninePods(),
            externals: [ExternalSpec(name: "web", ip: "198.51.100.10", ports: [.init(.tcp, 443)])])
        let lab = try Lab.up(spec: spec)
        defer { _ = try? Lab.down(name: name) }
        let plan = lab.plan

        // Every pod: its address on eth0 and its two routes, as `ip` sees them.
        for pod in plan.pods {
            let info = try ipJSON(pod.netns, ["-4", "addr", "show", "dev", "eth0"]).first?["addr_info"] as? [[String: Any]]
            #expect(info?.map { "\($0["local"] ?? "")/\($0["prefixlen"] ?? "")" } == ["\(pod.address)/32"], "\(pod.key)")
            let routes = try ipJSON(pod.netns, ["route"]).map { "\($0["dst"] ?? "") \($0["gateway"] ?? "-") \($0["dev"] ?? "")" }
            #expect(routes == ["default 169.254.1.1 eth0", "169.254.1.1 - eth0"], "\(pod.key)")
            let nodeRoutes = try ipJSON(plan.nodes[pod.nodeIndex].namespace, ["route"]).map { "\($0["dst"] ?? "") \($0["dev"] ?? "")" }
            #expect(nodeRoutes.contains("\(pod.address) \(pod.nodeInterface)"))
        }
        for node in plan.nodes {
            #expect(try Sysctl.read("net/ipv4/ip_forward", inNamespace: node.namespace) == "1")
        }
        #expect(try Sysctl.read("net/ipv4/ip_forward", inNamespace: plan.router) == "1")
        #expect(Set(Lab.namespaces(of: name)) == Set(plan.namespaces.map(\.name)))
        #expect(lab.endpoints.count == 9 * 4 + 1)

        // Every pod reaches every other pod and the external over TCP.
        var listeners = try plan.pods.map { try TCPCheck.listen(in: $0.netns, $0.address, 80) }
        listeners.append(try TCPCheck.listen(in: plan.externals[0].netns, plan.externals[0].address, 443))
        defer { for fd in listeners { close(fd) } }
        for source in plan.pods {
            for target in plan.pods where target != source {
                #expect(try TCPCheck.canConnect(from: source.netns, to: target.address, port: 80), "\(source.key) -> \(target.key)")
            }
            #expect(try TCPCheck.canConnect(from: source.netns, to: plan.externals[0].address, port: 443), "\(source.key) -> web")
        }
        // A closed port is refused, not silently reachable: the check can fail.
        #expect(try !TCPCheck.canConnect(from: plan.pods[0].netns, to: plan.pods[1].address, port: 9))

        try Lab.down(name: name)
        #expect(Lab.namespaces(of: name).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: LabPaths.directory(name)))
        #expect(try hostSnapshot() == hostBefore)
        try Lab.down(name: name)  // idempotent
    }

    /// A SYN to an address of the node's slice that no pod holds (what a scan of the pod CIDR sends
    /// by the hundred) is dropped at the node by its blackhole route. Without it, it bounced between
    /// the node's default route and the router's slice route until its TTL ran out (32 round trips).
    @Test func anUnusedSliceAddressIsDroppedAtTheNodeNotLoopedThroughTheRouter() throws {
        let name = uniqueLabName("hole")
        let lab = try Lab.up(spec: LabSpec(labName: name, pods: [PodSpec(namespace: "x", name: "a")]))
        defer { _ = try? Lab.down(name: name) }
        let plan = lab.plan
        let unused = IPv4(plan.nodes[0].slice.network + 200)
        #expect(!plan.pods.contains { $0.address == unused })
        func routerReceived() throws -> Int {
            let link = try ipJSON(plan.router, ["-s", "link"]).first { ($0["ifname"] as? String)?.hasPrefix("kcn") == true }
            return try #require(((link?["stats64"] as? [String: Any])?["rx"] as? [String: Any])?["packets"] as? Int)
        }
        let before = try routerReceived()
        #expect(try !TCPCheck.canConnect(from: plan.pods[0].netns, to: unused, port: 80))
        // A loop brings the SYN back to the router 32 times (TTL 64, two hops a round); a few
        // packets of the links' own IPv6 neighbour discovery may pass meanwhile.
        let received = try routerReceived() - before
        #expect(received < 16, "the SYN looped between node and router: \(received) packets")
        let blackholes = try ipJSON(plan.nodes[0].namespace, ["route", "show", "type", "blackhole"]).map { "\($0["dst"] ?? "")" }
        #expect(blackholes == ["\(plan.nodes[0].slice)"])
    }

    @Test func commandsRunInsidePodNamespacesAndStopAtTearDown() throws {
        let name = uniqueLabName("cmd")
        let pods = [
            PodSpec(namespace: "x", name: "a", command: ["sh", "-c", "echo hello from a; exec sleep 60"]),
            PodSpec(namespace: "x", name: "b"),
        ]
        let lab = try Lab.up(spec: LabSpec(labName: name, pods: pods))
        defer { _ = try? Lab.down(name: name) }
        let process = try #require(lab.processes.first)
        #expect(lab.processes.count == 1)
        #expect(ProcessTable.namespaceInode(of: process.pid) == NetworkNamespace.inode(of: "kc-\(name).pod.x.a"))
        let state = try #require(try LabState.read(name))
        #expect(state.phase == .ready)
        #expect(state.processes.map(\.pid) == [process.pid])
        var log = ""
        for _ in 0..<100 where !log.contains("hello") {
            log = (try? String(contentsOfFile: process.logPath, encoding: .utf8)) ?? ""
            usleep(10_000)
        }
        #expect(log == "hello from a\n")
        #expect(process.logPath == "/run/keycard/\(name)/x.a.log")
        try Lab.down(name: name)
        #expect(ProcessTable.hasExited(process.pid))
    }

    @Test func nameInUseIsRefused() throws {
        let name = uniqueLabName("dup")
        _ = try Lab.up(spec: LabSpec(labName: name, pods: [PodSpec(namespace: "x", name: "a")]))
        defer { _ = try? Lab.down(name: name) }
        #expect {
            _ = try Lab.up(spec: LabSpec(labName: name))
        } throws: { error in
            "\(error)".contains("lab \"\(name)\" is already in use")
        }
        // The refused attempt must not have touched the running lab.
        #expect(Lab.status(name).isComplete)

        // A stray namespace alone (no state directory) also blocks the name.
        let stray = uniqueLabName("stray")
        try NetworkNamespace.create("kc-\(stray).node0")
        defer { try? NetworkNamespace.delete("kc-\(stray).node0") }
        #expect {
            _ = try Lab.up(spec: LabSpec(labName: stray))
        } throws: { error in
            "\(error)".contains("namespace kc-\(stray).node0 exists")
        }
    }

    /// A lab process (`keycard serve LAB`) whose start raced a tear-down is in no state file
    /// and in no lab namespace: `down` finds it by its command line.
    @Test func downStopsAnUnrecordedLabProcessByItsCommandLine() throws {
        let name = uniqueLabName("orphan")
        let directory = NSTemporaryDirectory() + "keycard-orphan-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // `sh serve NAME` reads the script ./serve; `exec -a` makes its command line `keycard serve NAME`.
        try "sleep 20\ntrue\n".write(toFile: directory + "/serve", atomically: true, encoding: .utf8)
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/bash")
        shell.currentDirectoryURL = URL(fileURLWithPath: directory)
        shell.arguments = ["-c", "exec -a keycard /bin/sh serve \(name)"]
        try shell.run()
        var found: [pid_t] = []
        for _ in 0..<200 where found.isEmpty {
            found = ProcessTable.pids(runningArguments: ["serve", name], programName: "keycard")
            if found.isEmpty { usleep(10_000) }
        }
        #expect(found == [shell.processIdentifier])
        #expect(ProcessTable.pids(runningArguments: ["serve", name + "x"], programName: "keycard").isEmpty)
        try Lab.down(name: name)
        shell.waitUntilExit()
        #expect(ProcessTable.pids(runningArguments: ["serve", name], programName: "keycard").isEmpty)
    }

    @Test func downCleansAHalfBuiltLabWithoutStateFile() throws {
        let name = uniqueLabName("half")
        // What a crash after a few steps leaves: namespaces, a veth, a running program; no state.
        let node = "kc-\(name).node0"
        let pod = "kc-\(name).pod.x.a"
        try NetworkNamespace.create(node)
        try NetworkNamespace.create(pod)
        let peer = try NetworkNamespace.openDescriptor(pod)
        try LinkConfigurator.open(inNamespace: node).apply([
            .createVeth(name: "kcp0", index: 3, peerName: "eth0", peerIndex: 2, peerNamespaceFD: peer.raw, up: true)
        ])
        let pid = try NamespacedProcess.spawn(["sleep", "60"], inNamespace: pod, logPath: "/dev/null")
        #expect(Lab.labNames().contains(name))
        #expect(!Lab.status(name).isComplete)

        try Lab.down(name: name)
        #expect(Lab.namespaces(of: name).isEmpty)
        #expect(ProcessTable.hasExited(pid))
        #expect(!Lab.labNames().contains(name))
    }

    @Test func failedBringUpRollsBack() throws {
        let name = uniqueLabName("fail")
        var plan = try TopologyPlanner.plan(LabSpec(labName: name, pods: ninePods()))
        // Sabotage: one veth twice, so the kernel refuses it (EEXIST) midway through bring-up.
        plan.links.append(plan.links[3])
        let hostBefore = try hostSnapshot()
        #expect {
            _ = try Lab.up(plan: plan)
        } throws: { error in
            let text = "\(error)"
            return text.contains("create veth pairs failed") && text.contains("kcp2") && text.contains("File exists")
        }
        #expect(Lab.namespaces(of: name).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: LabPaths.directory(name)))
        #expect(try hostSnapshot() == hostBefore)
    }

    @Test func stateIsWrittenBeforeNamespacesAndListed() throws {
        let name = uniqueLabName("state")
        let lab = try Lab.up(spec: LabSpec(labName: name, nodes: 2, pods: ninePods()))
        defer { _ = try? Lab.down(name: name) }
        let summary = try #require(Lab.list().first { $0.name == name })
        #expect(summary.isComplete)
        #expect(summary.plan == lab.plan)
        #expect(summary.endpoints == lab.endpoints)
        #expect(
            summary.plan?.pods.map(\.nodeName) == [
                "node-0", "node-1", "node-0", "node-1", "node-0", "node-1", "node-0", "node-1", "node-0",
            ])
    }
}
