import Foundation
import KeycardModel
import KeycardValues

/// Turns a step's report into Hubble flow lines (`HubbleFlowLine`): per dropped probe attempt and
/// per forwarded probe (the attempt that got through), per reported scan target, the monitor events
/// Cilium reports for that packet (`events(from:to:...)`: a policy verdict per side that enforces
/// policy, then the drop of a dropped one; a trace event when no side does). Policies
/// come from the model's `Verdict` of the cluster as it stood at that step; whether the kernel
/// confirmed the verdict comes from the observation (see `RuleAttribution.confirmed`). Pure.
public struct FlowLog: Sendable {
    public var scenario: String
    public var labName: String
    /// The node index of every pod of the lab (`AddressPlan.nodes`), for `node_name`.
    public var nodes: [ObjectKey: Int]
    /// Lab mode `audit`: a connection the model denies that got through is `AUDIT`, not `FORWARDED`.
    public var audit = false

    public init(scenario: String, labName: String, nodes: [ObjectKey: Int], audit: Bool = false) {
        self.scenario = scenario
        self.labName = labName
        self.nodes = nodes
        self.audit = audit
    }

    /// Hubble's `node_name` for a pod: `LAB-node-N`.
    public func nodeName(_ pod: ObjectKey?) -> String {
        "\(labName)-node-\(pod.flatMap { nodes[$0] } ?? 0)"
    }

    /// RFC 3339, UTC, with fractional seconds, as protobuf's JSON mapping writes a Timestamp.
    public static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// The flows of one step (none for a step without probes or scans), stamped `time`.
    public func flows(of step: StepReport, cluster: Cluster, time: Date) -> [HubbleFlowLine] {
        let stamp = Self.timestamp(time)
        let engine = PolicyEngine(cluster)
        var lines: [HubbleFlowLine] = []
        for record in step.results ?? [] {
            switch record {
            case .probe(let result):
                lines += probeFlows(result, step: step, cluster: cluster, engine: engine, time: stamp)
            case .scan(let result):
                lines += scanFlows(result, step: step, cluster: cluster, engine: engine, time: stamp)
            case .dns(let result):
                lines += dnsFlows(result, step: step, cluster: cluster, engine: engine, time: stamp)
            }
        }
        return lines
    }

    func probeFlows(_ result: ProbeResult, step: StepReport, cluster: Cluster, engine: PolicyEngine, time: String) -> [HubbleFlowLine] {
        guard let observed = result.observed, observed != .skipped, let network = observed.networkDecision else { return [] }
        // A hop the mesh carries over HBONE is, on the wire and for NetworkPolicy, TCP from the
        // source pod to the destination pod's port 15008 (`PolicyEngine.evaluate(fromSource:to:port:mesh:)`):
        // the flow shows that packet and the side and policies that judged it.
        let hbone = result.mesh?.tunnel.flatMap(ObjectKey.parse).map { (pod: $0, port: ProtocolPort(.tcp, Int(MeshDataPath.hbonePort))) }
        let verdict =
            hbone.map { engine.evaluate(fromSource: result.from, to: .pod($0.pod), port: $0.port) }
            ?? engine.evaluate(fromSource: result.from, to: result.to, port: result.port)
        let dropped = network == .deny
        var facts = KeycardFlowFacts(
            scenario: scenario, step: step.index, stepName: step.name, kind: "probe", cell: result.cellDescription,
            attempt: 1, attempts: max(result.attempts ?? 1, 1), model: result.model.rawValue, observed: observed.rawValue,
            expected: result.expected.rawValue, reason: result.reason, rule: result.rule, confirmed: result.confirmed,
            evidence: result.confirmed == true ? "kernel" : "model",
            service: result.to.serviceKey.map { Endpoint.service($0).description })
        // A Service cell's packets reach the backend on its target port, where policies judge them.
        let application = result.targetPort.map { ProtocolPort(result.port.proto, $0) } ?? result.port
        if hbone != nil { facts.applicationPort = application.port }
        let judged = hbone?.port ?? application
        let rangeDrop = dropped ? loadBalancerRangeDrop(result, cluster: cluster, time: time, facts: facts) : nil
        let base =
            rangeDrop
            ?? events(
                from: result.from, to: hbone.map { .pod($0.pod) } ?? result.to,
                port: Self.carriedPort(sent: result.port, judged: judged, verdict: verdict, dropped: dropped), dropped: dropped,
                verdict: verdict,
                cluster: cluster, time: time,
                sourcePort: nil, sourceNAT: result.sourceNAT, facts: facts)
        guard dropped else {
            return base.map { line in
                var line = line
                line.flow.extensions?.value.attempt = facts.attempts
                return line
            }
        }
        // Every attempt of a dropped probe was a packet the kernel dropped.
        return (1...facts.attempts).flatMap { attempt in
            base.map { line in
                var line = line
                line.flow.extensions?.value.attempt = attempt
                return line
            }
        }
    }

