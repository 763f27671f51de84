import KeycardModel
import KeycardScenario
import KeycardValues

/// What one probe cell saw.
public struct CellObservation: Sendable, Equatable {
    public var observation: Observation
    public var attempts: Int
    /// Why it was skipped, or how a deny showed itself (timeout, ICMP, local drop).
    public var reason: String?
    /// How the mesh refused, as seen (spec mesh.md 2.5 `detail`).
    public var detail: String?
    /// The lab could not tell (a proxy gave up before deciding, or recorded nothing): the cell is
    /// reported as `deny` with a `reason` starting "lab error" and `labError` (`ProbeResult`), and
    /// fails whatever was expected; a mesh wave sends it once more first (`SocketProbeRunner.slowCells`).
    public var labError = false
    /// The name an answer carried when it was not the cell's destination's (keycard's servers
    /// answer with their endpoint's name: a pod's `ns/name`, an external's `external/NAME`).
    public var answeredBy: String?

    /// A cell to a pod (directly, or to a Service's or node port's aimed backend) that another
    /// endpoint answered proves nothing about that pod: the packet was delivered elsewhere (an
    /// address or DNAT the lab got wrong). It fails as a lab error whatever was expected, as a
    /// deny that names both (`pod` is the cell's destination pod; nil keeps the observation).
    func misdelivered(destinationPod pod: ObjectKey?) -> CellObservation {
        guard observation == .allow, let answeredBy, let pod else { return self }
        return CellObservation(
            observation: .deny, attempts: attempts,
            reason: "lab error: answered by \"\(answeredBy)\", not by \(pod): the packet reached another endpoint",
            labError: true)
    }
}

/// One endpoint a scan knocks on.
public struct ScanProbe: Sendable, Hashable {
    public var endpoint: Endpoint
    public var ip: IPv4
    public var port: Int

    public init(endpoint: Endpoint, ip: IPv4, port: Int) {
        self.endpoint = endpoint
        self.ip = ip
        self.port = port
    }
}

/// Answers probe steps and scans: from the policy model, or with real packets.
public protocol ProbeRunner {
    /// Observes every cell; the result is in the order of `cells`.
    func observe(_ cells: [ProbeCell], settings: ProbeSettings) throws -> [CellObservation]
    /// TCP connect scan from `source`; one state per target, in order. `identity` is what a scanner
    /// presents to the mesh (spec mesh.md 2.7); without the mesh it changes nothing.
    func scan(from source: ObjectKey, _ targets: [ScanProbe], settings: ProbeSettings, identity: ProbeIdentity) throws -> [ScanState]
}

/// The model's answer, as if packets had behaved exactly as Kubernetes (and Istio) say: allowed
/// cells answer (or are refused where nothing serves the port), denied cells are dropped, cells
/// the mesh refuses show its refusal with the model's detail.
public struct ModelProbeRunner: ProbeRunner {
    public let cluster: Cluster

    public init(cluster: Cluster) { self.cluster = cluster }

    public func observe(_ cells: [ProbeCell], settings: ProbeSettings) throws -> [CellObservation] {
        cells.map { cell in
            if let reason = cell.unjudgedReason { return CellObservation(observation: .skipped, attempts: 0, reason: reason) }
            if cell.port.proto == .sctp, case .pod(let key) = cell.to, key != cell.from {
                return CellObservation(observation: .skipped, attempts: 0, reason: "model only")
            }
            switch cell.outcome {
            case .deny: return CellObservation(observation: .deny, attempts: 1 + settings.retries)
            case .denyMTLS: return CellObservation(observation: .denyMTLS, attempts: 1, detail: cell.mesh?.detail)
            case .denyRBAC: return CellObservation(observation: .denyRBAC, attempts: 1, detail: cell.mesh?.detail)
            case .allow: break
            }
            // A host's kernel answers an echo request whatever it serves (RFC 1122 3.2.2.6).
            let echo: Bool =
                switch cell.to {
                case .pod, .external, .node: cell.port.proto == .icmp
                default: false
                }
            let served = echo || cluster.servedPorts(of: cell.to).contains(cell.port) || cell.to == .pod(cell.from)
            return CellObservation(observation: served ? .allow : .closed, attempts: 1)
        }
    }

    public func scan(from source: ObjectKey, _ targets: [ScanProbe], settings: ProbeSettings, identity: ProbeIdentity) throws
        -> [ScanState]
    {
        let judge = ScanJudge(
            cluster, source: source, meshIdentity: cluster.hasMeshedPods ? identity : nil, listening: cluster.serviceTargetPorts())
        return targets.map { judge.state($0.endpoint, ProtocolPort(.tcp, $0.port)) }
    }
}
