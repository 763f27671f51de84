import KeycardCompiler
import KeycardKernel
import KeycardModel
import KeycardTopology
import KeycardValues

/// How a planned lab maps onto servers, probe sources and ruleset namespaces.
public enum LabServing {
    /// Every declared port of every pod without a command, and every external's ports; each
    /// answers with its owner's name (`ns/pod`, `external/NAME`). The cluster DNS pod runs
    /// dnsmasq on port 53; its other ports (CoreDNS's `metrics` TCP/9153, `ClusterDNS.ports`) are
    /// served so, as a probe of a program's pod checks only the handshake. A host-network pod's ports are
    /// served in its node's namespace on the node's address, once: two host-network pods of one
    /// node may declare the same port (the scheduler keeps the later one Pending while the first
    /// runs, `NodePortsScheduler`), and whichever runs is answered by the one listener.
    public static func endpoints(_ plan: LabPlan) -> [ServedEndpoint] {
        var endpoints: [ServedEndpoint] = []
        var served: Set<String> = []
        let dnsPod = plan.dns?.serverPod
        for pod in plan.servingPods where (pod.command ?? []).isEmpty || pod.key == dnsPod {
            for port in pod.ports
            where !(pod.key == dnsPod && port.port == 53)
                && served.insert("\(pod.netns) \(pod.address) \(port.proto) \(port.port)").inserted
            {
                endpoints.append(
                    ServedEndpoint(
                        namespace: pod.netns, address: pod.address,
                        proto: port.proto, port: port.port, line: pod.key))
            }
        }
        for external in plan.externals {
            for port in external.ports {
                endpoints.append(
                    ServedEndpoint(
                        namespace: external.netns, address: external.address,
                        proto: port.proto, port: port.port, line: "external/\(external.name)"))
            }
        }
        return endpoints
    }

    /// Pods whose ports a real program serves (`command:`).
    public static func programPods(_ plan: LabPlan) -> Set<ObjectKey> {
        Set(plan.servingPods.filter { !($0.command ?? []).isEmpty }.map { ObjectKey($0.namespace, $0.name) })
    }

    /// The lab's cluster DNS server pod (dnsmasq, a real program) and the query a UDP probe of its
    /// port 53 sends: a real DNS server answers a DNS query and nothing else, so keycard's echoed
    /// line would be a timeout where the network allows. nil when the lab runs no cluster DNS.
    public static func dnsServer(_ plan: LabPlan) -> SocketProbeRunner.DNSServer? {
        guard let dns = plan.dns, let pod = ObjectKey.parse(dns.serverPod) else { return nil }
        return SocketProbeRunner.DNSServer(pod: pod, query: DNSQuery.message(asking: "kubernetes.default.svc.\(dns.domain)"))
    }

    /// Each pod's network namespace.
    public static func podNamespaces(_ plan: LabPlan) -> [ObjectKey: String] {
        Dictionary(uniqueKeysWithValues: plan.pods.map { (ObjectKey($0.namespace, $0.name), $0.netns) })
    }

    /// Where each probe source starts: every pod's namespace, each external's own namespace
    /// behind the router under its source key `external/NAME` (`ObjectKey.external`), and each
    /// node's namespace under `node/NAME` (`ObjectKey.node`), where sockets take the node's address;
    /// a host-network pod starts from its node's namespace.
    public static func sourceNamespaces(_ plan: LabPlan) -> [ObjectKey: String] {
        var namespaces = podNamespaces(plan)
        for pod in plan.hostNetworkPods { namespaces[ObjectKey(pod.namespace, pod.name)] = pod.netns }
        for external in plan.externals { namespaces[.external(external.name)] = external.netns }
        for node in plan.nodes { namespaces[.node(node.name)] = node.namespace }
        return namespaces
    }

    /// The namespace each compiled table goes into.
    public static func rulesetNamespaces(_ plan: LabPlan) -> [RulesetTarget: String] {
        var targets: [RulesetTarget: String] = [:]
        for pod in plan.pods { targets[.pod(ObjectKey(pod.namespace, pod.name))] = pod.netns }
        for node in plan.nodes { targets[.node(node.index)] = node.namespace }
        return targets
    }
}
