import Foundation
import KeycardModel
import KeycardProbe
import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardScenario

/// docs/flows.md: a drop's reason is the datapath's. A load balancer's `loadBalancerSourceRanges`
/// rejection is `DENIED_BY_LB_SRC_RANGE_CHECK` (177) toward the load balancer's own address, which
/// Cilium checks before translating (bpf `lib/nodeport.h`, `DROP_NOT_IN_SRC_RANGE`); every drop
/// carries the numeric `drop_reason` Hubble's parser sets beside `drop_reason_desc`.
@Suite("Flow drop reasons")
struct FlowDropReasonTests {
    @Test func aLoadBalancerSourceRangeRejectionIsItsOwnDropTowardTheLoadBalancer() throws {
        let timeline = try ScenarioLoader.parseTimeline(
            """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: fxflbsr}
            spec:
              lab: {nodes: 2, loadBalancerCIDR: 192.0.2.0/28}
              externals: [{name: partner, ip: 203.0.113.10}, {name: stranger, ip: 198.51.100.7}]
              resources:
                - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: default, labels: {app: web}}, spec: {nodeName: node-1, containers: [{name: c, image: c, ports: [{containerPort: 8080}]}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: default}, spec: {type: LoadBalancer, externalTrafficPolicy: Local, selector: {app: web}, ports: [{port: 80, targetPort: 8080, nodePort: 30080}], loadBalancerSourceRanges: [203.0.113.0/24]}}
              steps:
                - probe: {from: [external/partner, external/stranger], to: [svc/default/web@lb], ports: [TCP/80]}
            """, file: "fxflbsr.yaml")
        let lines = try FlowLogTests.flows(timeline) { ModelProbeRunner(cluster: $0) }.1
        let cluster = timeline.cluster(afterStep: 1)
        let stranger = lines.filter { $0.flow.IP.source == "198.51.100.7" }.map(\.flow)
        #expect(!stranger.isEmpty)
        for flow in stranger {
            #expect(flow.verdict == "DROPPED" && flow.event_type == .init(type: 1, sub_type: 177))
            #expect(flow.drop_reason_desc == "DENIED_BY_LB_SRC_RANGE_CHECK" && flow.drop_reason == 177)
            #expect(flow.IP.destination == cluster.address(of: .exposed(.init("default", "web"), .loadBalancer))?.description)
            #expect(flow.IP.destination.hasPrefix("192.0.2."))
            #expect(flow.l4.TCP?.destination_port == 80)
            #expect(flow.destination == HubbleFlow.Endpoint(identity: 2, labels: ["reserved:world"]))
            #expect(flow.node_name == "flows-node-1" && flow.traffic_direction == "INGRESS")
        }
        // The partner is admitted and translated to the backend.
        let partner = lines.filter { $0.flow.IP.source == "203.0.113.10" }.map(\.flow)
        #expect(partner.map(\.verdict) == ["FORWARDED"] && partner.first?.destination.pod_name == "web")
        #expect(partner.first?.drop_reason == nil)
    }
}