    func scanFlows(_ result: ScanResult, step: StepReport, cluster: Cluster, engine: PolicyEngine, time: String) -> [HubbleFlowLine] {
        guard let observed = result.observed else { return [] }
        // A pod, or a Service's backend reached through its address (the flow shows the backend).
        let destination = result.reached(in: cluster)
        let port = ProtocolPort(.tcp, result.port)
        let verdict = engine.evaluate(fromSource: result.from, to: destination, port: port)
        let dropped = observed == .filtered
        let attribution = RuleAttribution(verdict)
        let modelDrops = verdict.decision == .deny
        // A scan's filtered target is the kernel's drop only where the model denies it too (an
        // address with nothing behind it is filtered by the network's silence, not by a policy).
        let confirmed = dropped ? (modelDrops ? nil : false) : !modelDrops
        // A target the report does not judge (no model: a node port or load-balancer address from
        // inside the cluster, a ClusterIP from a node or an external, hairpin, the lab's router)
        // has no side keycard could say judged it, so its flow names no policy. Filtered, it is no
        // flow at all: a scan's silence is no kernel record, and with no model nothing says which
        // datapath dropped it, where, or for what reason a drop event would carry. Answered, it is
        // the trace event of a forwarded packet, which claims no policy.
        guard let model = result.model else {
            if dropped { return [] }
            let facts = KeycardFlowFacts(
                scenario: scenario, step: step.index, stepName: step.name, kind: "scan",
                cell: "\(result.from) -> \(result.to ?? result.ip.description) \(port)", attempt: 1, attempts: 1, model: nil,
                observed: observed.rawValue, evidence: "kernel", service: destination.serviceKey.map { Endpoint.service($0).description })
            return events(
                from: result.from, to: destination, port: cluster.judgedPort(destination, port), dropped: false, verdict: verdict,
                cluster: cluster, time: time, sourcePort: nil, sourceNAT: result.sourceNAT, judged: false, facts: facts
            ).map { line in
                var line = line
                if destination.serviceKey == nil { line.flow.IP.destination = result.ip.description }
                return line
            }
        }
        let facts = KeycardFlowFacts(
            scenario: scenario, step: step.index, stepName: step.name, kind: "scan",
            cell: "\(result.from) -> \(result.to ?? result.ip.description) \(port)", attempt: 1, attempts: 1,
            model: model.rawValue, observed: observed.rawValue, rule: attribution?.text, confirmed: confirmed,
            evidence: confirmed == true ? "kernel" : "model", service: destination.serviceKey.map { Endpoint.service($0).description })
        return events(
            from: result.from, to: destination,
            port: Self.carriedPort(sent: port, judged: cluster.judgedPort(destination, port), verdict: verdict, dropped: dropped),
            dropped: dropped, verdict: verdict, cluster: cluster, time: time, sourcePort: nil, sourceNAT: result.sourceNAT,
            facts: facts
        ).map { line in
            var line = line
            if destination.serviceKey == nil { line.flow.IP.destination = result.ip.description }
            return line
        }
    }

    /// A `dns` step's query as one UDP/53 flow (TCP/53 with `use-vc`; a truncated answer adds a
    /// TCP/53 flow after the UDP one, as glibc asks again) to the DNS server's pod (behind its
    /// Service address): `FORWARDED` when the server answered, `DROPPED` when the query went
    /// unanswered (after a truncated answer: the UDP flow when policy drops it, else the TCP one).
    func dnsFlows(_ result: DNSResult, step: StepReport, cluster: Cluster, engine: PolicyEngine, time: String) -> [HubbleFlowLine] {
        let first = dnsFlows(
            result, port: ProtocolPort(result.overTCP == true ? .tcp : .udp, 53), step: step, cluster: cluster, engine: engine, time: time)
        guard result.truncated == true else { return first.lines }
        // The TCP query follows only a UDP answer that came back.
        guard !first.dropped else { return first.lines }
        let second = dnsFlows(result, port: ProtocolPort(.tcp, 53), step: step, cluster: cluster, engine: engine, time: time, last: true)
        return first.lines + second.lines
    }

