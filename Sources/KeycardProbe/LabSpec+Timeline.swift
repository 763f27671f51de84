import KeycardLab
import KeycardModel
import KeycardScenario
import KeycardTopology
import KeycardValues

extension LabSpec {
    /// The lab a scenario needs: every pod that ever appears, bare or made by a workload (with the node and address the
    /// scenario's plan gave it, so the model and the lab agree), and every external.
    public init(_ timeline: Timeline, labName: String? = nil) {
        let scenario = timeline.scenario
        var pods: [PodSpec] = []
        var seen: Set<ObjectKey> = []
        var index: [ObjectKey: Int] = [:]
        let serviceTargets = timeline.serviceTargetPorts.mapValues { $0.sorted() }
        let lab = labName ?? scenario.name
        var dnsPod: PodSpec?
        let everyPod = timeline.everyPod + (scenario.lab.dnsLocation.map { [ClusterDNS.podObject(at: $0)] } ?? [])
        for loaded in everyPod {
            guard case .pod(let pod) = loaded.object else { continue }
            guard seen.insert(pod.key).inserted else {
                // A pod replaced under its name (a StatefulSet rollout) serves what each version declares.
                if let at = index[pod.key] {
                    pods[at].ports = Self.servedOnce(pods[at].ports + pod.ports.map { ServedPort($0.proto, UInt16($0.port)) })
                }
                continue
            }
            index[pod.key] = pods.count
            // The cluster DNS pod runs the real server instead of keycard's port servers.
            let isDNS = scenario.lab.dns && pod.key == ClusterDNS.podKey
            let hostNetwork = timeline.plan.hostNetwork.contains(pod.key)
            pods.append(
                PodSpec(
                    namespace: pod.namespace, name: pod.name,
                    nodeName: timeline.plan.nodes[pod.key].map { "node-\($0)" },
                    // A host-network pod has its node's address, which the lab gives it.
                    pinnedIP: hostNetwork ? nil : timeline.plan.addresses[pod.key],
                    ports: Self.servedOnce(
                        pod.ports.map { ServedPort($0.proto, UInt16($0.port)) }
                            + (serviceTargets[pod.key] ?? []).map { ServedPort($0.proto, UInt16($0.port)) }),
                    command: isDNS ? ClusterDNSServer.argv(lab: lab) : pod.commands.first))
            pods[pods.count - 1].hostNetwork = hostNetwork
            pods[pods.count - 1].resolver = Self.resolver(of: pod)
            if !isDNS, let argv = pod.commands.first {
                Self.giveProgramItsPod(&pods[pods.count - 1], pod, argv: argv, timeline: timeline, hostNetwork: hostNetwork)
            }
            if isDNS { dnsPod = pods.last }
        }
        self.init(
            labName: lab, nodes: scenario.lab.nodes, podCIDR: scenario.lab.podCIDR, pods: pods,
            externals: scenario.externals.map { external in
                ExternalSpec(
                    name: external.name, ip: external.ip,
                    ports: external.ports.map { ServedPort($0.proto, UInt16($0.port)) })
            })
        if dnsPod != nil, let address = ClusterDNS.serverAddress(in: timeline.initial) {
            // Pods query the kube-dns ClusterIP; the Service proxy sends it to the DNS pod.
            dns = LabDNS(serverPod: ClusterDNS.podKey.description, nameserver: address, domain: DNSRecords.defaultDomain)
        }
    }

    /// The resolver the kubelet gives `pod`'s programs by its `dnsPolicy` and `dnsConfig`
    /// (`GetPodDNS`, pkg/kubelet/network/dns/dns.go): ClusterFirst off the host network and
    /// ClusterFirstWithHostNet ask cluster DNS, ClusterFirst on the host network and Default the
    /// node's resolver, None only its `dnsConfig`; every policy but None gets `dnsConfig`
    /// appended to its base (`appendDNSConfig` runs after the switch), the node's file too.
    static func resolver(of pod: Pod) -> PodResolver {
        if pod.dnsPolicy == .none { return .own(pod.dnsConfig ?? ResolvConf()) }
        return pod.usesClusterDNS ? .cluster(pod.dnsConfig ?? ResolvConf()) : .node(pod.dnsConfig ?? ResolvConf())
    }

    /// What the kubelet gives a container's program besides its namespace: its environment
    /// (`command` and `args` expanded against it), its host name and `/etc/hosts`. A host-network
    /// pod keeps the node's host name, and the node's hosts file with its `hostAliases` after it.
    static func giveProgramItsPod(_ spec: inout PodSpec, _ pod: Pod, argv: [String], timeline: Timeline, hostNetwork: Bool) {
        let node = timeline.plan.nodes[pod.key] ?? 0
        let hostIP = LabNetwork.nodeAddress(node)
        let podIP = hostNetwork ? hostIP : timeline.plan.addresses[pod.key]
        let hostname =
            hostNetwork
            ? "node-\(node)"
            : ProgramEnvironment.kernelHostname(of: pod, domain: DNSRecords.defaultDomain) ?? ProgramEnvironment.hostname(of: pod)
        // `spec.nodeName` is the node the pod runs on, however it got there.
        var scheduled = pod
        scheduled.nodeName = "node-\(node)"
        // The Services of its namespace when it first exists (the kubelet links those present
        // when the container starts; the lab starts every program at bring-up).
        let first = ([timeline.initial] + timeline.scenario.steps.map { timeline.cluster(afterStep: $0.index) })
            .first { $0.pods[pod.key] != nil }
        let services = first?.sortedServices.filter { $0.namespace == pod.namespace } ?? []
        spec.context.environment = ProgramEnvironment.variables(
            of: scheduled, container: 0, podIP: podIP, hostIP: hostIP, hostname: hostname, services: services)
        let expandable = ProgramEnvironment.variables(
            of: scheduled, container: 0, podIP: podIP, hostIP: hostIP, hostname: hostname, services: services, withRuntime: false)
        spec.command = ProgramEnvironment.expand(argv, with: expandable)
        // A host-network pod's containers see the node's host name (the runtime's own).
        spec.context.hostname = hostname
        if hostNetwork {
            // The node's file, with the pod's aliases after it; without aliases it reads the same.
            let aliases = ProgramEnvironment.hostAliasEntries(of: pod)
            if !aliases.isEmpty { spec.context.hostsFile = .node(appending: aliases) }
            return
        }
        guard let podIP else { return }
        spec.context.hostsFile = .managed(ProgramEnvironment.hostsFile(of: pod, podIP: podIP, domain: DNSRecords.defaultDomain))
    }

    /// A port two containers declare (valid, with a warning) is served once.
    static func servedOnce(_ ports: [ServedPort]) -> [ServedPort] {
        var seen: Set<ServedPort> = []
        return ports.filter { seen.insert($0).inserted }
    }
}
