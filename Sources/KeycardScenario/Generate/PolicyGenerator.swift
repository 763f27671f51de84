import KeycardModel
import KeycardValues

/// Least-privilege NetworkPolicies from observed flows: one per workload (a bare pod counts as its
/// own workload; pods that no stable label tells apart share one), each isolating its pods in both
/// directions (`policyTypes: [Ingress, Egress]`, Kubernetes' default deny) and allowing exactly
/// the observed peers and ports: peers by their stable labels (never `pod-template-hash` and the
/// like; `DoesNotExist` for the keys of a wider group of their namespace: `selector(of:)`), in another namespace through `kubernetes.io/metadata.name`, ports by name where the
/// destination pod names them. DNS to kube-dns is one such flow, kept where a pod used DNS. An
/// end no pod selector picks (an external, a lab node, a host-network pod's node) is an `ipBlock`
/// of its one address (/32).
/// Where the mesh carries a flow over HBONE (meshed pods, either ambient: `MeshVerdict.tunnel`),
/// NetworkPolicy sees TCP to the destination's port 15008, so its rule allows TCP/15008 beside the
/// application port (Istio, "Ambient and Kubernetes NetworkPolicy": "you also need to allow
/// inbound traffic on port 15008"); the application port stays for when the pods leave the mesh.
public struct PolicyGenerator: Sendable {
    public let cluster: Cluster
    /// Pods that are keycard's, not the scenario's (`Timeline.keycardPods`: the cluster DNS pod
    /// when `spec.lab.dns` is on). A pod of the same name the scenario or its manifests declare
    /// is theirs, and gets its policy like any other.
    public let keycardPods: Set<ObjectKey>

    /// The generator of `cluster`, whose pods `keycardPods` are keycard's own.
    public init(_ cluster: Cluster, keycardPods: Set<ObjectKey>) {
        self.cluster = cluster
        self.keycardPods = keycardPods
    }

    /// The generator of `timeline`'s pods as they stand after its last step.
    public init(_ timeline: Timeline) {
        self.init(timeline.cluster(afterStep: timeline.scenario.steps.count), keycardPods: timeline.keycardPods)
    }

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

    /// The policy's name for a group: `keycard-` and its workload's name, else its
    /// `app`/`k8s-app`/`app.kubernetes.io/name` label, else its first pod's; `suffix` (`-2`...)
    /// tells apart groups of one name. Made a DNS-1123 subdomain, as the API server requires of a
    /// NetworkPolicy's name (`ValidateNetworkPolicyName` is `NameIsDNSSubdomain`): a label value
    /// may be upper case or hold `_`, and a workload's name may take the 253 characters alone.
    func name(of group: Group, pods: [ObjectKey], suffix: Int? = nil) -> String {
        let first = pods.sorted().first { !keycardPods.contains($0) }.flatMap { cluster.pods[$0] }
        let base =
            first?.owner?.workload.name ?? group.labels["app"] ?? group.labels["k8s-app"] ?? group.labels["app.kubernetes.io/name"]
            ?? first?.name ?? "pods"
        let tail = suffix.map { "-\($0)" } ?? ""
        return NameRules.dns1123Subdomain("keycard-\(base)", maxLength: NameRules.subdomainMaxLength - tail.utf8.count) + tail
    }

    /// Whether a generated policy selects `key`: a present pod, not `hostNetwork` (no policy
    /// isolates one). keycard's own pods (the cluster DNS pod, which stands for the cluster's own:
    /// a policy isolating it would cut the cluster's DNS off its API server and upstreams) only
    /// when a scenario pod shares their group: no label tells them apart, so its policy selects
    /// them too, and their flows are its flows (a declared `k8s-app: kube-dns` pod of
    /// kube-system beside keycard's `kube-dns-0`).
    public func isSubject(_ key: ObjectKey) -> Bool {
        guard let pod = cluster.pods[key], !pod.hostNetwork else { return false }
        guard keycardPods.contains(key) else { return true }
        let own = group(of: key)
        return cluster.sortedPods.contains { !$0.hostNetwork && !keycardPods.contains($0.key) && group(of: $0.key) == own }
    }

