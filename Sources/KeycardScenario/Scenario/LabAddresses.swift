import KeycardModel
import KeycardValues

/// Addresses the lab itself uses, which pods and externals must not take.
public enum LabAddresses {
    /// The link-local gateway every pod routes through (Calico's choice too).
    public static let podGateway = IPv4(0xA9FE_0101)  // 169.254.1.1
    /// Point-to-point links between nodes, externals and the underlay router.
    public static let underlay = CIDR.ipv4(IPv4(0x6440_0000), 16)  // 100.64.0.0/16

    /// Blocks a pod CIDR must not overlap.
    public static let reserved: [CIDR] = [
        CIDR.ipv4(IPv4(0xA9FE_0100), 24), underlay,  // 169.254.1.0/24
    ]

    /// Why `ip` cannot be an external's address, or nil.
    public static func externalProblem(_ ip: IPv4) -> String? {
        let first = ip.value >> 24
        if ip.value == 0 || first == 0 { return "is in 0.0.0.0/8" }
        if first == 127 { return "is a loopback address" }
        if first >= 224 { return "is multicast or reserved" }
        if let block = reserved.first(where: { $0.contains(ip) }) { return "is in \(block), which the lab reserves" }
        return nil
    }
}
