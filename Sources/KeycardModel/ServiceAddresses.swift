import KeycardValues

/// ClusterIP allocation in the lab's service CIDR (`spec.lab.serviceCIDR`).
///
/// The API server allocates at random (pkg/registry/core/service/ipallocator); keycard allocates
/// the lowest free address from the 11th on, so a scenario gets the same addresses on every run and
/// they read in apply order. Never allocated: the network address, the broadcast address, the
/// first host (`kubernetes.default`, 10.96.0.1 by default) and the tenth (`kube-dns`, 10.96.0.10),
/// which Kubernetes reserves by convention (kubeadm's `clusterDNS`).
public enum ServiceAddresses {
    /// 10.96.0.0/16, kubeadm's default `--service-cluster-ip-range`.
    public static let defaultCIDR = CIDR.ipv4(IPv4(0x0A60_0000), 16)

    /// The address of `kube-system/kube-dns` in `cidr` (10.96.0.10 by default).
    public static func dnsAddress(in cidr: CIDR) -> IPv4 { IPv4(cidr.network &+ 10) }

    /// Addresses no allocation hands out in `cidr`.
    public static func reserved(in cidr: CIDR) -> Set<IPv4> {
        [IPv4(cidr.network), IPv4(cidr.last), IPv4(cidr.network &+ 1), dnsAddress(in: cidr)]
    }

    /// The lowest free address of `cidr` from offset 11 on, or nil when the range is full.
    public static func allocate(in cidr: CIDR, taken: Set<IPv4>) -> IPv4? {
        let reserved = reserved(in: cidr)
        var candidate = UInt64(cidr.network) + 11
        while candidate < UInt64(cidr.last) {
            let ip = IPv4(UInt32(candidate))
            if !taken.contains(ip) && !reserved.contains(ip) { return ip }
            candidate += 1
        }
        return nil
    }
}
