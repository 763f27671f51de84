import KeycardTopology
import KeycardValues

/// A lab that is up: its plan, the programs it started, and the endpoints to serve.
public struct LabInstance: Sendable, Hashable {
    public let plan: LabPlan
    public let processes: [LabProcess]
    /// How long each bring-up stage took.
    public var timings: [LabTiming] = []
    public var name: String { plan.labName }
    public var stateFile: String { LabPaths.stateFile(plan.labName) }

    /// Every (namespace, address, proto, port) a pod or external serves, in plan order: what a
    /// `PortServer` should listen on (sockets created inside `netns`).
    public var endpoints: [LabEndpoint] { LabEndpoint.all(in: plan) }
}

/// One served port of a pod or an external.
public struct LabEndpoint: Sendable, Hashable, Codable {
    /// "x/a" for a pod, "external/web" for an external.
    public var owner: String
    public var netns: String
    public var address: IPv4
    public var proto: TransportProtocol
    public var port: UInt16

    /// The endpoints of every pod (host-network pods on their node's address), then every external, of `plan`.
    public static func all(in plan: LabPlan) -> [LabEndpoint] {
        let pods = plan.servingPods.flatMap { pod in
            pod.ports.map { LabEndpoint(owner: pod.key, netns: pod.netns, address: pod.address, proto: $0.proto, port: $0.port) }
        }
        let externals = plan.externals.flatMap { external in
            external.ports.map {
                LabEndpoint(
                    owner: "external/\(external.name)", netns: external.netns, address: external.address, proto: $0.proto, port: $0.port)
            }
        }
        return pods + externals
    }
}