    /// The pods a group's selector picks (`selector(of:)`): the pods of the group off the host network.
    func members(of group: Group) -> [Pod] {
        cluster.sortedPods.filter { !$0.hostNetwork && self.group(of: $0.key) == group }
    }

    /// The selector that picks exactly a group's pods, as the policy's `podSelector` and as a
    /// peer's alike: its stable labels (`matchLabels`), and `DoesNotExist` for every stable label
    /// key that another group of the namespace carries beside all of this group's labels (a
    /// strict superset: `api-canary` {app: api, track: canary} beside `api` {app: api}). A label
    /// selector matches every pod whose labels include its `matchLabels` (apimachinery
    /// `labels.Selector.Matches`), so `{app: api}` alone would pick the canary's pods too; this
    /// group's pods lack those keys, the wider group's each carry one. Pods with no stable label
    /// are the same rule with every labelled pod wider: they are picked as the pods lacking every
    /// key the namespace's other pods carry, never by `{}`, which "selects all pods in this
    /// namespace" (NetworkPolicySpec.podSelector); `{}` only when no pod there has a label.
    /// Host-network pods are left out: no selector picks them (NetworkPolicy does not apply to
    /// them, and a peer names them by their node's address).
    func selector(of group: Group) -> LabelSelector {
        let wider = cluster.sortedPods.filter { $0.namespace == group.namespace && !$0.hostNetwork }.map(stableLabels).filter {
            labels in labels.count > group.labels.count && group.labels.allSatisfy { labels[$0.key] == $0.value }
        }
        let keys = Set(wider.flatMap(\.keys)).subtracting(group.labels.keys)
        return LabelSelector(matchLabels: group.labels, matchExpressions: keys.sorted().map { .init(key: $0, operator: .doesNotExist) })
    }

    /// Whether the policies made from `observed` mean to allow `flow`: it was observed, or an
    /// observed flow joins pods of the same groups on the same port. Pods that no stable label
    /// tells apart share their policy and are one peer to every other (a NetworkPolicy selects by
    /// labels), so one's flow is all of theirs; a proof expects those open too. Ends named by an
    /// address (`blockAddress`: an external, a node, the host-network pods of a node) are one
    /// peer with every end at that address: a node's flow is its host-network pods' too.
    /// A pod's own node is allowed in whatever the policies say where the lab applies the
    /// local-node rule (`Cluster.localNodeAdmits`): the model and the kernel let it through.
    public func intends(_ observed: Set<ObservedFlow>) -> @Sendable (ObservedFlow) -> Bool {
        let grouped = Set(observed.compactMap(groups))
        return { [self] flow in
            observed.contains(flow) || groups(of: flow).map(grouped.contains) ?? false || localNodeAdmits(flow)
        }
    }

    /// Whether the local-node rule lets `flow` in (`Cluster.localNodeAdmits`): it comes from the
    /// destination pod's own node, or from a host-network pod there, whose traffic is its node's.
    public func localNodeAdmits(_ flow: ObservedFlow) -> Bool {
        cluster.localNodeAdmits(cluster.networkSource(cluster.source(flow.from)), cluster.source(flow.to))
    }

    /// How a rule names one end of a flow: by its group's selector, or by its address (`ipBlock`).
    private enum Peer: Hashable {
        case group(Group)
        case address(IPv4)
    }

    /// A flow's ends as rules name them, and its port.
    private struct FlowGroups: Hashable {
        var from: Peer
        var to: Peer
        var port: ProtocolPort
    }

    /// One end as a rule names it (`blockAddress`, else its group); nil for a pod gone by the last step.
    private func peer(_ key: ObjectKey) -> Peer? {
        if let address = blockAddress(of: key) { return .address(address) }
        return group(of: key).map(Peer.group)
    }

