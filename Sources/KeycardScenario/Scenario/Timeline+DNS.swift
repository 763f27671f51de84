import KeycardModel
import KeycardValues

extension Timeline {
    /// The port cluster DNS answers on; the model judges a query as a UDP/53 connection to the DNS pod.
    public static let dnsPort = ProtocolPort(.udp, 53)

    /// The address pods query at step `index` (the DNS pod's address until Services exist).
    public func dnsServer(atStep index: Int) -> IPv4? { ClusterDNS.serverAddress(in: cluster(afterStep: index)) }

    /// What the model predicts for `dns` at step `index`: `blocked` when policy denies UDP/53 from
    /// the pod to the DNS pod through the `kube-dns` Service (judged on the DNS pod after
    /// translation, or on the ClusterIP before it with `pre-dnat`), otherwise the records' answer
    /// through the pod's search path.
    public func dnsModel(_ dns: DNSStep, atStep index: Int) -> DNSAnswer {
        let cluster = cluster(afterStep: index)
        let destination: Endpoint =
            cluster.services[ClusterDNS.serviceKey] != nil
            ? .service(ClusterDNS.serviceKey, backend: ClusterDNS.podKey) : .pod(ClusterDNS.podKey)
        let verdict = PolicyEngine(cluster).evaluate(from: .pod(dns.from), to: destination, port: Self.dnsPort)
        let records = DNSRecords(cluster)
        return .model(allowed: verdict.decision == .allow, addresses: records.resolve(dns.name, fromNamespace: dns.from.namespace))
    }

    static func check(_ dns: DNSStep, step: Step, cluster: Cluster, enabled: Bool) throws(ScenarioError) {
        guard enabled else { throw ScenarioError(step.location, "a dns step needs cluster DNS: set spec.lab.dns: true") }
        guard cluster.pods[dns.from] != nil else {
            throw ScenarioError(step.location, "dns.from: pod \(dns.from) does not exist at this step")
        }
        // dnsPolicy ClusterFirst (the default) on the host network falls back to the node's
        // resolver (https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-s-dns-policy);
        // ClusterFirstWithHostNet would reach cluster DNS through a Service proxy the lab does not
        // run in node namespaces. Either way the lab cannot answer as a cluster would.
        if cluster.isHostNetwork(dns.from) {
            throw ScenarioError(
                step.location,
                "dns.from: pod \(dns.from) uses the host network: it asks its node's resolver (dnsPolicy ClusterFirst), not cluster DNS, and the lab runs no Service proxy in node namespaces; ask from a pod on the pod network"
            )
        }
    }

    /// With cluster DNS on, its pod's name belongs to keycard.
    static func checkReserved(_ objects: [LoadedObject], dns: Bool) throws(ScenarioError) {
        guard dns else { return }
        for loaded in objects {
            if case .pod(let pod) = loaded.object, pod.key == ClusterDNS.podKey {
                throw ScenarioError(
                    loaded.location, "pod \(pod.key) is the cluster DNS pod keycard runs with spec.lab.dns: true; choose another name")
            }
            if case .service(let service) = loaded.object, service.key == ClusterDNS.serviceKey {
                throw ScenarioError(
                    loaded.location,
                    "Service \(service.key) is the cluster DNS Service keycard runs with spec.lab.dns: true; choose another name")
            }
        }
    }

    static func checkDNSDelete(_ targets: [DeleteTarget], dns: Bool) throws(ScenarioError) {
        guard dns else { return }
        for target in targets
        where target.ref.kind == .pod && target.ref.namespace == ClusterDNS.podKey.namespace && target.ref.name == ClusterDNS.podKey.name {
            throw ScenarioError(target.location, "the cluster DNS pod \(ClusterDNS.podKey) cannot be deleted while spec.lab.dns is true")
        }
        for target in targets where target.ref.kind == .namespace && target.ref.name == ClusterDNS.podKey.namespace {
            throw ScenarioError(
                target.location, "namespace kube-system holds the cluster DNS pod and cannot be deleted while spec.lab.dns is true")
        }
    }
}
