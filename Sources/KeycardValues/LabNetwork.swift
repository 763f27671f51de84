/// The addresses keycard's lab plumbing takes for itself: one definition for the scenario's checks
/// and the lab's plan.
public enum LabNetwork {
    /// The link-local gateway every pod routes through, the node side of each pod veth (Calico's
    /// choice too).
    public static let podGateway = IPv4(0xA9FE_0101)  // 169.254.1.1
    /// The pod gateway's block. Only this part of 169.254.0.0/16 is taken, so an external can play
    /// the cloud metadata service at 169.254.169.254.
    public static let linkLocal = CIDR.ipv4(IPv4(0xA9FE_0100), 24)  // 169.254.1.0/24
    /// Point-to-point /30 links between the router and each node and external.
    public static let linkNetwork = CIDR.ipv4(IPv4(0x6440_0000), 16)  // 100.64.0.0/16
    /// Blocks no pod CIDR or external address may overlap.
    public static let reserved = [linkLocal, linkNetwork]
}
