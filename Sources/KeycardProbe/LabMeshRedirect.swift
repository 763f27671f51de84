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
    private let programmers = NftablesProgrammers()
    /// The capture table installed in each pod's namespace.
    public private(set) var installed: [ObjectKey: Table] = [:]
    /// Pods whose tables an earlier process installed (`assumeProgrammed`): rewritten whole.
    private var unverified: Set<ObjectKey> = []
    /// Nothing was captured yet, so there is no tracked connection to forget.
    private var untracked: Bool
    private let flusher = ConntrackFlusher()
    private let logger = Logger(label: "keycard.mesh-redirect")

    /// Pods outside the mesh whose outbound TCP is captured all the same: sources of probes that
    /// present a forged or stolen certificate (`attackers(_:)`).
    public let attackers: Set<ObjectKey>

    /// - Parameters:
    ///   - plan: the running lab (each pod's namespace).
    ///   - fresh: the lab was just built by this process: the first programming flushes no conntrack.
    ///   - attackers: pods that get the outbound capture even outside the mesh.
    public init(plan: LabPlan, fresh: Bool = false, attackers: Set<ObjectKey> = []) {
        compiler = MeshRedirectCompiler(labName: plan.labName)
        namespaces = LabServing.podNamespaces(plan)
        untracked = fresh
        self.attackers = attackers
    }

    /// The sources of `timeline`'s probes and scans that present a `spoofed` or `stolen`
    /// certificate (spec mesh.md 2.4): outside the mesh such a pod has no proxy of its own, so the
    /// lab proxy presents the certificate for it, as the attacker's own TLS client would; every
    /// other connection of the pod passes through it as the plaintext it is.
    public static func attackers(_ timeline: Timeline) -> Set<ObjectKey> {
        func forges(_ identity: ProbeIdentity) -> Bool {
            switch identity {
            case .spoofed, .stolen: true
            case .mesh, .none: false
            }
        }
        var pods: Set<ObjectKey> = []
        for probe in timeline.probes.values where forges(probe.request.identity) { pods.formUnion(probe.sources) }
        for (index, scan) in timeline.scans {
            guard case .scan(let step)? = timeline.scenario.steps.first(where: { $0.index == index })?.action, forges(step.identity)
            else { continue }
            pods.formUnion(scan.sources)
        }
        return pods
    }

    /// Whether a lab playing `timeline` needs the mesh layout of its policy tables
    /// (`LabPolicies(meshLayout:)`): some pod is meshed at some step, or a probe forges an
    /// identity (`attackers`), whose connections the lab proxy carries.
    public static func needsMeshLayout(_ timeline: Timeline) -> Bool {
        ([timeline.initial] + timeline.states).contains { $0.hasMeshedPods } || !attackers(timeline).isEmpty
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
        let wanted = compiler.compile(cluster, attackers: attackers).filter { namespaces[$0.key] != nil }
        var changed: Set<ObjectKey> = []
        for key in Set(installed.keys).union(wanted.keys).sorted() {
            guard let namespace = namespaces[key] else { continue }
            let stale = unverified.contains(key)
            let old = stale ? nil : installed[key]
            let new = wanted[key]
            if old == new && !stale { continue }
            try programmers.move(
                namespace, from: stale ? .unknown : .known(old), to: new, name: compiler.tableName, family: MeshRedirectCompiler.family)
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
        for (key, table) in compiler.compile(cluster, attackers: attackers) where namespaces[key] != nil {
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
}
