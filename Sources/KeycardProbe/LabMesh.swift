import Glibc
import KeycardKernel
import KeycardLab
import KeycardMesh
import KeycardModel
import KeycardScenario
import KeycardTopology
import KeycardValues
import Logging
import NIOConcurrencyHelpers

/// The mesh data plane of one `keycard run`'s lab (spec mesh.md 2.8): the lab CA in the lab's
/// state folder (`<state>/mesh/`, key mode 0600, removed with the lab), one proxy in this process
/// with listeners in every pod that is in the mesh at some step (and in every attacker pod,
/// `LabMeshRedirect.attackers`), the capture tables following the cluster step by step, and the
/// channel through which the prober tells the proxy what a probe presents and reads its records.
///
/// Order (`LabMeshRedirect`): listeners first, then captures; at tear-down the proxy closes and
/// the namespaces (with their capture tables) go with the lab.
public final class LabMesh {
    public let ca: LabCA
    let proxy: MeshProxy
    let intents = MeshIntents()
    let flows = MeshFlowLog()
    let redirect: LabMeshRedirect
    private let current: NIOLockedValueBox<Cluster>
    private let logger = Logger(label: "keycard.mesh")

    /// The folder of the lab's CA and keys.
    public static func folder(lab: String) -> String { "\(LabPaths.directory(lab))/mesh" }

    /// Opens the CA, starts the proxy and attaches it to every pod the timeline puts in the mesh
    /// (or lets forge an identity); nothing is captured until `program(_:)`.
    /// - Parameter connectTimeout: the proxy's upstream connect timeout: a NetworkPolicy drop of the
    ///   proxy's own connection shows as `deny` after it, so it must be shorter than the prober's.
    /// - Throws: `MeshIdentityError`, `KernelError`, `MeshProxyError`.
    public init(lab: LabInstance, timeline: Timeline, connectTimeout: Duration) throws {
        let attackers = LabMeshRedirect.attackers(timeline)
        ca = try LabCA(folder: Self.folder(lab: lab.plan.labName), trustDomain: timeline.initial.mesh.trustDomain)
        let current = NIOLockedValueBox(timeline.initial)
        self.current = current
        let milliseconds = Int64(connectTimeout.components.seconds * 1000 + connectTimeout.components.attoseconds / 1_000_000_000_000_000)
        proxy = try MeshProxy(
            labName: lab.plan.labName, ca: ca, cluster: { current.withLockedValue { $0 } }, intents: intents, flows: flows,
            connectTimeout: .milliseconds(milliseconds))
        redirect = LabMeshRedirect(plan: lab.plan, fresh: true, attackers: attackers)
        var attached: Set<ObjectKey> = attackers
        for state in [timeline.initial] + timeline.states {
            for key in state.pods.keys where state.dataPlane(of: key) != .none { attached.insert(key) }
        }
        do {
            for pod in lab.plan.pods where attached.contains(ObjectKey(pod.namespace, pod.name)) {
                try proxy.attach(pod: ObjectKey(pod.namespace, pod.name), namespace: pod.netns, address: pod.address)
            }
        } catch {
            tearDown()
            throw error
        }
        logger.info("mesh proxy up", metadata: ["lab": "\(lab.plan.labName)", "pods": "\(proxy.attachedPods.count)"])
    }

    /// Makes `cluster` the state the proxy judges by and captures the pods meshed in it; the
    /// records of earlier steps are forgotten. Returns the pods whose capture was added or removed.
    @discardableResult
    public func program(_ cluster: Cluster) throws -> Set<ObjectKey> {
        current.withLockedValue { $0 = cluster }
        flows.clear()
        intents.clear()
        return try redirect.program(for: cluster)
    }

    /// A `rotate` step: a new CA root (every SVID re-issued from it, the old root no longer
    /// trusted) or a new SVID for one service account. Connections made afterwards carry them.
    public func rotate(_ rotation: RotateStep) throws {
        switch rotation {
        case .ca: try ca.rotate()
        case .serviceAccount(let namespace, let name): _ = try ca.rotate(namespace: namespace, serviceAccount: name)
        }
        logger.info("mesh certificates rotated", metadata: ["what": "\(rotation.description)"])
    }

