import Foundation
import KeycardModel

/// One line of a flow log: Hubble's `observer.GetFlowsResponse` as `hubble observe -o jsonpb`
/// prints it, `{"flow": {...}, "node_name": "...", "time": "..."}`. Every key is the field name of
/// Hubble's protobuf API (cilium `api/v1/flow/flow.proto`, `api/v1/observer/observer.proto`), in
/// the protobuf JSON mapping (https://protobuf.dev/programming-guides/json/): enums as their names,
/// timestamps as RFC 3339 strings, fields left out when empty. See docs/flows.md for the mapping.
public struct HubbleFlowLine: Codable, Sendable, Equatable {
    public var flow: HubbleFlow
    public var node_name: String
    public var time: String

    public init(flow: HubbleFlow) {
        self.flow = flow
        node_name = flow.node_name
        time = flow.time
    }
}

/// Hubble's `flow.Flow`, reduced to the fields an L3/L4 policy verdict fills.
public struct HubbleFlow: Codable, Sendable, Equatable {
    /// RFC 3339 with nanoseconds, UTC (`google.protobuf.Timestamp`).
    public var time: String
    /// `FORWARDED`, `DROPPED` or `AUDIT` (`flow.Verdict`).
    public var verdict: String
    /// A dropped flow's reason (`flow.DropReason`, `DropReason`'s name); nil otherwise.
    public var drop_reason_desc: String?
    /// The same reason as a number: deprecated in Hubble's API, still set by its parser on every
    /// drop and dropped policy verdict (cilium `pkg/hubble/parser/threefour`, `decodeDropReason`).
    public var drop_reason: Int?
    public var IP: IPLayer
    public var l4: Layer4
    public var source: Endpoint
    public var destination: Endpoint
    /// `L3_L4` (`flow.FlowType`).
    public var `Type`: String = "L3_L4"
    public var node_name: String
    /// The monitor event the flow stands for: 5 (policy verdict), 1 (drop, `sub_type` the drop
    /// reason), which follows a dropped packet's policy verdict, or 4 (trace, `sub_type` the
    /// observation point) for a forwarded packet no side enforces policy on (`FlowLog.events`).
    public var event_type: EventType
    /// `INGRESS` or `EGRESS` (`flow.TrafficDirection`): the side whose policy judged it; for a drop
    /// no policy decided, Hubble's rule for drops (`FlowLog.untranslatedDrop`). Never nil in what
    /// keycard writes (nil would be `TRAFFIC_DIRECTION_UNKNOWN`, left out as protobuf's JSON
    /// mapping leaves a zero enum out).
    public var traffic_direction: String?
    /// A policy verdict's match type (`uint32`, cilium `pkg/monitor/api/types.go` `PolicyMatch*`):
    /// 1 `L3-Only`, 2 `L3-L4`, 3 `L4-Only`, 4 `all`, 5 `L3-Proto`, 6 `Proto-Only`
    /// (`FlowLog.matchType`); nil (0, `none`, left out) on a default deny's verdict and on every
    /// other event, as Hubble's `decodePolicyMatchType` sets it from policy verdicts only.
    public var policy_match_type: Int?
    /// A trace event's observation point (`flow.TraceObservationPoint`): `TO_ENDPOINT` or
    /// `TO_STACK`; nil on policy verdicts and drops.
    public var trace_observation_point: String?
    /// Every probe packet keycard reports is the opening one of its connection: `false` on a
    /// forwarded or audited policy verdict; left out on a drop, its verdict and its drop event,
    /// where Hubble does not say (cilium `pkg/hubble/parser/threefour`, `decodeIsReply` answers
    /// only for `pvn.Verdict >= 0`).
    public var is_reply: Bool?
    public var egress_allowed_by: [Policy]?
    public var ingress_allowed_by: [Policy]?
    public var egress_denied_by: [Policy]?
    public var ingress_denied_by: [Policy]?
    /// Hubble's one-line summary (`TCP Flags: SYN`, `UDP`, `ICMPv4 EchoRequest`).
    public var Summary: String?
    /// keycard's own facts, as a `google.protobuf.Any` holding a `google.protobuf.Struct`.
    public var extensions: Extensions?