    /// One flow of a `dns` step's query on `port`; `last`: the query's last flow, which an
    /// unanswered query drops whatever policy says of the earlier ones.
    private func dnsFlows(
        _ result: DNSResult, port: ProtocolPort, step: StepReport, cluster: Cluster, engine: PolicyEngine, time: String, last: Bool = false
    ) -> (lines: [HubbleFlowLine], dropped: Bool) {
        guard let observed = result.observed else { return ([], false) }
        var server = cluster.endpoint(at: result.server)
        if case .address = server,
            let service = cluster.services.values.first(where: { $0.clusterIP == result.server }),
            let servicePort = service.ports.first(where: { $0.protocolPort == port }),
            let backend = cluster.backends(of: service, port: servicePort).first
        {
            server = .pod(backend.pod)
        }
        var dropped: Bool
        switch observed {
        case .addresses, .notFound: dropped = false
        case .blocked: dropped = true
        case .failed: return ([], false)
        }
        let verdict = engine.evaluate(fromSource: result.from, to: server, port: port)
        // A truncated answer's UDP flow is dropped only when policy drops it; otherwise the TCP one is.
        if dropped, result.truncated == true, !last, result.overTCP != true { dropped = !verdict.decision.allows }
        // The TCP retry policy denies is dropped even when the step ends otherwise than blocked (a
        // short name's search goes on and ends NXDOMAIN); only audit mode lets it through.
        if last, !audit, !verdict.decision.allows { dropped = true }
        let facts = KeycardFlowFacts(
            scenario: scenario, step: step.index, stepName: step.name, kind: "dns",
            cell: "\(result.from) -> \(server) \(port) (\(result.name))",
            attempt: 1, attempts: 1, model: result.model.description, observed: observed.description,
            rule: RuleAttribution(verdict)?.text, evidence: "model")
        let lines = events(
            from: result.from, to: server, port: port, dropped: dropped, verdict: verdict, cluster: cluster, time: time,
            sourcePort: nil, facts: facts)
        return (lines, dropped)
    }

