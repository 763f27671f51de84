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
            pods.append(
                PodSpec(
                    namespace: pod.namespace, name: pod.name,
                    nodeName: timeline.plan.nodes[pod.key].map { "node-\($0)" },
                    pinnedIP: timeline.plan.addresses[pod.key],
                    ports: Self.servedOnce(pod.ports.map { ServedPort($0.proto, UInt16($0.port)) }),
                    command: isDNS ? ClusterDNSServer.argv(lab: lab) : pod.commands.first))
            if isDNS { dnsPod = pods.last }
        }
        self.init(
            labName: lab, nodes: scenario.lab.nodes, podCIDR: scenario.lab.podCIDR, pods: pods,
            externals: scenario.externals.map { external in
                ExternalSpec(
                    name: external.name, ip: external.ip,
                    ports: external.ports.map { ServedPort($0.proto, UInt16($0.port)) })
            })
        if let dnsPod, let address = dnsPod.pinnedIP {
            // Until Services exist, pods query the DNS pod's own address.
            dns = LabDNS(serverPod: ClusterDNS.podKey.description, nameserver: address, domain: DNSRecords.defaultDomain)
        }
    }

    /// A port two containers declare (valid, with a warning) is served once.
    static func servedOnce(_ ports: [ServedPort]) -> [ServedPort] {
        var seen: Set<ServedPort> = []
        return ports.filter { seen.insert($0).inserted }
    }
}
