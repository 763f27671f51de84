import KeycardKernel
import KeycardModel
import KeycardValues
import NIOConcurrencyHelpers

/// One TCP connection as the kernel names it: source and destination address and port.
public struct MeshFlow: Hashable, Sendable, CustomStringConvertible {
    public var sourceAddress: IPv4
    public var sourcePort: UInt16
    public var destinationAddress: IPv4
    public var destinationPort: UInt16

    public init(_ sourceAddress: IPv4, _ sourcePort: UInt16, _ destinationAddress: IPv4, _ destinationPort: UInt16) {
        self.sourceAddress = sourceAddress
        self.sourcePort = sourcePort
        self.destinationAddress = destinationAddress
        self.destinationPort = destinationPort
    }

    public var description: String { "\(sourceAddress):\(sourcePort) → \(destinationAddress):\(destinationPort)" }
}

/// What the proxy did with one connection, with the cause of a refusal (spec mesh.md 2.5).
public struct MeshFlowRecord: Hashable, Sendable {
    /// What the proxy observed (never `skipped`). `closed`: both checks passed and nothing serves
    /// the port (R57); `deny`: the upstream connect timed out (NetworkPolicy dropped the proxy's
    /// connection).
    public var outcome: Observation
    /// `plaintext-refused`, `bad-certificate` (deny-mtls); `http-403`, `reset` (deny-rbac);
    /// `tls-to-plain-port` (TLS passed through a DISABLE port to an application that speaks none).
    public var detail: String?
    /// The destination pod that judged (inbound) or was aimed at (outbound).
    public var pod: ObjectKey?
    public var plane: DataPlane?
    /// The destination port's effective mode and who set it.
    public var mode: MutualTLSMode?
    /// The verified peer principal (nil: plaintext, or the handshake failed).
    public var principal: String?
    /// The authorization step, when it was reached.
    public var authorization: AuthorizationDecision?
    /// The proxy gave up on the connection before it could decide (a client too slow for the
    /// checks on a busy machine, an error, the pod gone): `outcome` is `closed` and `detail` says
    /// why, but it is no verdict (spec mesh.md 2.5 reserves `closed` for a connection that passed
    /// both checks). The prober reports it as a lab error and sends the cell again.
    public var gaveUp = false
    /// `deny` only: how the proxy's upstream connection was dropped, a timeout (somewhere on the way)
    /// or an error of `connect()` at once (EPERM/EACCES: the source pod's own output chain).
    public var drop: DenyReason?
}

/// A connection's place in the order the proxy accepted connections, taken when it is accepted
/// (before its original destination, and so its `MeshFlow`, is known).
public struct MeshFlowTicket: Hashable, Sendable {
    let generation: UInt64
}

/// The right to write one connection's record. The connection accepted last on a 4-tuple holds it
/// (the prober's retry keeps its source port); what an earlier connection still writes is ignored.
public struct MeshFlowClaim: Hashable, Sendable {
    public let flow: MeshFlow
    let generation: UInt64
}

/// The proxy's record of every connection it handled, read by the prober (spec mesh.md 2.5: "the
/// lab proxy records the cause of every refusal, and the prober reads that record"). Thread-safe.
///
/// Outbound connections are linked to the upstream connection the proxy opened for them, so
/// `clientOutcome(of:)` returns what the destination's proxy recorded about that hop (both sides
/// run in this one process), and never the source proxy's own `allow` of a hop to a meshed
/// destination, which only says the hop was opened. Records stay until `clear()`.
///
/// Writes go through a `MeshFlowClaim`: a connection the prober gave up on (a timed-out attempt)
/// can still be at work in the proxy when the retry arrives on the same 4-tuple, and its late
/// record or link must not replace the retry's (that showed as a refusal nobody recorded).
public final class MeshFlowLog: Sendable {
    private struct State {
        var records: [MeshFlow: MeshFlowRecord] = [:]
        var links: [MeshFlow: MeshFlow] = [:]
        var claims: [MeshFlow: UInt64] = [:]
        var nextGeneration: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// A ticket for a connection just accepted.
    public func ticket() -> MeshFlowTicket {
        state.withLockedValue { state in
            state.nextGeneration += 1
            return MeshFlowTicket(generation: state.nextGeneration)
        }
    }