    /// The reasons keycard's drops carry (cilium `api/v1/flow/flow.proto`, `DropReason`; the
    /// datapath's `DROP_*` codes, bpf `lib/common.h`).
    public enum DropReason: Int, Sendable {
        /// No policy allows it: a default deny (`DROP_POLICY`).
        case policyDenied = 133
        /// A Service without an endpoint the packet may reach.
        case serviceBackendNotFound = 158
        /// No route.
        case fibLookupFailed = 169
        /// A load balancer's `loadBalancerSourceRanges` does not hold the source (`DROP_NOT_IN_SRC_RANGE`,
        /// bpf `lib/nodeport.h`, checked before the Service's translation).
        case deniedByLBSourceRange = 177
        /// A deny rule matched (`DROP_POLICY_DENY`): a ClusterNetworkPolicy's `Deny`.
        case policyDeny = 181

        /// The enum value's name in Hubble's API.
        public var name: String {
            switch self {
            case .policyDenied: "POLICY_DENIED"
            case .serviceBackendNotFound: "SERVICE_BACKEND_NOT_FOUND"
            case .fibLookupFailed: "FIB_LOOKUP_FAILED"
            case .deniedByLBSourceRange: "DENIED_BY_LB_SRC_RANGE_CHECK"
            case .policyDeny: "POLICY_DENY"
            }
        }
    }

    /// Marks the flow dropped for `reason`: its verdict, `drop_reason_desc` and `drop_reason`.
    public mutating func drop(_ reason: DropReason) {
        verdict = "DROPPED"
        drop_reason_desc = reason.name
        drop_reason = reason.rawValue
    }

    /// `flow.IP`.
    public struct IPLayer: Codable, Sendable, Equatable {
        public var source: String
        public var destination: String
        /// `IPv4` (`flow.IPVersion`).
        public var ipVersion: String = "IPv4"
    }

    /// `flow.Layer4`: one of `TCP`, `UDP`, `SCTP`, `ICMPv4`.
    public struct Layer4: Codable, Sendable, Equatable {
        public var TCP: TCPLayer?
        public var UDP: Ports?
        public var SCTP: Ports?
        public var ICMPv4: ICMPLayer?
    }

    /// `flow.ICMPv4`: `type` and `code` (an echo request is 8, 0). Protobuf's JSON mapping leaves
    /// out a scalar field at its default, so a zero `type` or `code` is not written
    /// (`{"type":8}`), and reads back as 0.
    public struct ICMPLayer: Codable, Sendable, Equatable {
        public var type: Int
        public var code: Int

        public init(type: Int, code: Int) {
            self.type = type
            self.code = code
        }

        enum CodingKeys: String, CodingKey { case type, code }

        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            type = try container.decodeIfPresent(Int.self, forKey: .type) ?? 0
            code = try container.decodeIfPresent(Int.self, forKey: .code) ?? 0
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            if type != 0 { try container.encode(type, forKey: .type) }
            if code != 0 { try container.encode(code, forKey: .code) }
        }