    /// Forgets every record and intent: before each probe or scan step, so that nothing an
    /// earlier step left can answer for a connection of this one.
    public func forgetConnections() {
        flows.clear()
        intents.clear()
    }

    /// What the prober needs (`MeshProbing`) for probes of `cluster`.
    public func probing(_ cluster: Cluster) -> MeshProbing {
        MeshProbing(
            cluster: cluster, channel: LabMeshChannel(intents: intents, flows: flows, cluster: cluster, proxy: proxy),
            captured: redirect.capturedPods)
    }

    /// Closes the proxy and removes the CA's files; idempotent.
    public func tearDown() {
        proxy.shutdown()
        ca.remove()
    }
}

/// The prober's channel to the lab proxy: intents in, records out.
struct LabMeshChannel: MeshProbeChannel {
    let intents: MeshIntents
    let flows: MeshFlowLog
    let cluster: Cluster
    let proxy: MeshProxy

    func waveStarts(deadline: Duration) {
        let half = MeshProbing.proxyConnectTimeout(wave: deadline)
        proxy.upstreamConnectTimeout = .nanoseconds(Self.nanoseconds(half))
        // The inbound checks wait as long as the prober does (never less than the proxy's 5 s):
        // a handshake slowed by a busy machine must not become a refusal.
        proxy.inboundCheckTimeout = .nanoseconds(max(5_000_000_000, Self.nanoseconds(deadline)))
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }

    func declare(source: ObjectKey, sourcePort: UInt16, request: MeshRequest) {
        intents.set(request, pod: source, sourcePort: sourcePort)
    }

    func verdict(source: IPv4, sourcePort: UInt16, destination: IPv4, port: UInt16) -> MeshFlowLookup {
        switch flows.clientOutcome(of: MeshFlow(source, sourcePort, destination, port)) {
        case .decided(let record):
            .decided(MeshFlowVerdict(record.outcome, detail: record.detail, reason: Self.reason(record), gaveUp: record.gaveUp))
        case .awaitingDestination(let hop): .awaitingDestination(hop: Self.reason(hop))
        case .unknown: .none
        }
    }

    /// The record in words: who judged, with what mode and policy, and which peer it saw.
    ///
    /// A drop of the proxy's upstream connection was judged by no proxy: it names no destination
    /// as the place, no kind of policy (the report's `rule`, `RuleAttribution`, names the one the
    /// model holds responsible, a NetworkPolicy or a cluster policy) and no peer (none was
    /// reached). Its place is known only when `connect()` failed at once with EPERM or EACCES: the
    /// source pod's own output chain, its egress (the word `RuleAttribution.confirmed` reads).
    static func reason(_ record: MeshFlowRecord) -> String {
        var parts: [String] = []
        let target = record.pod.map { "\($0) (\(record.plane?.rawValue ?? "?"))" }
        switch record.outcome {
        case .deny:
            let towards = target.map { " to \($0)" } ?? ""
            let how = (record.drop ?? .timeout).description
            if case .socketError(let code)? = record.drop, code == EPERM || code == EACCES {
                parts.append("the source's egress dropped the proxy's upstream connection\(towards) (\(how))")
            } else {
                parts.append("the proxy's upstream connection\(towards) was dropped on its way (\(how))")
            }
            return parts.joined(separator: "; ")
        case .closed where record.gaveUp: if let target { parts.append("at \(target)") }
        case .closed:
            if let target { parts.append("at \(target)") }
            parts.append("nothing serves the port")
        case .allow, .skipped: if let target { parts.append("at \(target)") }
        case .denyMTLS, .denyRBAC:
            if let target { parts.append("at \(target)") }
            if let detail = record.detail { parts.append(detail) }
        }
        if let mode = record.mode {
            parts.append("mTLS \(mode.mode.rawValue) set by \(mode.setBy.map(\.description) ?? "default")")
        }
        // The peer as the destination's proxy saw it: only a record of that proxy (its mode, or its
        // refusal of plaintext) knows the connection came without a certificate.
        if let principal = record.principal {
            parts.append("peer spiffe://\(principal)")
        } else if record.detail == "plaintext-refused" || record.mode != nil && record.outcome != .denyMTLS {
            parts.append("plaintext peer")
        }
        if let decision = record.authorization { parts.append("authorization: \(decision.description)") }
        return parts.joined(separator: "; ")
    }
}
