import KeycardModel
import KeycardRuleset
import KeycardValues

/// Keeps the compiled tables of a lab between changes and turns each cluster change into the set
/// and map element changes it causes, in time that grows with what changed, not with the policies
/// in place.
///
/// Per protected pod and direction it keeps the allow tuples with their contributions (reference
/// counts: a tuple stays while any (policy, rule) contributes it), per rule the pods its peers
/// select, and indexes from peer clauses and pod selectors to rules and policies. A change
/// re-flattens only the (pod, rule) pairs it touches; the tuples whose count crosses zero become
/// the element additions and deletions. `tables` always equals `PolicyCompiler.compile` of
/// `cluster` (element order aside; the comment of an element is its contribution when it was added).
public final class IncrementalCompiler {
    public let compiler: PolicyCompiler
    let nodes: [ObjectKey: Int]
    let nodeCount: Int
    /// The cluster the tables are compiled for.
    public internal(set) var cluster: Cluster
    /// The tables of every target, as `PolicyCompiler.compile` gives them, built from the kept
    /// state on each call (the updates themselves never build or copy whole tables).
    public var tables: [RulesetTarget: Table] { buildTables() }

    var programs: [ProgramKey: ProgramState] = [:]
    var rules: [RuleKey: RuleState] = [:]
    /// Each distinct peer clause (peer, policy namespace) and the rules that hold it.
    var clauses: [Clause: Set<RuleKey>] = [:]
    /// The pods each clause selects now (matched once per clause, not once per rule).
    var clausePods: [Clause: Set<ObjectKey>] = [:]
    /// Egress rules naming no peer but a named port: their tuples depend on every pod's ports.
    var allPeerNamedRules = Set<RuleKey>()
    /// The pods each policy's podSelector selects.
    var selectedPods: [ObjectKey: Set<ObjectKey>] = [:]
    /// Per namespace, its policies grouped by podSelector (a pod is matched once per selector).
    var selectors: [String: [LabelSelector: Set<ObjectKey>]] = [:]
    var podsByNamespace: [String: Set<ObjectKey>] = [:]

    /// Compiles `cluster` from nothing (every policy and pod once).
    public init(compiler: PolicyCompiler, cluster: Cluster, nodes: [ObjectKey: Int], nodeCount: Int) {
        self.compiler = compiler
        self.nodes = nodes
        self.nodeCount = nodeCount
        self.cluster = Cluster()
        var everything = ChangedObjects(from: Cluster(), to: cluster)
        everything.pods.formUnion(nodes.keys)
        var work = UpdateWork()
        apply(cluster, everything, &work)
        for key in work.before.keys { _ = settle(key, work) }
    }

    /// Whether `update(to:)` can move the tables to `new`: only while the cluster-wide inputs the
    /// tables read besides objects are the same (`ChangedObjects` compares objects). A reused lab
    /// starting a scenario with another `spec.lab.nodeIngress` or node layout needs every table
    /// compiled whole.
    public func canUpdate(to new: Cluster) -> Bool {
        cluster.nodeIngress == new.nodeIngress && cluster.podNodes == new.podNodes && cluster.externals == new.externals
            && cluster.nodeCount == new.nodeCount
    }

    /// Moves to `new`: `change` names what differs from the current cluster (nil: found by
    /// comparing the two clusters object by object). Returns, per target whose table changes,
    /// the new table and how to get there.
    public func update(to new: Cluster, change: ChangedObjects? = nil) -> [RulesetTarget: TableUpdate] {
        let change = change ?? ChangedObjects(from: cluster, to: new)
        if change.isEmpty {
            cluster = new
            return [:]
        }
        var work = UpdateWork()
        apply(new, change, &work)
        return emit(work)
    }

    /// A table built from the kept state (for a target whose table is replaced whole).
    func buildTable(_ target: RulesetTarget) -> Table? {
        switch (target, compiler.placement) {
        case (.pod(let key), .pod):
            if let pod = cluster.pods[key] { return pod.hostNetwork ? nil : compiler.podTable(pod, cluster, allowed: allowed) }
            return nodes[key] == nil ? nil : compiler.absentPodTable()
        case (.node(let index), .node):
            let local = nodes.filter { $0.value == index }.map(\.key).sorted()
            return compiler.nodeTable(local, cluster, absent: absentAddresses(), allowed: allowed)
        default: return nil
        }
    }

    func buildTables() -> [RulesetTarget: Table] {
        var result: [RulesetTarget: Table] = [:]
        switch compiler.placement {
        case .pod:
            for key in Set(cluster.pods.keys).union(nodes.keys) { result[.pod(key)] = buildTable(.pod(key)) }
        case .node:
            for index in 0..<nodeCount { result[.node(index)] = buildTable(.node(index)) }
        }
        return result
    }

    func absentAddresses() -> [IPv4] {
        nodes.keys.filter { cluster.pods[$0] == nil }.sorted().compactMap { cluster.addresses[$0] }
    }

    /// The kept tuples of a pod and direction; nil while no policy isolates it.
    func allowed(_ pod: Pod, _ direction: NetworkPolicy.PolicyType) -> AllowTuples? {
        guard let state = programs[ProgramKey(pod: pod.key, direction: direction)], !state.selecting.isEmpty else { return nil }
        return state.tuples
    }
}

/// One protected pod and direction.
struct ProgramKey: Hashable {
    var pod: ObjectKey
    var direction: NetworkPolicy.PolicyType
}

/// One rule of one policy in one direction.
struct RuleKey: Hashable {
    var policy: ObjectKey
    var direction: NetworkPolicy.PolicyType
    var index: Int
}

/// A peer of a rule, with the namespace of its policy (a peer without a namespaceSelector
/// selects in its policy's namespace): rules sharing it are matched against a pod once.
struct Clause: Hashable {
    var peer: NetworkPolicy.Peer
    var namespace: String
}

/// What the compiler keeps for one protected pod and direction.
struct ProgramState {
    /// The policies that select the pod with this direction among their types.
    var selecting = Set<ObjectKey>()
    /// Every contribution's tuples together, with reference counts.
    var tuples = AllowTuples()
    /// Each rule's contribution, to take back exactly when the rule or its peers change.
    var contributions: [RuleKey: AllowTuples] = [:]
    /// The ranges set's disjoint boxes now (the whole space while nothing isolates the pod).
    var pieces: [TupleBox] = [IncrementalCompiler.everything]
}

/// What the compiler keeps for one rule.
struct RuleState {
    var policy: NetworkPolicy
    var rule: NetworkPolicy.Rule
    /// The pods its peers select (unused when it names no peer).
    var pods: Set<ObjectKey>
    /// The peers as the flattener wants them; rebuilt when `pods` changes.
    var peers: CompileCache.Peers?
}