        /// Hubble's summary of an ICMPv4 packet (cilium `threefour` parser): `ICMPv4 ` and gopacket's
        /// `ICMPv4TypeCode.String()`, `ICMPv4 EchoRequest`. keycard sends echo requests only; the
        /// types gopacket names without code names are named here (code 0: the name alone, another
        /// code: `Name(Code: N)`), any other as `T(C)`, gopacket's form for a type it does not know
        /// (it names 3, 4, 5, 11 and 12 with their codes, which keycard never sends or reports).
        public var summary: String {
            let names = [
                0: "EchoReply", 8: "EchoRequest", 9: "RouterAdvertisement", 10: "RouterSolicitation", 13: "TimestampRequest",
                14: "TimestampReply", 15: "InfoRequest", 16: "InfoReply", 17: "AddressMaskRequest", 18: "AddressMaskReply",
            ]
            guard let name = names[type] else { return "ICMPv4 \(type)(\(code))" }
            return "ICMPv4 " + name + (code == 0 ? "" : "(Code: \(code))")
        }
    }

    /// `flow.TCP`: ports and `flags` (`flow.TCPFlags`, e.g. `{"SYN": true}`).
    public struct TCPLayer: Codable, Sendable, Equatable {
        /// Nil when the kernel chose it and keycard did not read it back.
        public var source_port: Int?
        public var destination_port: Int
        public var flags: [String: Bool]
    }

    /// `flow.UDP` / `flow.SCTP`.
    public struct Ports: Codable, Sendable, Equatable {
        public var source_port: Int?
        public var destination_port: Int
    }

    /// `flow.Endpoint`: a pod (namespace, name, `k8s:` labels, its workload) or, for an address
    /// outside the pod network, Cilium's `reserved:world` label; a node (and a host-network pod,
    /// which Cilium gives no endpoint of its own) `reserved:host` or `reserved:remote-node`. Each
    /// with its numeric security `identity` (`FlowLog.identity`).
    public struct Endpoint: Codable, Sendable, Equatable {
        public var identity: Int?
        public var namespace: String?
        public var labels: [String]?
        public var pod_name: String?
        public var workloads: [Workload]?

        /// The pod this end names (`namespace/pod_name`), or nil for a node or the world.
        public var podKey: ObjectKey? {
            guard let namespace, let pod_name else { return nil }
            return ObjectKey(namespace, pod_name)
        }
    }

    /// `flow.Workload`: `{name, kind}` (`Deployment`, `StatefulSet`...).
    public struct Workload: Codable, Sendable, Equatable {
        public var name: String
        public var kind: String
    }

    /// `flow.Policy`: `name`, `namespace`, `kind` (`NetworkPolicy`). A cluster-scoped policy has
    /// no namespace: nil, left out as protobuf's JSON mapping leaves out an empty string.
    public struct Policy: Codable, Sendable, Equatable, Hashable {
        public var name: String
        public var namespace: String?
        public var kind: String = "NetworkPolicy"
    }

    /// `flow.CiliumEventType`.
    public struct EventType: Codable, Sendable, Equatable {
        public var type: Int
        public var sub_type: Int?
    }

    /// `google.protobuf.Any` in JSON: `@type` and, for a well-known type, `value`.
    public struct Extensions: Codable, Sendable, Equatable {
        public var type = "type.googleapis.com/google.protobuf.Struct"
        public var value: KeycardFlowFacts

        enum CodingKeys: String, CodingKey {
            case type = "@type"
            case value
        }
    }
}

/// keycard's facts about a flow, beyond Hubble's fields (`flow.extensions.value`).
public struct KeycardFlowFacts: Codable, Sendable, Equatable {
    public var scenario: String
    public var step: Int
    public var stepName: String?
    /// `probe`, `scan`, `dns`, or `traffic` (a connection the kernel saw, `FlowLog.trafficFlows`).
    public var kind: String
    /// `from -> to PORT`, as the report writes the cell.
    public var cell: String
    /// This attempt's number (1-based) and how many the probe made.
    public var attempt: Int
    public var attempts: Int
    /// The model's decision (`allow`, `deny`...) and what the packets did (`allow`, `deny`, `closed`
    /// for a probe; `open`, `closed`, `filtered`, `refused` for a scan). `model` is absent for a
    /// scan target the report does not judge (`ScanResult.model` nil), as the report leaves it out.
    public var model: String?
    public var observed: String
    public var expected: String?
    /// How a deny showed itself (`dropped: kc deny egress ns/pod` is the kernel's NFLOG record).
    public var reason: String?
    /// The report's `rule` and `confirmed` (see `RuleAttribution`).
    public var rule: String?
    public var confirmed: Bool?
    /// `kernel` when the kernel's own record (NFLOG drop, local EPERM, a completed connection)
    /// shows the verdict; `model` when the policies are attributed from the model alone.
    public var evidence: String
    /// A Service cell: the Service (`svc/ns/name`) the probe aimed at.
    public var service: String?
    /// Lab mode `audit`: the model would deny it, the lab let it through.
    public var audit: Bool?
    /// With ClusterNetworkPolicies: the judging side's walk through the tiers
    /// (`[Admin] Pass (guard/delegate) -> [NetworkPolicy] Allowed (shop/allow-web)`).
    public var tiers: String?
    /// Who made the connection: `prober` (keycard's probes, scans and DNS queries) or `program`
    /// (any other socket in a lab namespace: a `command:` program); absent when not known.
    public var origin: String?
    /// A host-network pod at the source or destination (`ns/name`): Hubble names such an end as
    /// its node (`reserved:host`), so keycard names the pod here (`generate` reads it); absent
    /// for any other end.
    public var hostNetworkSource: String?
    public var hostNetworkDestination: String?
    /// A hop the mesh carries over HBONE: the application's TCP port the tunnel carries, which
    /// the flow's `l4` (the hop's 15008) does not show (`generate` reads it); absent otherwise.
    public var applicationPort: Int?
}
