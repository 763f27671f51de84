extension LabNetwork {
    /// Node `index`'s own address: the node end of its /30 link to the lab router (link `index`,
    /// host 2, in `linkNetwork`; 100.64.0.2 for node-0). The node's InternalIP: the address its own
    /// sockets use (as a kubelet's would) and policies see for traffic it sends, where its node
    /// ports listen, and the address Cluster-policy node-port traffic is source-NATed to. The lab's
    /// plan gives the node this address (`PlannedNode.uplinkAddress`), so the model can name it
    /// without a lab.
    public static func nodeAddress(_ index: Int) -> IPv4 { IPv4(linkNetwork.network + UInt32(index) * 4 + 2) }

    /// Whether `ip` is the lab router's end of one of its /30 links (host 1 of each, 100.64.0.1
    /// for node-0's): plumbing no Kubernetes cluster has, which answers any TCP port with a reset.
    public static func isRouterAddress(_ ip: IPv4) -> Bool {
        linkNetwork.contains(ip) && (ip.value &- linkNetwork.network) % 4 == 1
    }
}