    /// Claims `flow` for the connection holding `ticket`: forgets the flow's record and link (a new
    /// connection on the same 4-tuple must never be answered by an earlier one's record). A ticket
    /// older than the flow's current claim gets a claim that is already superseded and changes nothing.
    public func claim(_ flow: MeshFlow, with ticket: MeshFlowTicket) -> MeshFlowClaim {
        state.withLockedValue { state in
            let claim = MeshFlowClaim(flow: flow, generation: ticket.generation)
            guard (state.claims[flow] ?? 0) < ticket.generation else { return claim }
            state.claims[flow] = ticket.generation
            state.records[flow] = nil
            state.links[flow] = nil
            return claim
        }
    }

    /// Records (or replaces) what happened to the claimed connection; ignored once superseded.
    public func record(_ record: MeshFlowRecord, for claim: MeshFlowClaim) {
        state.withLockedValue { state in
            guard state.claims[claim.flow] == claim.generation else { return }
            state.records[claim.flow] = record
        }
    }

    /// Links a client's (redirected) connection to the upstream flow the proxy opened for it;
    /// ignored once superseded.
    public func link(_ claim: MeshFlowClaim, to upstream: MeshFlow) {
        state.withLockedValue { state in
            guard state.claims[claim.flow] == claim.generation else { return }
            state.links[claim.flow] = upstream
        }
    }

    /// The record of `flow` itself, without following links.
    public func record(of flow: MeshFlow) -> MeshFlowRecord? { state.withLockedValue { $0.records[flow] } }

    /// What the log knows of a client's connection (`clientOutcome(of:)`).
    public enum ClientOutcome: Sendable, Equatable {
        /// The proxy that decided recorded this: the destination's inbound side for a hop that
        /// reached it; the source's outbound side when the hop itself ended it (connect timeout,
        /// refusal, failed handshake) or when nothing behind the hop judges (a destination outside
        /// the mesh).
        case decided(MeshFlowRecord)
        /// The source's proxy opened the hop to a meshed destination (`hop`: its own `allow`,
        /// written once the hop's handshake is done) and the destination's proxy has recorded no
        /// decision on it (yet). Never a verdict: a TLS 1.3 client finishes its handshake before
        /// the server has even checked its certificate, let alone authorized it.
        case awaitingDestination(hop: MeshFlowRecord)
        /// Nothing recorded.
        case unknown
    }

    /// What happened to a client's connection: the record of the upstream flow it was linked to
    /// (the destination proxy's decision), else its own record unless that record only says the
    /// hop to a meshed destination was opened (see `ClientOutcome`).
    public func clientOutcome(of flow: MeshFlow) -> ClientOutcome {
        state.withLockedValue { state in
            if let upstream = state.links[flow], let record = state.records[upstream] { return .decided(record) }
            guard let own = state.records[flow] else { return .unknown }
            if own.outcome == .allow, let plane = own.plane, plane != .none { return .awaitingDestination(hop: own) }
            return .decided(own)
        }
    }

    /// The decided record of a client's connection (`clientOutcome(of:)`), nil while none is.
    public func outcome(ofClientFlow flow: MeshFlow) -> MeshFlowRecord? {
        if case .decided(let record) = clientOutcome(of: flow) { return record }
        return nil
    }

    /// Every record (tests, reports).
    public var records: [MeshFlow: MeshFlowRecord] { state.withLockedValue { $0.records } }

    /// Forgets every record, link and claim; tickets taken before stay older than any taken after.
    public func clear() {
        state.withLockedValue { state in
            let generation = state.nextGeneration
            state = State()
            state.nextGeneration = generation
        }
    }
}

/// What each prober connection presents, keyed by source pod and client source port (the prober
/// binds its source port, so the proxy can tell its connections apart). Thread-safe.
public final class MeshIntents: Sendable {
    private let intents = NIOLockedValueBox([ObjectKey: [UInt16: MeshRequest]]())

    public init() {}

    /// Records what the prober asks of the connection leaving `pod` from `sourcePort` (its identity and
    /// HTTP request), for the proxy that captures it.
    public func set(_ request: MeshRequest, pod: ObjectKey, sourcePort: UInt16) {
        intents.withLockedValue { $0[pod, default: [:]][sourcePort] = request }
    }

    /// Forgets that connection's request once the probe is over (source ports are reused).
    public func remove(pod: ObjectKey, sourcePort: UInt16) {
        intents.withLockedValue { _ = $0[pod]?.removeValue(forKey: sourcePort) }
    }

    /// The request of that connection; `MeshRequest()` (mesh identity, via service) when none was set.
    public func request(pod: ObjectKey, sourcePort: UInt16) -> MeshRequest {
        intents.withLockedValue { $0[pod]?[sourcePort] } ?? MeshRequest()
    }

    /// Forgets every recorded request (between steps).
    public func clear() { intents.withLockedValue { $0 = [:] } }
}