    /// The monitor events Cilium reports for one packet of `from` to `to` on `port`, judged
    /// `verdict`; `dropped` is what the packet did. Cilium's datapath sends a policy verdict
    /// (type 5) only on a side where policy is enforced for that endpoint (bpf
    /// `lib/policy_log.h`, `send_policy_verdict_notify` behind `policy_verdict_filter_allow`; the
    /// filter bits are set by `pkg/endpoint/bpf.go`, `GetPolicyVerdictLogFilter`, only when
    /// `IngressPolicyEnabled`/`EgressPolicyEnabled`): the source's egress verdict on the source's
    /// node when the source is isolated for egress, then the destination's ingress verdict on its
    /// node when it is isolated for ingress, each with its own direction's policies (Hubble's
    /// `CorrelatePolicy` fills only the event's own `*_allowed_by`/`*_denied_by`). A dropped packet's
    /// denying verdict is followed by the drop (type 1, `send_drop_notify`), which carries no
    /// policies and no `is_reply`, and nothing after it (the packet went no further). A forwarded
    /// packet no side enforces policy on is reported by its trace event alone (type 4, cilium
    /// `pkg/hubble/parser/threefour`), so that every forwarded cell keeps a flow: `TO_ENDPOINT`
    /// (`INGRESS`) on the destination's node when it is a pod with a Cilium endpoint; toward
    /// anything else — the world, a node, a host-network pod, which Cilium gives no endpoint (its
    /// traffic is its node's) — `TO_STACK` (`EGRESS`) on the source's node, the source's endpoint
    /// handing it to the stack; from outside the cluster (no source node) toward a node or a
    /// host-network pod, `TO_STACK` on that node, whose host endpoint is not the packet's source,
    /// so `INGRESS` (`decodeTrafficDirection`: egress only when the event's endpoint is the
    /// packet's source). A packet dropped before any policy judged it (the model's "no path") is
    /// the drop event alone, toward the address and port it was sent to (`untranslatedDrop`: the
    /// callers pass that port, `carriedPort`); a drop the model allows is the drop alone on the side
    /// the kernel's record names (`kernelDropSide`; none for an external's own side, which no
    /// node's datapath is).
    ///
    /// Nothing is written for a packet that never crosses the pod network, which no Cilium datapath
    /// sees: a pod to its own address (delivered over its loopback), a node or a host-network pod
    /// to its own node (the node itself or another host-network pod there: one address, the
    /// node's loopback), and an external to an address outside the cluster.
    ///
    /// `judged`: false for a scan target the report does not judge (`ScanResult.model` nil): no
    /// policy verdict is written, only the trace event of the forwarded packet.
    ///
    /// `sourceNAT`: the node address a NodePort or LoadBalancer with `externalTrafficPolicy:
    /// Cluster` source-NATs the packet to on its way to the backend (`ExposedPath.sourceNAT`). The
    /// packet at the backend carries that address, and Hubble takes a flow's addresses from the
    /// packet (cilium `pkg/hubble/parser/threefour`, `decodeIPv4`): the destination side's events
    /// name the node as the source (`reserved:host` on its own node, else `reserved:remote-node`).
    func events(
        from: ObjectKey, to: Endpoint, port: ProtocolPort, dropped: Bool, verdict: Verdict, cluster: Cluster, time: String,
        sourcePort: Int?, sourceNAT: IPv4? = nil, judged: Bool = true, facts: KeycardFlowFacts
    ) -> [HubbleFlowLine] {
        if dropped, verdict.hasNoPath {
            let reason: HubbleFlow.DropReason = to.serviceKey != nil ? .serviceBackendNotFound : .fibLookupFailed
            return untranslatedDrop(
                reason, from: from, to: to, port: port, cluster: cluster, time: time, sourcePort: sourcePort, facts: facts)
        }
        let destinationPod: ObjectKey? =
            switch to {
            case .pod(let key): key
            case .service(_, let backend), .exposed(_, _, let backend): backend
            default: nil
            }
        if verdict.egress.outcome == .selfTraffic { return [] }
        let source = cluster.source(from)
        if case .external = source, destinationPod == nil, Self.nodeIndex(of: to, cluster) == nil { return [] }
        if case .node(let sourceNode) = cluster.networkSource(source),
            case .node(let destinationNode) = cluster.networkSource(destinationPod.map(Endpoint.pod) ?? to), sourceNode == destinationNode
        {
            return []
        }
        let auditing = judged && audit && !dropped && verdict.decision == .deny
        var facts = stamped(facts, from: from, to: destinationPod, cluster: cluster)
        if auditing { facts.audit = true }
        let (l4, summary) = Self.layer4(port, sourcePort: sourcePort)
        let destination = destinationPod.map(Endpoint.pod) ?? to
        let destinationAddress: IPv4? = destinationPod.flatMap { cluster.addresses[$0] } ?? cluster.address(of: to)
        // One event as seen on the judging side's node (`node_name`, and whether a node end is that host).
        func event(_ direction: NetworkPolicy.PolicyType) -> HubbleFlow {
            let observer = Self.nodeIndex(of: direction == .egress ? source : destination, cluster)
            // A pod's node from the lab's placement; a node's (a node end, or the node a packet from
            // outside reaches) is the observer itself.
            let sidePod: ObjectKey?
            if direction == .ingress {
                sidePod = destinationPod
            } else if case .pod = source {
                sidePod = from
            } else {
                sidePod = nil
            }
            // What the destination's side sees: the translated source of a source-NATed packet.
            let seen = direction == .ingress ? sourceNAT.map { cluster.endpoint(at: $0) } ?? source : source
            let sourceAddress = direction == .ingress ? sourceNAT ?? cluster.address(of: source) : cluster.address(of: source)
            var flow = HubbleFlow(
                time: time, verdict: "FORWARDED", drop_reason_desc: nil,
                IP: .init(source: sourceAddress?.description ?? "", destination: destinationAddress?.description ?? ""),
                l4: l4, source: endpoint(seen, seenOn: observer, cluster), destination: endpoint(destination, seenOn: observer, cluster),
                node_name: sidePod.map { nodeName($0) } ?? observer.map { "\(labName)-node-\($0)" } ?? nodeName(nil),
                event_type: .init(type: 5),
                traffic_direction: direction == .ingress ? "INGRESS" : "EGRESS")
            flow.Summary = summary
            var own = facts
            let side = direction == .egress ? verdict.egress : verdict.ingress
            if !side.tiers.isEmpty { own.tiers = side.tiers.walkthrough }
            flow.extensions = .init(value: own)
            return flow
        }
        if dropped, verdict.decision == .allow {
            // The kernel dropped what the model allows: the drop alone, on the side the kernel's own
            // record names. A timeout is no kernel record (as a scan's silence): no event claims a
            // policy drop that no policy made (Cilium's 133 is "Policy denied").
            guard let side = Self.kernelDropSide(facts) else { return [] }
            // An external's own side is no node's datapath: its own host refused the packet.
            if side == .egress, case .external = source { return [] }
            return [HubbleFlowLine(flow: Self.drop(of: event(side)))]
        }
        var flows: [HubbleFlow] = []
        for direction in [NetworkPolicy.PolicyType.egress, .ingress] where judged {
            let side = direction == .egress ? verdict.egress : verdict.ingress
            guard Self.enforced(side) else { continue }
            var flow = event(direction)
            flow.policy_match_type = Self.matchType(side, direction: direction, port: port, destination: destination, cluster: cluster)
            // A verdict that lets the packet through knows it opens its connection; a drop's does not.
            flow.is_reply = dropped && side.outcome == .denied ? nil : false
            if side.outcome == .denied {
                flow.verdict = dropped ? "DROPPED" : "AUDIT"
                // A ClusterNetworkPolicy's Deny is a deny rule (POLICY_DENY, naming it, as Hubble's
                // CorrelatePolicy does for that reason only); anything else is the default deny of
                // the side's isolation (POLICY_DENIED), where Hubble names no policy and keycard
                // names the isolating policies.
                let explicit = side.tiers.last?.result == .deny
                let policies =
                    explicit
                    ? Self.clusterPolicies(side.tiers)
                    : side.isolatingPolicies.map { HubbleFlow.Policy(name: $0.name, namespace: $0.namespace) }
                        + Self.clusterPolicies(side.tiers)
                if direction == .egress { flow.egress_denied_by = nonEmpty(policies) } else { flow.ingress_denied_by = nonEmpty(policies) }
                if dropped {
                    flow.drop(explicit ? .policyDeny : .policyDenied)
                    flows += [flow, Self.drop(of: flow)]
                    break
                }
            } else {
                let policies = Self.policies(side.allowingRules) + Self.clusterPolicies(side.tiers)
                if direction == .egress {
                    flow.egress_allowed_by = nonEmpty(policies)
                } else {
                    flow.ingress_allowed_by = nonEmpty(policies)
                }
            }
            flows.append(flow)
        }
        if flows.isEmpty {
            // Only a pod off the host network is a Cilium endpoint a packet is delivered to.
            let toEndpoint = destinationPod.map { !cluster.isHostNetwork($0) } ?? false
            // From outside the cluster there is no source node: the destination node sees it.
            let fromOutside: Bool = if case .external = source { !toEndpoint } else { false }
            var trace = event(toEndpoint || fromOutside ? .ingress : .egress)
            trace.is_reply = false
            trace.event_type = toEndpoint ? .init(type: 4) : .init(type: 4, sub_type: 3)
            trace.trace_observation_point = toEndpoint ? "TO_ENDPOINT" : "TO_STACK"
            flows.append(trace)
        }
        return flows.map { HubbleFlowLine(flow: $0) }
    }

