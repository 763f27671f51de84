import KeycardModel
import KeycardValues

/// The cluster DNS pod keycard adds when `spec.lab.dns: true`: `kube-system/kube-dns-0`, labelled
/// `k8s-app: kube-dns` as kube-dns and CoreDNS pods are (so policies select it the way real
/// clusters' DNS egress rules do), serving `dns` UDP/53 and `dns-tcp` TCP/53 (CoreDNS's port names),
/// and declaring `metrics` TCP/9153 as kubeadm's CoreDNS container does (its `prometheus :9153`).
/// It is a pod of the model like any other (policies isolate it, peers select it), but it is a
/// piece of the cluster, not of the scenario: default probe sources and destinations leave it out.
public enum ClusterDNS {
    /// `kube-system/kube-dns-0`.
    public static let podKey = ObjectKey("kube-system", "kube-dns-0")
    /// The labels Kubernetes' DNS add-ons carry.
    public static let labels: Labels = ["k8s-app": "kube-dns"]
    /// UDP and TCP 53 and TCP 9153, named as the CoreDNS Deployment of kubeadm declares them
    /// (cmd/kubeadm/app/phases/addons/dns/manifests.go, `CoreDNSDeployment`): a policy letting
    /// Prometheus scrape `metrics` is proved against the DNS pod like any other. Its probes
    /// `8080` and `8181` (liveness, readiness) are left out: the kubelet, not a pod, asks them.
    public static let ports = [
        ContainerPort(name: "dns", port: 53, proto: .udp), ContainerPort(name: "dns-tcp", port: 53, proto: .tcp),
        ContainerPort(name: "metrics", port: metricsPort, proto: .tcp),
    ]
    /// CoreDNS's Prometheus endpoint (`prometheus :9153` in kubeadm's Corefile).
    public static let metricsPort = 9153
    /// The lab node the DNS pod runs on.
    public static let nodeName = "node-0"

    /// The DNS pod as a loaded object, placed where `spec.lab.dns` is written. Its `dnsPolicy` is
    /// `Default`, as kubeadm's CoreDNS Deployment sets it (cmd/kubeadm/app/phases/addons/dns/
    /// manifests.go, `CoreDNSDeployment`): the DNS server resolves through its node's resolver,
    /// not through itself, so a `dns` step from it is refused as from any Default pod
    /// (`Timeline.clusterDNSRefusal`).
    public static func podObject(at location: SourceLocation) -> LoadedObject {
        var pod = Pod(
            namespace: podKey.namespace, name: podKey.name, labels: labels, ports: ports, nodeName: nodeName,
            serviceAccountName: "coredns")
        pod.dnsPolicy = .default
        return LoadedObject(.pod(pod), at: location)
    }

    /// `kube-system/kube-dns`: the Service in front of the DNS pod, as kubeadm names it.
    public static let serviceKey = ObjectKey("kube-system", "kube-dns")

    /// Where a pod's query goes in `cluster`: through the `kube-dns` Service to the DNS pod, or
    /// to the DNS pod itself before Services exist.
    public static func destination(in cluster: Cluster) -> Endpoint {
        cluster.services[serviceKey] != nil ? .service(serviceKey, backend: podKey) : .pod(podKey)
    }

    /// The `kube-dns` Service: ClusterIP the tenth address of the service CIDR (10.96.0.10 by
    /// default, kubeadm's choice; never allocated to another Service), ports `dns` UDP/53,
    /// `dns-tcp` TCP/53 and `metrics` TCP/9153 (targetPort 9153) to the DNS pod, selecting
    /// `k8s-app: kube-dns`, as kubeadm's `CoreDNSService` (cmd/kubeadm/app/phases/addons/dns/manifests.go).
    public static func serviceObject(at location: SourceLocation, serviceCIDR: CIDR) -> LoadedObject {
        LoadedObject(
            .service(
                Service(
                    namespace: serviceKey.namespace, name: serviceKey.name, labels: labels, selector: labels,
                    address: .ip(ServiceAddresses.dnsAddress(in: serviceCIDR)),
                    ports: [
                        ServicePort(name: "dns", proto: .udp, port: 53, target: .name("dns")),
                        ServicePort(name: "dns-tcp", proto: .tcp, port: 53, target: .name("dns-tcp")),
                        ServicePort(name: "metrics", proto: .tcp, port: metricsPort, target: .number(metricsPort)),
                    ])),
            at: location)
    }

    /// The address pods send DNS queries to: the `kube-dns` ClusterIP (translated to the DNS pod by
    /// the lab's Service proxy, as in a cluster), or the DNS pod's own address without the Service.
    public static func serverAddress(in cluster: Cluster) -> IPv4? {
        cluster.services[serviceKey]?.clusterIP ?? cluster.addresses[podKey]
    }
}
