import KeycardValues

/// ClusterIP allocation in the lab's service CIDR (`spec.lab.serviceCIDR`).
///
/// The API server allocates at random (pkg/registry/core/service/ipallocator), first from the
/// upper part of the range: since Kubernetes 1.26 (KEP-3070, ServiceIPStaticSubrange, GA 1.26) the
/// lower `staticOffset(of:)` addresses are kept for Services that pin one, and taken dynamically
/// only when the upper part is full. keycard allocates the lowest free address of the upper part
/// (then of the lower part), so a scenario gets the same addresses on every run, in apply order,
/// and a Service may pin an address of the lower part after others were allocated, as in a
/// cluster. Never allocated: the network address, the broadcast address, the first host
/// (`kubernetes.default`, 10.96.0.1 by default) and the tenth (`kube-dns`, 10.96.0.10), which
/// Kubernetes reserves by convention (kubeadm's `clusterDNS`).
public enum ServiceAddresses {
    /// 10.96.0.0/16, kubeadm's default `--service-cluster-ip-range`.
    public static let defaultCIDR = CIDR.ipv4(IPv4(0x0A60_0000), 16)

    /// The address of `kube-system/kube-dns` in `cidr` (10.96.0.10 by default).
    public static func dnsAddress(in cidr: CIDR) -> IPv4 { IPv4(cidr.network &+ 10) }

    /// Addresses no allocation hands out in `cidr`.
    public static func reserved(in cidr: CIDR) -> Set<IPv4> {
        [IPv4(cidr.network), IPv4(cidr.last), IPv4(cidr.network &+ 1), dnsAddress(in: cidr)]
    }

    /// How many addresses after the network address are kept for pinned ClusterIPs:
    /// `min(max(16, size / 16), 256)`, 0 for a range of 16 addresses or fewer
    /// (ipallocator's `calculateRangeOffset`); 256 for a /16, so 10.96.0.1 … 10.96.1.0.
    public static func staticOffset(of cidr: CIDR) -> UInt64 {
        let size = UInt64(cidr.size)
        guard size > 16 else { return 0 }
        return min(max(16, size / 16), 256)
    }

    /// The lowest free address of the upper part of `cidr` (after `staticOffset(of:)`), else of
    /// the lower part; nil when the range is full.
    public static func allocate(in cidr: CIDR, taken: Set<IPv4>) -> IPv4? {
        let reserved = reserved(in: cidr)
        let first = UInt64(cidr.network) + 1
        let last = UInt64(cidr.last)
        guard first < last else { return nil }
        let upper = min(first + staticOffset(of: cidr), last)
        for part in [upper..<last, first..<upper] {
            for candidate in part {
                let ip = IPv4(UInt32(candidate))
                if !taken.contains(ip) && !reserved.contains(ip) { return ip }
            }
        }
        return nil
    }
}
