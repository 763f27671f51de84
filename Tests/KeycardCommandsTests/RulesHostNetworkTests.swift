import Foundation
import KeycardTestSupport
import Testing

/// `keycard rules` prints the tables the lab programs, which know only pods with a namespace of
/// their own: a host-network pod runs in its node's namespace with the node's address, and no
/// NetworkPolicy or ClusterNetworkPolicy selects it (network-policy-api
/// clusternetworkpolicy_types.go: host-networked pods are not included in subject selection). It
/// had passed every planned pod, so node placement gave host-network pods tier chains and map
/// entries under the node's address (twice for two such pods) and, once one was deleted, put the
/// node's own address in `absent-pods`.
@Suite struct RulesHostNetworkTests {
    static func scenario(_ name: String, nodes: Int, resources: String, steps: String = "") -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: \(name)}
        spec:
          lab: {nodes: \(nodes), enforcement: node}
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: a}}
        \(resources)
        \(steps)
        """
    }

    static let twoHostPods = HostNetworkTierScenario.text(name: "rvc14")

    /// A host-network pod on node-0, deleted by the first step.
    static let deletedHostPod = scenario(
        "rvc17", nodes: 2,
        resources: """
                - {apiVersion: v1, kind: Pod, metadata: {name: hn, namespace: a}, spec: {hostNetwork: true, nodeName: node-0, containers: [{name: c, image: i, ports: [{containerPort: 9100}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: a}, spec: {nodeName: node-1, containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
            """,
        steps: """
              steps:
                - delete: [{kind: Pod, name: hn, namespace: a}]
                - probe: {from: [node/node-0], to: [a/web], ports: [TCP/80]}
            """)

    static func rules(_ text: String, _ arguments: [String]) throws -> KeycardBinary.Result {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("keycard-rules-hn-\(UUID().uuidString).yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try KeycardBinary.run(["rules", file.path] + arguments)
    }

    @Test func aNodeTableHoldsNoHostNetworkPod() throws {
        let result = try Self.rules(Self.twoHostPods, ["--node", "node-0"])
        #expect(result.status == 0, "\(result.stderr)")
        // node-0's address is 100.64.0.2: no map entry, chain or absent element names it or the pods.
        #expect(!result.stdout.contains("100.64.0.2 :"), "\(result.stdout)")
        #expect(!result.stdout.contains("a/h1") && !result.stdout.contains("a/h2"), "\(result.stdout)")
        #expect(result.stdout.contains("a/p"), "\(result.stdout)")
    }

    @Test func aDeletedHostNetworkPodLeavesItsNodeAddressOutOfAbsentPods() throws {
        for node in ["node-0", "node-1"] {
            let result = try Self.rules(Self.deletedHostPod, ["--node", node])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(!result.stdout.contains("100.64.0.2"), "\(node): \(result.stdout)")
        }
    }

    @Test func aHostNetworkPodHasNoPodTable() throws {
        let asked = try Self.rules(Self.twoHostPods, ["--pod", "a/h1"])
        #expect(asked.status == 2)
        #expect(asked.stdout.isEmpty, "\(asked.stdout)")
        #expect(asked.stderr.contains("uses the host network"), "\(asked.stderr)")
        let every = try Self.rules(Self.twoHostPods, ["--enforcement", "pod"])
        #expect(every.status == 0, "\(every.stderr)")
        #expect(every.stdout.contains("# pod a/p"), "\(every.stdout)")
        #expect(!every.stdout.contains("# pod a/h"), "\(every.stdout)")
    }
}
