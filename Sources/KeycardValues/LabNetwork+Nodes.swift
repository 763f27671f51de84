extension LabNetwork {
    /// Node `index`'s address on its link to the router (the other end of /30 number `index` of
    /// `linkNetwork`, 100.64.0.2 for node-0): the node's InternalIP, where its node ports listen
    /// and the address Cluster-policy node-port traffic is source-NATed to. The topology planner
    /// gives the nodes these links first, so the model can name the address without a lab.
    public static func nodeAddress(_ index: Int) -> IPv4 { IPv4(linkNetwork.network + UInt32(index) * 4 + 2) }
}
