import KeycardModel
import KeycardValues

/// What an external's address must not be (the lab's own blocks are `LabNetwork.reserved`).
public enum LabAddresses {
    /// Why `ip` cannot be an external's address, or nil.
    public static func externalProblem(_ ip: IPv4) -> String? {
        let first = ip.value >> 24
        if ip.value == 0 || first == 0 { return "is in 0.0.0.0/8" }
        if first == 127 { return "is a loopback address" }
        if first >= 224 { return "is multicast or reserved" }
        if let block = LabNetwork.reserved.first(where: { $0.contains(ip) }) { return "is in \(block), which the lab reserves" }
        return nil
    }

    /// Address blocks no lab range (pod, service, load-balancer CIDR) may touch, with why: "this
    /// network" (RFC 1122 3.2.1.3), loopback (never leaves a namespace), link-local (RFC 3927;
    /// istio-cni takes 169.254.7.127), and multicast and reserved space, which unicast sockets
    /// cannot use (RFC 5771, RFC 1112).
    static let unusableBlocks: [(block: CIDR, why: String)] = [
        (CIDR.ipv4(IPv4(0x0000_0000), 8), "0.0.0.0/8 (this network)"),
        (CIDR.ipv4(IPv4(0x7F00_0000), 8), "127.0.0.0/8 (loopback)"),
        (CIDR.ipv4(IPv4(0xA9FE_0000), 16), "169.254.0.0/16 (link-local)"),
        (CIDR.ipv4(IPv4(0xE000_0000), 3), "224.0.0.0/3 (multicast and reserved)"),
    ]

    /// Why `cidr` cannot be one of the lab's address ranges, or nil.
    public static func rangeProblem(_ cidr: CIDR) -> String? {
        unusableBlocks.first { $0.block.overlaps(cidr) }.map {
            "overlaps \($0.why), which no pod, Service or load balancer address can use"
        }
    }
}
