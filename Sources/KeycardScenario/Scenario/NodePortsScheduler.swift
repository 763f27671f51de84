import KeycardModel

/// Which pods the API server holds actually run, as the scheduler's NodePorts filter lets them
/// (pkg/scheduler/framework/plugins/nodeports): a pod whose node ports (`Pod.nodeClaims`: its
/// `hostPort`s, a host-network pod's container ports) conflict with those of a pod already
/// bound to its node (`HostPort.conflicts(with:)`) is not bound there. keycard keeps each pod on
/// the node `AddressPlan` gave it (round-robin, preferring a node with the ports free; `nodeName`;
/// a `kubernetes.io/hostname` selector), so such a pod:
/// - made by a controller, or a bare pod without `spec.nodeName`, stays Pending: it runs nowhere,
///   has no address and is not probed, until the pod holding the port is gone (then it is bound);
/// - a bare pod with `spec.nodeName` skips the scheduler, and the kubelet of that node refuses it
///   at admission (it runs the same NodePorts check): it fails and never runs, under that name.
/// A pod once bound keeps its ports while it exists; pods are considered in order of first
/// appearance (`Timeline.everyPod`), as the scheduler's queue takes them.
///
/// A pod no lab node can take at all (`Pod.unschedulable`: its nodeSelector names another OS or
/// architecture) stays Pending the same way, as the NodeAffinity filter keeps it (a DaemonSet's
/// controller makes no pod for such a node; keycard's pod stays Pending, which runs nothing either).
/// A pod in a terminal phase (`Pod.terminalPhase`: Succeeded or Failed) is left out the same way:
/// it runs nothing, and holds no node port (the scheduler counts only pods not terminal).
struct NodePortsScheduler: Sendable {
    /// Each pod's first appearance: its rank, and where it was written or made.
    private var order: [ObjectKey: Int] = [:]
    private var locations: [ObjectKey: SourceLocation] = [:]
    /// Whether any pod of the scenario claims a node port (otherwise every pod runs).
    private let active: Bool
    /// Pods bound to their node, holding their claims.
    private var bound: Set<ObjectKey> = []
    /// Bare pods with `nodeName` the kubelet refused: failed for as long as they exist.
    private var refused: Set<ObjectKey> = []
    private var warned: Set<ObjectKey> = []
    /// One warning per pod kept from running.
    private(set) var warnings: [ScenarioWarning] = []

    init(everyPod: [LoadedObject]) {
        var claims = false
        for (rank, loaded) in everyPod.enumerated() {
            guard case .pod(let pod) = loaded.object else { continue }
            if order[pod.key] == nil {
                order[pod.key] = rank
                locations[pod.key] = loaded.location
            }
            if !pod.nodeClaims.isEmpty || pod.unschedulable != nil || pod.terminalPhase != nil { claims = true }
        }
        active = claims
    }

    /// `cluster` as it runs: without the pods that are Pending or refused for their node ports.
    /// `cluster` itself (the API server's objects) keeps them, so controllers do not replace them.
    mutating func running(_ cluster: Cluster) -> Cluster {
        guard active else { return cluster }
        bound = bound.filter { cluster.pods[$0] != nil }
        refused = refused.filter { cluster.pods[$0] != nil }
        var held: [Int: [(claim: HostPort, holder: ObjectKey)]] = [:]
        for key in bound.sorted() {
            guard let pod = cluster.pods[key], let node = cluster.podNodes[key] else { continue }
            held[node, default: []] += pod.nodeClaims.map { ($0, key) }
        }
        let waiting = cluster.pods.values
            .filter { !$0.nodeClaims.isEmpty && !bound.contains($0.key) }
            .sorted { (order[$0.key] ?? Int.max, $0.key) < (order[$1.key] ?? Int.max, $1.key) }
        var result = cluster
        for pod in cluster.sortedPods {
            let why: String
            if let reason = pod.unschedulable {
                why = "stays Pending: \(reason)"
            } else if let phase = pod.terminalPhase {
                why =
                    "has status.phase \(phase): its containers have ended, so it is no Service endpoint and has no DNS record"
            } else {
                continue
            }
            result.pods[pod.key] = nil
            result.sidecars.remove(pod.key)
            if warned.insert(pod.key).inserted, let location = locations[pod.key] {
                warnings.append(
                    ScenarioWarning(location: location, message: "pod \(pod.key) \(why); it has no address and is not probed"))
            }
        }
        for pod in waiting where pod.unschedulable == nil && pod.terminalPhase == nil {
            guard let node = cluster.podNodes[pod.key] else { continue }
            if refused.contains(pod.key) {
                result.pods[pod.key] = nil
                result.sidecars.remove(pod.key)
                continue
            }
            let conflict = pod.nodeClaims.lazy.compactMap { claim in
                held[node]?.first { $0.claim.conflicts(with: claim) }.map { (claim, $0.holder) }
            }.first
            guard let (claim, holder) = conflict else {
                bound.insert(pod.key)
                held[node, default: []] += pod.nodeClaims.map { ($0, pod.key) }
                continue
            }
            result.pods[pod.key] = nil
            result.sidecars.remove(pod.key)
            if pod.namesItsNode { refused.insert(pod.key) }
            if warned.insert(pod.key).inserted, let location = locations[pod.key] {
                let message =
                    pod.namesItsNode
                    ? "pod \(pod.key): spec.nodeName binds it to node-\(node) without the scheduler, and that node's kubelet refuses it: host port \(claim) is taken there by pod \(holder) (NodePorts); it fails, never runs and is not probed"
                    : "pod \(pod.key) stays Pending: host port \(claim) is taken on node-\(node) by pod \(holder), and the scheduler's NodePorts filter binds no second pod there; it has no address and is not probed until that pod is gone"
                warnings.append(ScenarioWarning(location: location, message: message))
            }
        }
        return result
    }
}
