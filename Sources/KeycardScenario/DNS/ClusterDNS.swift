import KeycardModel
import KeycardValues

/// The cluster DNS pod keycard adds when `spec.lab.dns: true`: `kube-system/kube-dns-0`, labelled
/// `k8s-app: kube-dns` as kube-dns and CoreDNS pods are (so policies select it the way real
/// clusters' DNS egress rules do), serving `dns` UDP/53 and `dns-tcp` TCP/53 (CoreDNS's port names).
/// It is a pod of the model like any other (policies isolate it, peers select it), but it is a
/// piece of the cluster, not of the scenario: default probe sources and destinations leave it out.
public enum ClusterDNS {
    /// `kube-system/kube-dns-0`.
    public static let podKey = ObjectKey("kube-system", "kube-dns-0")
    /// The labels Kubernetes' DNS add-ons carry.
    public static let labels: Labels = ["k8s-app": "kube-dns"]
    /// UDP and TCP 53, named as in CoreDNS's Deployment.
    public static let ports = [
        ContainerPort(name: "dns", port: 53, proto: .udp), ContainerPort(name: "dns-tcp", port: 53, proto: .tcp),
    ]
    /// The lab node the DNS pod runs on.
    public static let nodeName = "node-0"

    /// The DNS pod as a loaded object, placed where `spec.lab.dns` is written.
    public static func podObject(at location: SourceLocation) -> LoadedObject {
        LoadedObject(
            .pod(
                Pod(
                    namespace: podKey.namespace, name: podKey.name, labels: labels, ports: ports, nodeName: nodeName,
                    serviceAccountName: "coredns")),
            at: location)
    }

    /// The address pods send DNS queries to. Until Services exist it is the DNS pod's own address;
    /// with Services it becomes the `kube-system/kube-dns` ClusterIP (10.96.0.10).
    public static func serverAddress(in cluster: Cluster) -> IPv4? { cluster.addresses[podKey] }
}
