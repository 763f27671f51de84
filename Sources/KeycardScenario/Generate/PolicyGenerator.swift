import KeycardModel
import KeycardValues

/// A connection a run saw succeed: `from` reached pod `to` on `port` (after Service translation).
public struct ObservedFlow: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var from: ObjectKey
    public var to: ObjectKey
    public var port: ProtocolPort

    public init(from: ObjectKey, to: ObjectKey, port: ProtocolPort) {
        self.from = from
        self.to = to
        self.port = port
    }

    public var description: String { "\(from) -> \(to) \(port)" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.from, lhs.to, lhs.port.proto.rawValue, lhs.port.port) < (rhs.from, rhs.to, rhs.port.proto.rawValue, rhs.port.port)
    }

    /// The flows of a flow log that show an application's traffic: `FORWARDED` probe cells that a
    /// server answered (not a closed port's reset) and answered DNS queries, between two different
    /// pods. Scan targets are left out (a scan explores, it is no application's flow), and so are
    /// `AUDIT` flows (the policies under audit would deny them) and drops.
    public static func observed(_ lines: [HubbleFlowLine]) -> Set<ObservedFlow> {
        var flows: Set<ObservedFlow> = []
        for line in lines {
            let flow = line.flow
            guard flow.verdict == "FORWARDED", let facts = flow.extensions?.value else { continue }
            guard (facts.kind == "probe" && facts.observed == "allow") || facts.kind == "dns" else { continue }
            guard let sourceNamespace = flow.source.namespace, let sourcePod = flow.source.pod_name,
                let namespace = flow.destination.namespace, let pod = flow.destination.pod_name
            else { continue }
            let port: ProtocolPort? =
                if let tcp = flow.l4.TCP { ProtocolPort(.tcp, tcp.destination_port) } else if let udp = flow.l4.UDP {
                    ProtocolPort(.udp, udp.destination_port)
                } else if let sctp = flow.l4.SCTP { ProtocolPort(.sctp, sctp.destination_port) } else { nil }
            guard let port else { continue }
            let from = ObjectKey(sourceNamespace, sourcePod)
            let to = ObjectKey(namespace, pod)
            if from != to { flows.insert(ObservedFlow(from: from, to: to, port: port)) }
        }
        return flows
    }
}

/// Least-privilege NetworkPolicies from observed flows: one per workload (a bare pod counts as its
/// own workload; pods that no stable label tells apart share one), each isolating its pods in both
/// directions (`policyTypes: [Ingress, Egress]`, Kubernetes' default deny) and allowing exactly
/// the observed peers and ports: peers by their stable labels (never `pod-template-hash` and the
/// like), in another namespace through `kubernetes.io/metadata.name`, ports by name where the
/// destination pod names them. DNS to kube-dns is one such flow, kept where a pod used DNS.
/// Where the mesh carries a flow over HBONE (meshed pods, either ambient: `MeshVerdict.tunnel`),
/// NetworkPolicy sees TCP to the destination's port 15008, so its rule allows TCP/15008 beside the
/// application port (Istio, "Ambient and Kubernetes NetworkPolicy": "you also need to allow
/// inbound traffic on port 15008"); the application port stays for when the pods leave the mesh.
public struct PolicyGenerator: Sendable {
    public let cluster: Cluster

    public init(_ cluster: Cluster) { self.cluster = cluster }

    /// Labels a controller or the API stamps per pod or per revision: never a stable selector.
    public static let unstableLabels: Set<String> = [
        "pod-template-hash", "controller-revision-hash", "pod-template-generation", "statefulset.kubernetes.io/pod-name",
        "apps.kubernetes.io/pod-index", "controller-uid", "batch.kubernetes.io/controller-uid", "job-name",
        "batch.kubernetes.io/job-name", "batch.kubernetes.io/job-completion-index",
    ]

    /// A group of pods one policy selects.
    struct Group: Hashable {
        var namespace: String
        var labels: Labels
    }

    /// The stable labels of a pod.
    func stableLabels(_ pod: Pod) -> Labels { pod.labels.filter { !Self.unstableLabels.contains($0.key) } }

    func group(of key: ObjectKey) -> Group? {
        guard let pod = cluster.pods[key] else { return nil }
        return Group(namespace: pod.namespace, labels: stableLabels(pod))
    }

