import Foundation
import Glibc
import KeycardKernel
import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardLab
@testable import KeycardTopology

/// Host-network pods in a real lab (as root): no namespace, veth or address of their own; their
/// program runs in their node's namespace, where a server on the node's address is reached from
/// pods, and their connections leave with the node's address.
@Suite(.serialized) struct HostNetworkLabTests {
    @Test func aHostNetworkPodLivesInItsNodesNamespace() throws {
        let name = uniqueLabName("hnet")
        let hostBefore = try hostSnapshot()
        var host = PodSpec(
            namespace: "x", name: "h", nodeName: "node-1", ports: [.init(.tcp, 9100)], command: ["sh", "-c", "exec sleep 60"])
        host.hostNetwork = true
        let pods = [PodSpec(namespace: "x", name: "a", nodeName: "node-0", ports: [.init(.tcp, 80)]), host]
        let lab = try Lab.up(spec: LabSpec(labName: name, nodes: 2, pods: pods))
        defer { _ = try? Lab.down(name: name) }
        let plan = lab.plan
        let node = plan.nodes[1]

        // Planned on node-1's namespace and address, with nothing built for it.
        #expect(plan.pods.map(\.key) == ["x/a"])
        let planned = try #require(plan.hostNetworkPods.first)
        #expect(planned.key == "x/h" && planned.hostNetwork)
        #expect(planned.netns == node.namespace)
        #expect(planned.address == IPv4("100.64.0.6"))
        #expect(planned.address == node.uplinkAddress)
        #expect(!plan.namespaces.contains { $0.name.hasSuffix(".pod.x.h") })
        #expect(Set(Lab.namespaces(of: name)) == Set(plan.namespaces.map(\.name)))
        #expect(
            lab.endpoints.contains {
                $0.owner == "x/h" && $0.netns == node.namespace && $0.address == node.uplinkAddress && $0.port == 9100
            })

        // Its program runs in the node's namespace.
        let process = try #require(lab.processes.first)
        #expect(process.pod == "x/h")
        #expect(ProcessTable.namespaceInode(of: process.pid) == NetworkNamespace.inode(of: node.namespace))

        // A server in the node namespace on the node's address is reached from the pod on node-0;
        // the pod's own server is reached from the node namespace (the host pod as a source).
        let pod = plan.pods[0]
        let listeners = [
            try TCPCheck.listen(in: node.namespace, node.uplinkAddress, 9100), try TCPCheck.listen(in: pod.netns, pod.address, 80),
        ]
        defer { for fd in listeners { close(fd) } }
        #expect(try TCPCheck.canConnect(from: pod.netns, to: planned.address, port: 9100))
        #expect(try TCPCheck.canConnect(from: planned.netns, to: pod.address, port: 80))
        #expect(try !TCPCheck.canConnect(from: pod.netns, to: planned.address, port: 9101), "a closed node port is refused")

        try Lab.down(name: name)
        #expect(ProcessTable.hasExited(process.pid))
        #expect(Lab.namespaces(of: name).isEmpty)
        #expect(try hostSnapshot() == hostBefore)
    }
}
