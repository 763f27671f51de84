import KeycardValues

/// What a pod's programs read as `/etc/resolv.conf`, as the kubelet decides it from `dnsPolicy`
/// and `dnsConfig` (`GetPodDNS`, pkg/kubelet/network/dns/dns.go;
/// https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-s-dns-policy).
public enum PodResolver: Hashable, Sendable, Codable {
    /// Cluster DNS (ClusterFirst off the host network, ClusterFirstWithHostNet), then the pod's
    /// `dnsConfig` appended (`appendDNSConfig`).
    case cluster(ResolvConf)
    /// The node's resolver (Default, and ClusterFirst on the host network): the lab mounts nothing,
    /// the program reads its node's file.
    case node
    /// Only the pod's `dnsConfig` (None).
    case own(ResolvConf)
}