    private func groups(of flow: ObservedFlow) -> FlowGroups? {
        guard let from = peer(flow.from), let to = peer(flow.to) else { return nil }
        return FlowGroups(from: from, to: to, port: flow.port)
    }

    /// The policies, sorted by namespace and name. Every pod NetworkPolicy can select gets one
    /// (`isSubject`): a workload no flow names is isolated both ways with no rule, so nothing it
    /// did not do stays open.
    public func policies(_ flows: Set<ObservedFlow>) -> [NetworkPolicy] {
        var members: [Group: [ObjectKey]] = [:]
        for key in cluster.sortedPods.map(\.key) where isSubject(key) {
            if let group = group(of: key) { members[group, default: []].append(key) }
        }
        var result: [NetworkPolicy] = []
        var taken: Set<ObjectKey> = []
        for (group, pods) in members.sorted(by: { ($0.key.namespace, $0.value.sorted()[0]) < ($1.key.namespace, $1.value.sorted()[0]) }) {
            var name = name(of: group, pods: pods)
            var suffix = 2
            while taken.contains(ObjectKey(group.namespace, name)) {
                name = self.name(of: group, pods: pods, suffix: suffix)
                suffix += 1
            }
            taken.insert(ObjectKey(group.namespace, name))
            var policy = NetworkPolicy(namespace: group.namespace, name: name, podSelector: selector(of: group))
            policy.policyTypes = [.ingress, .egress]
            let inbound = flows.filter { pods.contains($0.to) }
            let outbound = flows.filter { pods.contains($0.from) }
            policy.ingress = rules(inbound, protected: group, peer: \.from)
            policy.egress = rules(outbound, protected: group, peer: \.to)
            result.append(policy)
        }
        return result.sorted { $0.key < $1.key }
    }

    /// What the policies cannot say exactly, one line each, for the output's header and the
    /// terminal: a host-network peer and a node are named by the node's lab address, pods without
    /// labels by the label keys they lack.
    public func notes(_ flows: Set<ObservedFlow>) -> [String] {
        var notes: [String] = []
        let ends = Set(flows.flatMap { [$0.from, $0.to] })
        for key in ends.sorted() {
            guard case .node(let node) = cluster.networkSource(cluster.source(key)), let address = cluster.address(of: .node(node))
            else { continue }
            let what = cluster.isHostNetwork(key) ? "\(key) runs in its node's network, where no pod selector sees it" : "\(key) is a node"
            notes.append(
                "\(what): the rules name it by its node's address in the lab, ipBlock \(address)/32; write your nodes' addresses there")
        }
        var unlabelled: [String: [ObjectKey]] = [:]
        for key in ends.union(cluster.sortedPods.map(\.key)).sorted() where isSubject(key) && group(of: key)?.labels.isEmpty == true {
            unlabelled[key.namespace, default: []].append(key)
        }
        for (namespace, pods) in unlabelled.sorted(by: { $0.key < $1.key }) {
            let keys = selector(of: Group(namespace: namespace, labels: [:])).matchExpressions.map(\.key)
            let list = pods.map(\.description).joined(separator: ", ")
            let (have, they, them) = pods.count == 1 ? ("has", "it is", "it") : ("have", "they are", "them")
            notes.append(
                keys.isEmpty
                    ? "\(list) \(have) no labels: \(they) selected as every pod of namespace \(namespace) (podSelector: {}), as no pod there has a label"
                    : "\(list) \(have) no labels: \(they) selected as the pods of namespace \(namespace) without \(keys.joined(separator: ", ")) (DoesNotExist); label \(them) to select \(them) for sure"
            )
        }
        return notes
    }

    /// The lab address of the node a host-network pod runs on.
    func nodeAddress(of key: ObjectKey) -> IPv4? {
        guard case .node(let node) = cluster.networkSource(.pod(key)) else { return nil }
        return cluster.address(of: .node(node))
    }