    /// Whether Cilium enforces policy on one side of a connection (its endpoint's
    /// `IngressPolicyEnabled`/`EgressPolicyEnabled`, cilium `pkg/endpoint/bpf.go`,
    /// `GetPolicyVerdictLogFilter`): some policy selects the pod for that direction. Only such a
    /// side reports a policy verdict.
    static func enforced(_ side: DirectionVerdict) -> Bool {
        switch side.outcome {
        case .allowed, .denied: true
        case .localNode: !side.isolatingPolicies.isEmpty
        case .selfTraffic, .notIsolated, .notApplicable: false
        }
    }

    /// The side whose datapath the kernel says dropped a packet: keycard's deny rule logs
    /// `kc deny ingress|egress POD` (NFLOG), and `connect()` failing with EPERM is a local output
    /// (egress) rule; any other kernel record (another logged drop, a socket error such as
    /// EHOSTUNREACH) is put on the source's side. nil without a kernel record (a timeout).
    static func kernelDropSide(_ facts: KeycardFlowFacts) -> NetworkPolicy.PolicyType? {
        let reason = facts.reason ?? ""
        if reason.hasPrefix("dropped: kc deny ingress ") { return .ingress }
        if reason.hasPrefix("dropped: ") || reason.contains("(errno ") { return .egress }
        return nil
    }

    /// The drop event (type 1, sub-type the drop reason: the verdict's, else 133) that follows a
    /// dropped packet's policy verdict: it carries no policies (Hubble correlates policies on
    /// policy-verdict events only, `CorrelatePolicy`), no `policy_match_type` (policy verdicts
    /// only, `decodePolicyMatchType`) and no `is_reply` (`decodeIsReply` does not know it for a drop).
    static func drop(of verdict: HubbleFlow) -> HubbleFlow {
        var drop = verdict
        drop.drop(verdict.drop_reason.flatMap(HubbleFlow.DropReason.init(rawValue:)) ?? .policyDenied)
        drop.event_type = .init(type: 1, sub_type: drop.drop_reason)
        drop.is_reply = nil
        drop.policy_match_type = nil
        drop.egress_denied_by = nil
        drop.ingress_denied_by = nil
        drop.egress_allowed_by = nil
        drop.ingress_allowed_by = nil
        return drop
    }