    /// The policy's name for a group: its workload's, else its `app`/`k8s-app`/`app.kubernetes.io/name` label, else its first pod's.
    func name(of group: Group, pods: [ObjectKey]) -> String {
        let first = pods.sorted().first.flatMap { cluster.pods[$0] }
        let base =
            first?.owner?.workload.name ?? group.labels["app"] ?? group.labels["k8s-app"] ?? group.labels["app.kubernetes.io/name"]
            ?? first?.name ?? "pods"
        return "keycard-\(base)"
    }

    /// The policies, sorted by namespace and name. Every pod NetworkPolicy can select gets one
    /// (not `hostNetwork` pods, which no policy isolates, nor the cluster DNS pod keycard runs,
    /// which stands for the cluster's own): a workload no flow names is isolated both ways with
    /// no rule, so nothing it did not do stays open.
    public func policies(_ flows: Set<ObservedFlow>) -> [NetworkPolicy] {
        var members: [Group: [ObjectKey]] = [:]
        for pod in cluster.sortedPods where !pod.hostNetwork && pod.key != ClusterDNS.podKey {
            if let group = group(of: pod.key) { members[group, default: []].append(pod.key) }
        }
        for flow in flows {
            for key in [flow.from, flow.to] {
                if let group = group(of: key), !(members[group]?.contains(key) ?? false) { members[group, default: []].append(key) }
            }
        }
        var result: [NetworkPolicy] = []
        var taken: Set<ObjectKey> = []
        for (group, pods) in members.sorted(by: { ($0.key.namespace, $0.value.sorted()[0]) < ($1.key.namespace, $1.value.sorted()[0]) }) {
            var name = name(of: group, pods: pods)
            var suffix = 2
            while taken.contains(ObjectKey(group.namespace, name)) {
                name = "\(self.name(of: group, pods: pods))-\(suffix)"
                suffix += 1
            }
            taken.insert(ObjectKey(group.namespace, name))
            var policy = NetworkPolicy(
                namespace: group.namespace, name: name, podSelector: LabelSelector(matchLabels: group.labels))
            policy.policyTypes = [.ingress, .egress]
            let inbound = flows.filter { pods.contains($0.to) }
            let outbound = flows.filter { pods.contains($0.from) }
            policy.ingress = rules(inbound, protected: group, peer: \.from)
            policy.egress = rules(outbound, protected: group, peer: \.to)
            result.append(policy)
        }
        return result.sorted { $0.key < $1.key }
    }

    /// One rule per peer group, with every port seen with it (named where the destination names it).
    func rules(_ flows: Set<ObservedFlow>, protected: Group, peer: KeyPath<ObservedFlow, ObjectKey>) -> [NetworkPolicy.Rule] {
        var ports: [Group: Set<PortKey>] = [:]
        let mesh = MeshEngine(cluster)
        for flow in flows {
            guard let peerGroup = group(of: flow[keyPath: peer]) else { continue }
            let destination = cluster.pods[flow.to]
            let named = destination?.ports.first { $0.port == flow.port.port && $0.proto == flow.port.proto && $0.name != nil }?.name
            ports[peerGroup, default: []].insert(PortKey(proto: flow.port.proto, number: flow.port.port, name: named))
            if flow.port.proto == .tcp, mesh.evaluate(from: flow.from, to: .pod(flow.to), port: flow.port).tunnel != nil {
                ports[peerGroup, default: []].insert(PortKey(proto: .tcp, number: Int(MeshDataPath.hbonePort), name: nil))
            }
        }
        return ports.sorted {
            ($0.key.namespace, $0.key.labels.sorted { $0.key < $1.key }.description) < (
                $1.key.namespace, $1.key.labels.sorted { $0.key < $1.key }.description
            )
        }
        .map { peerGroup, keys in
            var peer = NetworkPolicy.Peer(podSelector: LabelSelector(matchLabels: peerGroup.labels))
            if peerGroup.namespace != protected.namespace {
                peer.namespaceSelector = LabelSelector(matchLabels: [Namespace.nameLabel: peerGroup.namespace])
            }
            let sorted = keys.sorted { ($0.proto.rawValue, $0.number) < ($1.proto.rawValue, $1.number) }
            return NetworkPolicy.Rule(
                peers: [peer],
                ports: sorted.map { NetworkPolicy.Port(proto: $0.proto, port: $0.name.map { .name($0) } ?? .number($0.number)) })
        }
    }

    struct PortKey: Hashable {
        var proto: TransportProtocol
        var number: Int
        var name: String?
    }
}