    /// The one address an `ipBlock` peer names for a flow's end that no pod selector picks: an
    /// external's, a lab node's, a host-network pod's node's; nil for a pod off the host network
    /// (or one gone by the last step).
    func blockAddress(of key: ObjectKey) -> IPv4? {
        let end = cluster.networkSource(cluster.source(key))
        if case .pod = end { return nil }
        return cluster.address(of: end)
    }

    /// The name a rule gives a flow's port: the name the destination pod gives that number, when
    /// every pod of the destination's group gives that name to that number alone. A named
    /// NetworkPolicy port is resolved on each pod the rule's selector picks
    /// (NetworkPolicyPort.port: "a named port on a pod"), so a name another pod of the group
    /// lacks, or maps to another number, would shut out the flows the group shares or open a port
    /// no flow used; the number then. Nil for a host-network pod, an external or a node.
    func portName(_ flow: ObservedFlow) -> String? {
        guard let destination = cluster.pods[flow.to], !destination.hostNetwork, let group = group(of: flow.to),
            let name = destination.ports.first(where: { $0.port == flow.port.port && $0.proto == flow.port.proto && $0.name != nil })?.name
        else { return nil }
        let same = members(of: group).allSatisfy { $0.resolve(portName: name, proto: flow.port.proto) == [flow.port.port] }
        return same ? name : nil
    }

    /// One rule per peer group, with every port seen with it (named where `portName` allows); a
    /// peer no selector picks (an external, a node, a host-network pod) is its address
    /// (`ipBlock` /32, `blockAddress`), ports by number.
    func rules(_ flows: Set<ObservedFlow>, protected: Group, peer: KeyPath<ObservedFlow, ObjectKey>) -> [NetworkPolicy.Rule] {
        var ports: [Group: Set<PortKey>] = [:]
        var blockPorts: [IPv4: Set<PortKey>] = [:]
        let mesh = MeshEngine(cluster)
        for flow in flows {
            let peerKey = flow[keyPath: peer]
            let key = PortKey(proto: flow.port.proto, number: flow.port.port, name: portName(flow))
            if let address = blockAddress(of: peerKey) {
                blockPorts[address, default: []].insert(key)
                continue
            }
            guard let peerGroup = group(of: peerKey) else { continue }
            ports[peerGroup, default: []].insert(key)
            if flow.port.proto == .tcp, mesh.evaluate(from: flow.from, to: .pod(flow.to), port: flow.port).tunnel != nil {
                ports[peerGroup, default: []].insert(PortKey(proto: .tcp, number: Int(MeshDataPath.hbonePort), name: nil))
            }
        }
        let byGroup = ports.sorted {
            ($0.key.namespace, $0.key.labels.sorted { $0.key < $1.key }.description) < (
                $1.key.namespace, $1.key.labels.sorted { $0.key < $1.key }.description
            )
        }
        .map { peerGroup, keys in
            var peer = NetworkPolicy.Peer(podSelector: selector(of: peerGroup))
            if peerGroup.namespace != protected.namespace {
                peer.namespaceSelector = LabelSelector(matchLabels: [Namespace.nameLabel: peerGroup.namespace])
            }
            return NetworkPolicy.Rule(peers: [peer], ports: Self.ports(keys))
        }
        let byBlock = blockPorts.sorted { $0.key < $1.key }.map { address, keys in
            NetworkPolicy.Rule(peers: [NetworkPolicy.Peer(ipBlock: .init(cidr: CIDR.ipv4(address, 32)))], ports: Self.ports(keys))
        }
        return byGroup + byBlock
    }

    /// The rule's ports, each once, sorted by protocol and number.
    static func ports(_ keys: Set<PortKey>) -> [NetworkPolicy.Port] {
        var written: Set<NetworkPolicy.Port> = []
        return keys.sorted { ($0.proto.rawValue, $0.number) < ($1.proto.rawValue, $1.number) }
            .map { NetworkPolicy.Port(proto: $0.proto, port: $0.name.map { .name($0) } ?? .number($0.number)) }
            .filter { written.insert($0).inserted }
    }

    struct PortKey: Hashable {
        var proto: TransportProtocol
        var number: Int
        var name: String?
    }
}