    /// A packet dropped before any Service translation, as Hubble builds a drop event from the
    /// dropped packet itself (cilium `pkg/hubble/parser/threefour`, `decodeIPv4`, `decodeTCP`): its
    /// destination is the address and port it was sent to, not a backend it never reached, and its
    /// `node_name` the node whose datapath dropped it. No policy decided it: no policy verdict, no
    /// `*_denied_by`, only the drop event (type 1, sub-type the reason). Its `traffic_direction` is
    /// Hubble's for a drop (`decodeTrafficDirection`): `EGRESS` when the endpoint whose datapath
    /// dropped it (the drop's source, bpf `EVENT_SOURCE`: `LXC_ID` in `bpf_lxc.c`, the host
    /// endpoint in `bpf_host.c`) is the packet's source — a pod's or a node's own translation of a
    /// ClusterIP — else `INGRESS`: a node dropping what came from outside. Two kinds:
    /// - the model's "no path" (`Verdict.hasNoPath`): a Service port without an endpoint the packet
    ///   may reach, `SERVICE_BACKEND_NOT_FOUND` (158; `FIB_LOOKUP_FAILED`, 169, no route, toward
    ///   anything else): a ClusterIP on the source's own node (its datapath translates
    ///   cluster-internal traffic, bpf `lib/lb.h`, `DROP_NO_SERVICE`); a node port on the node it
    ///   was sent to, which has no endpoint of its own under `externalTrafficPolicy: Local` (bpf
    ///   `lib/nodeport.h`, `nodeport_lb4`). A ClusterIP from outside the cluster is no flow: nothing
    ///   outside routes a ClusterIP, so no node sees the packet (the lab's external host refuses it
    ///   itself, `ENETUNREACH`);
    /// - a load balancer whose `loadBalancerSourceRanges` do not hold the source
    ///   (`loadBalancerRangeDrop`).
    ///
    /// The destination is named as the address it was sent to: a node port's node `reserved:host`
    /// (the node that dropped it is that host), a ClusterIP or a load-balancer address
    /// `reserved:world` (no endpoint holds it). No flow when no node of the lab would see the packet:
    /// no such address, or no entry node (a source outside the cluster toward a ClusterIP, a load
    /// balancer that sends to no node). A load balancer whose Service has no endpoint on the port
    /// sends under `Cluster` to every node: the drop is written on the lowest-numbered.
    func untranslatedDrop(
        _ reason: HubbleFlow.DropReason, from: ObjectKey, to: Endpoint, port: ProtocolPort, cluster: Cluster, time: String,
        sourcePort: Int?, facts: KeycardFlowFacts
    ) -> [HubbleFlowLine] {
        let source = cluster.source(from)
        let entry: Int? =
            switch to {
            case .exposed(_, .node(let index), _): index < max(cluster.nodeCount, 1) ? index : nil
            case .exposed(let key, .loadBalancer, let backend):
                cluster.exposedPath(key, .loadBalancer, backend: backend, port: port)?.node
                    ?? cluster.loadBalancerEntryWithoutEndpoint(key, port: port)
            default: Self.nodeIndex(of: source, cluster)
            }
        guard let node = entry, let address = cluster.address(of: to) else { return [] }
        let (l4, summary) = Self.layer4(port, sourcePort: sourcePort)
        var flow = HubbleFlow(
            time: time, verdict: "DROPPED", drop_reason_desc: nil,
            IP: .init(source: cluster.address(of: source)?.description ?? "", destination: address.description), l4: l4,
            source: endpoint(source, seenOn: node, cluster), destination: endpoint(cluster.endpoint(at: address), seenOn: node, cluster),
            node_name: "\(labName)-node-\(node)", event_type: .init(type: 1, sub_type: reason.rawValue),
            traffic_direction: Self.nodeIndex(of: source, cluster) == node ? "EGRESS" : "INGRESS")
        flow.drop(reason)
        flow.Summary = summary
        flow.extensions = .init(value: stamped(facts, from: from, to: nil, cluster: cluster))
        return [HubbleFlowLine(flow: flow)]
    }

    /// A probe through a load balancer whose `loadBalancerSourceRanges` do not hold the source:
    /// Cilium's node port path drops it before translating it (bpf `lib/nodeport.h`,
    /// `lb4_src_range_ok` then `DROP_NOT_IN_SRC_RANGE`), so its drop event says
    /// `DENIED_BY_LB_SRC_RANGE_CHECK` (177), toward the load balancer's address and port (the world,
    /// to Hubble), on the node the load balancer sent it to (`untranslatedDrop`). Nil for any
    /// other cell.
    func loadBalancerRangeDrop(_ result: ProbeResult, cluster: Cluster, time: String, facts: KeycardFlowFacts) -> [HubbleFlowLine]? {
        guard case .exposed(let key, .loadBalancer, _) = result.to,
            !cluster.loadBalancerAdmits(cluster.source(result.from), key, .loadBalancer)
        else { return nil }
        // Ranges from the annotation only: the cloud load balancer (the router) drops the packet,
        // which no node, and so no Hubble, sees.
        if cluster.services[key]?.sourceRangesFromAnnotation == true { return [] }
        return untranslatedDrop(
            .deniedByLBSourceRange, from: result.from, to: result.to, port: result.port, cluster: cluster, time: time, sourcePort: nil,
            facts: facts)
    }

    /// The port a flow's packet carries: `sent`, the one the source sent it to, when it was dropped
    /// before any translation (no path: `untranslatedDrop`), else `judged`, the one the policies
    /// judged (a Service's target port, an HBONE hop's 15008).
    static func carriedPort(sent: ProtocolPort, judged: ProtocolPort, verdict: Verdict, dropped: Bool) -> ProtocolPort {
        dropped && verdict.hasNoPath ? sent : judged
    }

    /// `facts` as every flow of `from` to `destinationPod` carries them: `origin` `prober` unless
    /// known (a `traffic` flow's comes from the kernel), and the host-network pod at either end.
    func stamped(_ facts: KeycardFlowFacts, from: ObjectKey, to destinationPod: ObjectKey?, cluster: Cluster) -> KeycardFlowFacts {
        var facts = facts
        if facts.origin == nil && facts.kind != "traffic" { facts.origin = "prober" }
        if cluster.isHostNetwork(from) { facts.hostNetworkSource = from.description }
        if let pod = destinationPod, cluster.isHostNetwork(pod) { facts.hostNetworkDestination = pod.description }
        return facts
    }

