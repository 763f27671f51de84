import Foundation
import KeycardModel
import KeycardProbe
import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardScenario

/// docs/flows.md: a packet dropped before any Service translation (the model's "no path") is the
/// drop event Hubble builds from the dropped packet itself (cilium `pkg/hubble/parser/threefour`):
/// toward the address and port it was sent to, on the node whose datapath dropped it. It named
/// the backend pod it never reached, its pod address and target port, on node-0 whatever the
/// entry node.
@Suite("Flow drops before translation")
struct FlowUntranslatedDropTests {
    /// The flows of a two-node scenario whose `spec` holds `spec` (its lines indented two spaces).
    static func flows(_ spec: String, lab: String = "{nodes: 2}") throws -> [HubbleFlow] {
        let yaml = "apiVersion: keycard/v1\nkind: Scenario\nmetadata: {name: fxfund}\nspec:\n  lab: \(lab)\n" + spec
        let timeline = try ScenarioLoader.parseTimeline(yaml, file: "fxfund.yaml")
        return try FlowLogTests.flows(timeline) { ModelProbeRunner(cluster: $0) }.1.map(\.flow)
    }

    @Test func aLocalNodePortWithoutAnEndpointDropsTowardTheNodeItEntered() throws {
        let flows = try Self.flows(
            """
              externals: [{name: client, ip: 203.0.113.10}]
              resources:
                - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: default, labels: {app: web}}, spec: {nodeName: node-0, containers: [{name: c, image: c, ports: [{containerPort: 8080}]}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: web-local, namespace: default}, spec: {type: NodePort, externalTrafficPolicy: Local, selector: {app: web}, ports: [{port: 80, targetPort: 8080, nodePort: 30081}]}}
              steps:
                - probe: {from: [external/client], to: [svc/default/web-local@node-1], ports: [TCP/30081]}
            """)
        #expect(!flows.isEmpty)
        for flow in flows {
            #expect(flow.verdict == "DROPPED" && flow.event_type == .init(type: 1, sub_type: 158))
            #expect(flow.drop_reason_desc == "SERVICE_BACKEND_NOT_FOUND")
            #expect(flow.IP.source == "203.0.113.10" && flow.IP.destination == LabNetwork.nodeAddress(1).description)
            #expect(flow.l4.TCP?.destination_port == 30081)
            // The node that dropped it is the host the packet was addressed to.
            #expect(flow.destination == HubbleFlow.Endpoint(identity: FlowLog.hostIdentity, labels: ["reserved:host"]))
            #expect(flow.source == HubbleFlow.Endpoint(identity: FlowLog.worldIdentity, labels: ["reserved:world"]))
            #expect(flow.node_name == "flows-node-1")
            #expect(flow.ingress_denied_by == nil && flow.egress_denied_by == nil)
            // The node's host endpoint dropped what came from outside: not its source.
            #expect(flow.traffic_direction == "INGRESS")
        }
    }

    @Test func aLocalClusterIPWithoutAnEndpointOnTheSourcesNodeDropsTowardTheClusterIP() throws {
        let flows = try Self.flows(
            """
              resources:
                - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: default, labels: {app: web}}, spec: {nodeName: node-0, containers: [{name: c, image: c, ports: [{containerPort: 8080}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: default, labels: {app: client}}, spec: {nodeName: node-1, containers: [{name: c, image: c}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: default}, spec: {internalTrafficPolicy: Local, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}}
              steps:
                - probe: {from: [default/client], to: [svc/default/web], ports: [TCP/80]}
            """)
        #expect(!flows.isEmpty)
        for flow in flows {
            #expect(flow.verdict == "DROPPED" && flow.drop_reason_desc == "SERVICE_BACKEND_NOT_FOUND")
            #expect(flow.IP.destination.hasPrefix("10.96."), "the ClusterIP, not the backend pod: \(flow.IP.destination)")
            #expect(flow.l4.TCP?.destination_port == 80)
            #expect(flow.destination == HubbleFlow.Endpoint(identity: FlowLog.worldIdentity, labels: ["reserved:world"]))
            #expect(flow.source.pod_name == "client" && flow.node_name == "flows-node-1")
        }
    }

