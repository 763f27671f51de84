import KeycardCompiler
import KeycardKernel
import KeycardModel
import KeycardRuleset
import KeycardScenario
import KeycardTopology
import Logging

/// Programs the mesh's capture (`MeshRedirectCompiler`, table `kc-LAB-mesh`) into the namespace
/// of every pod that is in the mesh now, in both placements, and removes it from pods that left:
/// sidecar pods keep it from creation to deletion, ambient pods follow their labels (R2, R3).
///
/// Each pod's namespace changes in its own transaction (add or remove one whole table), apart
/// from the policy tables (`LabPolicies`), whose layout does not depend on which pods are meshed
/// (`LabPolicies(meshLayout:)` is decided once per lab), so the two never need to switch together.
/// Order for callers: the proxy's listeners (15001, 15006) must be open in a pod's namespace
/// before its capture is added (else captured connections are refused), and closed only after it
/// is removed. Tear-down needs nothing: the tables live in the pod namespaces, which `Lab.down`
/// deletes (so `keycard down` leaves nothing either).
public final class LabMeshRedirect {
    private let compiler: MeshRedirectCompiler
    private let namespaces: [ObjectKey: String]
    private var programmers: [String: NftablesProgrammer] = [:]
    /// The capture table installed in each pod's namespace.
    public private(set) var installed: [ObjectKey: Table] = [:]
    /// Pods whose tables an earlier process installed (`assumeProgrammed`): rewritten whole.
    private var unverified: Set<ObjectKey> = []
    /// Nothing was captured yet, so there is no tracked connection to forget.
    private var untracked: Bool
    private let flusher = ConntrackFlusher()
    private let logger = Logger(label: "keycard.mesh-redirect")

    /// - Parameters:
    ///   - plan: the running lab (each pod's namespace).
    ///   - fresh: the lab was just built by this process: the first programming flushes no conntrack.
    public init(plan: LabPlan, fresh: Bool = false) {
        compiler = MeshRedirectCompiler(labName: plan.labName)
        namespaces = LabServing.podNamespaces(plan)
        untracked = fresh
    }

    /// Whether a lab playing `timeline` needs the mesh layout of its policy tables
    /// (`LabPolicies(meshLayout:)`): some pod is meshed at some step.
    public static func needsMeshLayout(_ timeline: Timeline) -> Bool {
        ([timeline.initial] + timeline.states).contains { $0.hasMeshedPods }
    }

    /// The pods whose connections are captured now.
    public var capturedPods: Set<ObjectKey> { Set(installed.keys) }

    /// Moves every pod namespace of the lab to the capture `cluster` asks for: a table for each
    /// pod meshed now (`Cluster.dataPlane(of:) != .none`), none for the others. A pod whose
    /// capture appeared or went has its tracked connections forgotten, so the next connections
    /// are captured (or not) anew. Returns the pods whose capture changed.
    /// - Throws: `KernelError` from the first namespace that refused; pods before it are done.
    @discardableResult
    public func program(for cluster: Cluster) throws -> Set<ObjectKey> {
        let wanted = compiler.compile(cluster).filter { namespaces[$0.key] != nil }
        var changed: Set<ObjectKey> = []
        for key in Set(installed.keys).union(wanted.keys).sorted() {
            guard let namespace = namespaces[key] else { continue }
            let stale = unverified.contains(key)
            let old = stale ? nil : installed[key]
            let new = wanted[key]
            if old == new && !stale { continue }
            let programmer = try programmer(namespace)
            if let new {
                try programmer.apply(old: old, new: new)
            } else {
                try programmer.remove(table: compiler.tableName, family: MeshRedirectCompiler.family)
            }
            installed[key] = new
            unverified.remove(key)
            changed.insert(key)
            if !untracked { try flusher.flush(namespace: namespace) }
        }
        untracked = false
        if !changed.isEmpty {
            logger.debug("mesh capture programmed", metadata: ["pods changed": "\(changed.count)", "captured": "\(installed.count)"])
        }
        return changed
    }

    /// Declares what an earlier process programmed for `cluster` (a live lab between two verbs):
    /// the next `program` rewrites those tables whole and removes the ones no longer wanted.
    public func assumeProgrammed(_ cluster: Cluster) {
        for (key, table) in compiler.compile(cluster) where namespaces[key] != nil {
            installed[key] = table
            unverified.insert(key)
        }
        untracked = false
    }

    /// Removes every capture table (a lab handed to a scenario without the mesh, or `--keep`
    /// cleanups); the namespaces themselves stay.
    public func removeAll() throws {
        try program(for: Cluster())
    }

    private func programmer(_ namespace: String) throws(KernelError) -> NftablesProgrammer {
        if let existing = programmers[namespace] { return existing }
        let created = try NftablesProgrammer(namespace: namespace)
        programmers[namespace] = created
        return created
    }
}
