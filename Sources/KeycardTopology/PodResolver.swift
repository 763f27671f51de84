import KeycardValues

/// What a pod's programs read as `/etc/resolv.conf`, as the kubelet decides it from `dnsPolicy`
/// and `dnsConfig` (`GetPodDNS`, pkg/kubelet/network/dns/dns.go;
/// https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-s-dns-policy).
public enum PodResolver: Hashable, Sendable, Codable {
    /// Cluster DNS (ClusterFirst off the host network, ClusterFirstWithHostNet), then the pod's
    /// `dnsConfig` appended (`appendDNSConfig`).
    case cluster(ResolvConf)
    /// The node's resolver (Default, and ClusterFirst on the host network): the node's file as the
    /// kubelet parses it (`ResolvConf(kubeletParsing:)`), then the pod's `dnsConfig` appended, as
    /// `GetPodDNS` appends it after the switch for every policy but None.
    case node(ResolvConf)
    /// Only the pod's `dnsConfig` (None).
    case own(ResolvConf)
}
