/// An Ethernet (EUI-48) address, six octets in wire order. keycard gives every pod veth end a
/// fixed, locally administered address derived from the pod's IPv4 address, so its neighbour
/// entries can be written once, permanent, at bring-up (see `podSide(of:)`).
public struct MACAddress: Hashable, Sendable, Codable, CustomStringConvertible {
    public var octets: [UInt8]

    /// Six octets; fewer or more is a programming error.
    public init(_ octets: [UInt8]) {
        precondition(octets.count == 6, "a MAC address has six octets")
        self.octets = octets
    }

    /// The pod end of a pod's veth: `0a:58:` and the pod's IPv4 octets, the convention of the
    /// Kubernetes CNI bridge plugin (locally administered, unicast, unique per pod address).
    public static func podSide(of address: IPv4) -> MACAddress { MACAddress([0x0A, 0x58] + address.octets) }

    /// The node end of a pod's veth (the pod's gateway 169.254.1.1): `0a:59:` and the pod's octets,
    /// so each link's two ends differ and no two links share an address.
    public static func nodeSide(of address: IPv4) -> MACAddress { MACAddress([0x0A, 0x59] + address.octets) }

    /// `0a:58:0a:f4:00:05`.
    public var description: String {
        octets.map { byte in
            let text = String(byte, radix: 16)
            return text.count == 1 ? "0" + text : text
        }.joined(separator: ":")
    }
}
