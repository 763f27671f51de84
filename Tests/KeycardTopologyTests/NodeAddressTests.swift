import KeycardTopology
import KeycardValues
import Testing

/// The model names a node's address without a lab (`LabNetwork.nodeAddress`, for node ports and
/// the source NAT of externalTrafficPolicy Cluster); the planner must give the nodes exactly those.
@Suite struct NodeAddressTests {
    @Test(arguments: [1, 2, 5])
    func plannedUplinksAreTheModelsNodeAddresses(_ nodes: Int) throws {
        let plan = try TopologyPlanner.plan(
            LabSpec(labName: "t", nodes: nodes, externals: [ExternalSpec(name: "client", ip: IPv4(0xCB00_710A))]))
        #expect(plan.nodes.map(\.uplinkAddress) == (0..<nodes).map(LabNetwork.nodeAddress))
    }
}
