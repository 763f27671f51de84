import KeycardModel
import KeycardValues

/// What `keycard generate` must know of a flow line before it makes a policy from it: every
/// field the generator reads holds a value a keycard flow log can hold, and every pod it names is
/// one the scenario has at some moment. JSON's shape alone lets through a
/// `destination_port` of 99999, which would become a NetworkPolicy port the API server refuses
/// (`ValidateNetworkPolicyPort`, `IsValidPortNum`: 1-65535), or a pod of another scenario's log
/// that the generator would silently drop.
public struct FlowLineCheck: Sendable {
    let timeline: Timeline
    /// Every pod the scenario has at some step, and keycard's own (`Timeline.keycardPods`).
    let pods: Set<ObjectKey>

    /// The check of flows of `timeline`'s scenario.
    public init(_ timeline: Timeline) {
        self.timeline = timeline
        pods = timeline.keycardPods.union(timeline.everyPod.compactMap { if case .pod(let pod) = $0.object { pod.key } else { nil } })
    }

    /// Hubble's verdicts a keycard flow carries (`flow.Verdict`, `HubbleFlow.verdict`).
    static let verdicts: Set<String> = ["FORWARDED", "DROPPED", "AUDIT"]
    /// keycard's flow kinds (`KeycardFlowFacts.kind`).
    static let kinds: Set<String> = ["probe", "scan", "dns", "traffic"]

    /// What is wrong with a flow line.
    public enum Problem: Equatable, Sendable {
        /// A field holds what no keycard flow holds (`flow.l4.TCP.destination_port 99999 is not a
        /// port (1-65535)`), in the flow's own field names.
        case invalid(String)
        /// The flow names a pod the scenario never has (`Timeline.everyPod`, keycard's own pods):
        /// the log is another scenario's.
        case unknownPod(ObjectKey)
    }

    /// What is wrong with `line` as a flow of the scenario; nil when nothing is.
    public func problem(_ line: HubbleFlowLine) -> Problem? {
        invalidField(line).map(Problem.invalid) ?? unknownPod(line).map(Problem.unknownPod)
    }

    /// A field of `line` that holds what no keycard flow holds, described.
    func invalidField(_ line: HubbleFlowLine) -> String? {
        let flow = line.flow
        if !Self.verdicts.contains(flow.verdict) { return "flow.verdict \(flow.verdict) is not FORWARDED, DROPPED or AUDIT" }
        // keycard writes an empty address for an end that has none (a flow from outside the lab).
        for (field, address) in [("source", flow.IP.source), ("destination", flow.IP.destination)]
        where !address.isEmpty && IPv4(address) == nil {
            return "flow.IP.\(field) \(address) is not an IPv4 address"
        }
        if let problem = Self.layer4Problem(flow.l4) { return problem }
        // A pod end has both (`podKey`); a pod name alone would be read as no pod at all.
        for (field, end) in [("source", flow.source), ("destination", flow.destination)] where end.pod_name != nil && end.namespace == nil {
            return "flow.\(field).pod_name \(end.pod_name ?? "") has no flow.\(field).namespace"
        }
        if let facts = flow.extensions?.value {
            if !Self.kinds.contains(facts.kind) { return "flow.extensions.value.kind \(facts.kind) is not probe, scan, dns or traffic" }
            if !(0...timeline.scenario.steps.count).contains(facts.step) {
                return
                    "flow.extensions.value.step \(facts.step) is no step of scenario \(timeline.scenario.name) (0-\(timeline.scenario.steps.count))"
            }
            if let port = facts.applicationPort, !ProtocolPort.numbers.contains(port) {
                return "flow.extensions.value.applicationPort \(port) is not a port (1-65535)"
            }
            for (field, pod) in [("hostNetworkSource", facts.hostNetworkSource), ("hostNetworkDestination", facts.hostNetworkDestination)] {
                guard let pod else { continue }
                guard ObjectKey.parse(pod) != nil else { return "flow.extensions.value.\(field) \(pod) is not namespace/name" }
            }
        }
        return nil
    }

    /// A pod `line` names (an end, or a host-network pod of keycard's facts) that the scenario
    /// never has.
    func unknownPod(_ line: HubbleFlowLine) -> ObjectKey? {
        let facts = line.flow.extensions?.value
        let named =
            [line.flow.source.podKey, line.flow.destination.podKey]
            + [facts?.hostNetworkSource, facts?.hostNetworkDestination].map { $0.flatMap(ObjectKey.parse) }
        return named.compactMap { $0 }.first { !pods.contains($0) }
    }

    /// `flow.l4` holds exactly one protocol (a protobuf `oneof`), its destination port 1-65535
    /// and its source port, when written, 0-65535 (the generator reads only the destination's).
    static func layer4Problem(_ l4: HubbleFlow.Layer4) -> String? {
        let ports: [(String, Int?, Int)] = [
            l4.TCP.map { ("TCP", $0.source_port, $0.destination_port) }, l4.UDP.map { ("UDP", $0.source_port, $0.destination_port) },
            l4.SCTP.map { ("SCTP", $0.source_port, $0.destination_port) },
        ].compactMap { $0 }
        guard ports.count + (l4.ICMPv4 == nil ? 0 : 1) == 1 else { return "flow.l4 must hold exactly one of TCP, UDP, SCTP and ICMPv4" }
        for (proto, source, destination) in ports {
            if !ProtocolPort.numbers.contains(destination) {
                return "flow.l4.\(proto).destination_port \(destination) is not a port (1-65535)"
            }
            if let source, !(0...ProtocolPort.numbers.upperBound).contains(source) {
                return "flow.l4.\(proto).source_port \(source) is not a port number (0-65535)"
            }
        }
        return nil
    }
}
