extension LabNetwork {
    /// Node `index`'s own address: the node end of its /30 link to the lab router (link `index`,
    /// host 2, in `linkNetwork`). It is the address a node's own sockets use (as a kubelet's
    /// would), and the one policies see for traffic a node sends; the lab's plan gives the node
    /// this address (`PlannedNode.uplinkAddress`).
    public static func nodeAddress(_ index: Int) -> IPv4 {
        IPv4(linkNetwork.network + UInt32(index) * 4 + 2)
    }
}