    /// The opening packet's `l4` on `port` and Hubble's summary of it (`TCP Flags: SYN`, `UDP`,
    /// `SCTP`, `ICMPv4 EchoRequest`); `sourcePort` nil where the kernel chose it unseen.
    static func layer4(_ port: ProtocolPort, sourcePort: Int?) -> (HubbleFlow.Layer4, String?) {
        switch port.proto {
        case .tcp:
            (HubbleFlow.Layer4(TCP: .init(source_port: sourcePort, destination_port: port.port, flags: ["SYN": true])), "TCP Flags: SYN")
        case .udp: (HubbleFlow.Layer4(UDP: .init(source_port: sourcePort, destination_port: port.port)), port.proto.rawValue)
        case .sctp: (HubbleFlow.Layer4(SCTP: .init(source_port: sourcePort, destination_port: port.port)), port.proto.rawValue)
        case .icmp:
            (HubbleFlow.Layer4(ICMPv4: .init(type: 8, code: 0)), HubbleFlow.ICMPLayer(type: 8, code: 0).summary)
        }
    }

    static func policies(_ rules: [RuleRef]) -> [HubbleFlow.Policy] {
        var seen: [HubbleFlow.Policy] = []
        for rule in rules {
            let policy = HubbleFlow.Policy(name: rule.policy.name, namespace: rule.policy.namespace)
            if !seen.contains(policy) { seen.append(policy) }
        }
        return seen
    }

    /// The ClusterNetworkPolicy whose rule decided a side (Accept or Deny; not a Pass), as Hubble
    /// names a cluster-scoped policy: no namespace (the field left out), `kind` ClusterNetworkPolicy.
    static func clusterPolicies(_ tiers: [TierStep]) -> [HubbleFlow.Policy] {
        guard let last = tiers.last, last.result == .accept || last.result == .deny, let key = last.policy else { return [] }
        var policy = HubbleFlow.Policy(name: key.name, namespace: nil)
        policy.kind = key.origin.rawValue
        return [policy]
    }

    private func nonEmpty<T>(_ list: [T]) -> [T]? { list.isEmpty ? nil : list }

    /// One end of a flow as Hubble names it, the flow seen on node `observer` (the judging
    /// side's, `node_name`):
    /// - a pod: its `k8s:` labels (`identityLabels`), its controller as workload, and the numeric
    ///   identity of those labels (`identity(ofLabels:)`);
    /// - a node, or a host-network pod (Cilium gives such a pod no endpoint: its traffic is its
    ///   node's): `reserved:host` (identity 1) when it is the node that saw the flow, else
    ///   `reserved:remote-node` (identity 6);
    /// - anything outside the pod network: the CIDR identity of the longest prefix a policy
    ///   selects that holds its address, else `reserved:world` (identity 2) (`outsideEndpoint`).
    func endpoint(_ endpoint: Endpoint, seenOn observer: Int?, _ cluster: Cluster) -> HubbleFlow.Endpoint {
        if case .node(let name) = cluster.networkSource(endpoint) {
            let local = observer != nil && cluster.nodeIndex(name) == observer
            return local
                ? HubbleFlow.Endpoint(identity: Self.hostIdentity, labels: ["reserved:host"])
                : HubbleFlow.Endpoint(identity: Self.remoteNodeIdentity, labels: ["reserved:remote-node"])
        }
        guard case .pod(let key) = endpoint, let pod = cluster.pods[key] else {
            return Self.outsideEndpoint(cluster.address(of: endpoint), cluster)
        }
        let labels = Self.identityLabels(of: pod, namespaceLabels: cluster.namespaces[pod.namespace]?.labels ?? [:])
        return HubbleFlow.Endpoint(
            identity: Self.identity(ofLabels: labels), namespace: pod.namespace, labels: labels, pod_name: pod.name,
            workloads: pod.owner.map { [HubbleFlow.Workload(name: $0.workload.name, kind: $0.workload.kind.rawValue)] })
    }

    /// The node an endpoint runs on: a node's own index, a pod's node; nil for anything else.
    static func nodeIndex(of endpoint: Endpoint, _ cluster: Cluster) -> Int? {
        switch cluster.networkSource(endpoint) {
        case .node(let name): cluster.nodeIndex(name)
        case .pod(let key): cluster.podNodes[key]
        default: nil
        }
    }

    /// Cilium's reserved identities (cilium `pkg/identity/numericidentity.go`): `reserved:host` 1,
    /// `reserved:world` 2, `reserved:remote-node` 6.
    public static let hostIdentity = 1
    public static let worldIdentity = 2
    public static let remoteNodeIdentity = 6

