import Foundation
import KeycardModel
import KeycardProbe
import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardScenario

/// docs/flows.md: through a NodePort with `externalTrafficPolicy: Cluster` that forwards to
/// another node, the packet reaches the backend source-NATed to the entry node; Hubble takes the
/// flow's addresses from that packet, so the backend's ingress events name the node
/// (`reserved:remote-node`, its address), which the verdict judged, not the client.
@Suite("Flow source NAT")
struct FlowSourceNATTests {
    @Test func theBackendsEventsNameTheNodeTheNodePortSourceNATedTo() throws {
        let timeline = try ScenarioLoader.parseTimeline(
            """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: fxfetp}
            spec:
              lab: {nodes: 2}
              externals: [{name: client, ip: 203.0.113.10}]
              resources:
                - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: default, labels: {app: web}}, spec: {nodeName: node-1, containers: [{name: c, image: c, ports: [{containerPort: 8080}]}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: default}, spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: 8080, nodePort: 30080}]}}
                - apiVersion: networking.k8s.io/v1
                  kind: NetworkPolicy
                  metadata: {name: web-from-internet, namespace: default}
                  spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress], ingress: [{from: [{ipBlock: {cidr: 203.0.113.0/24}}], ports: [{port: 8080}]}]}
              steps:
                - probe: {from: [external/client], to: [svc/default/web@node-0, svc/default/web@node-1], ports: [TCP/30080]}
            """, file: "fxfetp.yaml")
        let lines = try FlowLogTests.flows(timeline) { ModelProbeRunner(cluster: $0) }.1
        func cell(_ node: Int) -> [HubbleFlow] {
            lines.filter {
                $0.flow.extensions?.value.cell.contains("@node-\(node)") == true && $0.flow.extensions?.value.attempt ?? 1 <= 1
            }.map(\.flow)
        }
        // Via node-0: source-NATed to node-0, which the ipBlock does not admit.
        let viaOther = cell(0)
        #expect(viaOther.map(\.verdict) == ["DROPPED", "DROPPED"])
        for flow in viaOther {
            #expect(flow.IP.source == LabNetwork.nodeAddress(0).description)
            #expect(flow.source == HubbleFlow.Endpoint(identity: 6, labels: ["reserved:remote-node"]))
            #expect(flow.node_name == "flows-node-1" && flow.traffic_direction == "INGRESS")
        }
        // Via the backend's own node: no source NAT, the client's address, admitted; it carries
        // the CIDR identity of the ipBlock's prefix, as Cilium's ipcache gives it.
        let viaOwn = cell(1)
        #expect(viaOwn.map(\.verdict) == ["FORWARDED"])
        #expect(viaOwn.first?.IP.source == "203.0.113.10")
        #expect(
            viaOwn.first?.source
                == HubbleFlow.Endpoint(identity: FlowLog.firstCIDRIdentity, labels: ["cidr:203.0.113.0/24", "reserved:world"]))
        #expect(viaOwn.first?.ingress_allowed_by == [HubbleFlow.Policy(name: "web-from-internet", namespace: "default")])
    }
}