    /// Nothing outside the cluster routes a ClusterIP (the lab's external host refuses the packet
    /// itself, `ENETUNREACH`): no node's datapath sees it, so no flow claims a drop there.
    @Test func aClusterIPFromOutsideTheClusterIsNoFlow() throws {
        let timeline = try ScenarioLoader.timeline(RepositoryFiles.absolute("scenarios/allow-external-traffic.yaml"))
        let lines = try FlowLogTests.flows(timeline) { ModelProbeRunner(cluster: $0) }.1
        let throughService = lines.compactMap(\.flow.extensions?.value).filter { $0.service != nil }
        // A pod reaches web through the ClusterIP; no external's cell is a flow.
        #expect(throughService.contains { $0.cell.hasPrefix("other/test -> ") })
        #expect(!throughService.contains { $0.cell.hasPrefix("external/") })
        #expect(lines.allSatisfy { $0.flow.drop_reason_desc != "SERVICE_BACKEND_NOT_FOUND" })
    }

    /// Hubble's `decodeTrafficDirection` gives a drop `EGRESS` when the endpoint whose datapath
    /// dropped it is the packet's source (bpf `bpf_lxc.c`, `EVENT_SOURCE` `LXC_ID`): a pod's packet
    /// to a Service without endpoints, dropped by its own translation. It had no direction, and
    /// `hubble observe --traffic-direction egress` missed it.
    @Test func aPodsPacketToAServiceWithoutEndpointsIsAnEgressDrop() throws {
        let flows = try Self.flows(
            """
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
                - {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: x, labels: {app: a}}, spec: {nodeName: node-1, containers: [{name: c, image: c}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: empty, namespace: x}, spec: {selector: {app: nothing}, ports: [{port: 80}]}}
              steps:
                - probe: {from: [x/a], to: [svc/x/empty], ports: [TCP/80]}
            """)
        #expect(!flows.isEmpty)
        for flow in flows {
            #expect(flow.verdict == "DROPPED" && flow.drop_reason_desc == "SERVICE_BACKEND_NOT_FOUND")
            #expect(flow.traffic_direction == "EGRESS")
            #expect(flow.source.pod_name == "a" && flow.node_name == "flows-node-1" && flow.l4.TCP?.destination_port == 80)
        }
    }

    /// A load balancer whose Service has no endpoint sends, under `Cluster`, to every node, which
    /// drops the packet untranslated: the drop is on a node, toward the load balancer's address
    /// (it wrote no flow: the entry node was looked up through a backend). Ranges written in the
    /// annotation are the cloud load balancer's alone (kube-proxy and Cilium read only the
    /// field): a source outside them is dropped at the router, which no Hubble sees.
    @Test(arguments: [false, true])
    func aLoadBalancerWithoutAnEndpointDropsOnANode(annotated: Bool) throws {
        let ranges =
            annotated
            ? "metadata: {name: lb, namespace: x, annotations: {service.beta.kubernetes.io/load-balancer-source-ranges: 198.51.100.0/24}}, spec: {type: LoadBalancer"
            : "metadata: {name: lb, namespace: x}, spec: {type: LoadBalancer, loadBalancerSourceRanges: [198.51.100.0/24]"
        let flows = try Self.flows(
            """
              externals: [{name: client, ip: 203.0.113.10}]
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
                - {apiVersion: v1, kind: Service, \(ranges), selector: {app: nothing}, ports: [{port: 80}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: open, namespace: x}, spec: {type: LoadBalancer, selector: {app: nothing}, ports: [{port: 80}]}}
              steps:
                - probe: {from: [external/client], to: [svc/x/lb@lb, svc/x/open@lb], ports: [TCP/80]}
            """, lab: "{nodes: 2, loadBalancerCIDR: 192.0.2.0/24}")
        let open = flows.filter { $0.extensions?.value.cell.contains("svc/x/open") == true }
        #expect(!open.isEmpty)
        for flow in open {
            #expect(flow.verdict == "DROPPED" && flow.drop_reason_desc == "SERVICE_BACKEND_NOT_FOUND")
            #expect(flow.IP.destination.hasPrefix("192.0.2."), "the load balancer's address: \(flow.IP.destination)")
            #expect(flow.node_name == "flows-node-0" && flow.l4.TCP?.destination_port == 80)
        }
        let ranged = flows.filter { $0.extensions?.value.cell.contains("svc/x/lb") == true }
        if annotated {
            #expect(ranged.isEmpty, "\(ranged)")
        } else {
            #expect(!ranged.isEmpty)
            #expect(ranged.allSatisfy { $0.drop_reason_desc == "DENIED_BY_LB_SRC_RANGE_CHECK" && $0.node_name == "flows-node-0" })
        }
    }
}