    /// A pod's numeric security identity. Cilium allocates one per distinct set of identity labels
    /// from 256 up (`MinimalAllocationIdentity`), in the order pods appear, so its numbers differ
    /// from cluster to cluster; keycard derives one from the labels instead: 256 plus the 64-bit
    /// FNV-1a hash of the sorted labels (`identityLabels`, joined by newlines) modulo 65,280, so
    /// identities stay within Cilium's default cluster-local range 256–65535. Pods with the same
    /// identity labels get the same number in every run; different label sets may (rarely) share one.
    public static func identity(ofLabels labels: [String]) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in labels.sorted().joined(separator: "\n").utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return 256 + Int(hash % 65_280)
    }

    /// A pod's labels as Hubble shows them: the labels of its Cilium security identity, sorted.
    /// Cilium adds `io.kubernetes.pod.namespace`, `io.cilium.k8s.policy.serviceaccount`,
    /// `io.cilium.k8s.policy.cluster` (`default`, the cluster name a single cluster has) and
    /// `io.cilium.k8s.namespace.labels.KEY` for every label of the namespace
    /// (cilium `pkg/k8s/utils`, `pkg/k8s/apis/cilium.io/const.go`), then keeps what its default
    /// label filter (`pkg/labelsfilter`, `defaultLabelPrefixCfg`) keeps; each is written as cilium's
    /// `Label.String()`, `k8s:key=value`, or `k8s:key` when the value is empty.
    public static func identityLabels(of pod: Pod, namespaceLabels: [String: String]) -> [String] {
        var labels = pod.labels
        for (key, value) in namespaceLabels { labels["io.cilium.k8s.namespace.labels." + key] = value }
        labels["io.kubernetes.pod.namespace"] = pod.namespace
        labels["io.cilium.k8s.policy.serviceaccount"] = pod.serviceAccountName
        labels["io.cilium.k8s.policy.cluster"] = "default"
        return labels.filter { identityLabelKept($0.key) }.map { $0.value.isEmpty ? "k8s:\($0.key)" : "k8s:\($0.key)=\($0.value)" }.sorted()
    }

    /// Cilium's default label filter (`defaultLabelPrefixCfg`): each prefix is a regular expression
    /// that must match at the start of the key, the longest include against the shortest ignore
    /// (a label no rule ignores is kept). Includes: `io.kubernetes.pod.namespace`,
    /// `io.cilium.k8s.namespace.labels`, `app.kubernetes.io`, `io.cilium.k8s.policy.cluster`.
    /// Ignores: `io.kubernetes`, `kubernetes.io`, `statefulset.kubernetes.io/pod-name`,
    /// `apps.kubernetes.io/pod-index`, `batch.kubernetes.io/job-completion-index`,
    /// `batch.kubernetes.io/controller-uid`, `.*beta.kubernetes.io`, `k8s.io`,
    /// `pod-template-generation`, `pod-template-hash`, `controller-revision-hash`, `annotation.*`,
    /// `controller-uid`, `etcd_node`, `topology.kubernetes.io` (the list of Cilium's documentation,
    /// "Limiting Identity-Relevant Labels", which added the two `controller-uid` keys Jobs stamp on
    /// their pods; Cilium 1.19's `defaultLabelPrefixCfg` also ignores the topology labels).
    public static func identityLabelKept(_ key: String) -> Bool {
        let includes = [
            "io.kubernetes.pod.namespace", "io.cilium.k8s.namespace.labels", "app.kubernetes.io", "io.cilium.k8s.policy.cluster",
        ]
        let ignores = [
            "io.kubernetes", "kubernetes.io", "statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index",
            "batch.kubernetes.io/job-completion-index", "batch.kubernetes.io/controller-uid", "k8s.io", "pod-template-generation",
            "pod-template-hash", "controller-revision-hash", "controller-uid", "etcd_node", "topology.kubernetes.io",
        ]
        let included = includes.filter { key.hasPrefix($0) }.map(\.utf8.count).max() ?? 0
        var ignored = ignores.filter { key.hasPrefix($0) }.map(\.utf8.count).min() ?? 0
        // `annotation.*` matches the whole of a key it starts.
        if key.hasPrefix("annotation") { ignored = ignored == 0 ? key.utf8.count : min(ignored, key.utf8.count) }
        // `.*beta\.kubernetes\.io` matches from the start of any key holding it, up to its end.
        if let beta = key.range(of: "beta.kubernetes.io", options: .backwards) {
            let length = key[..<beta.upperBound].utf8.count
            ignored = ignored == 0 ? length : min(ignored, length)
        }
        return ignored == 0 || included > ignored
    }

    /// The lines as JSON lines (one object per line, keys sorted), each ending in a newline.
    public static func encode(_ lines: [HubbleFlowLine]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try lines.map { String(decoding: try encoder.encode($0), as: UTF8.self) + "\n" }.joined()
    }
}
