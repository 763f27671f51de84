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
    /// web on node-1 behind node port 30080 (externalTrafficPolicy Cluster); its ingress admits
    /// the client's prefix only, so through node-0, which source-NATs to its own address, it is
    /// denied. `NodePortLabTests` runs it for real.
    static let scenario = """
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
        """

    @Test func theBackendsEventsNameTheNodeTheNodePortSourceNATedTo() throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario, file: "fxfetp.yaml")
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

    /// service-scan step 3: the internet scans node-0's node port, which sends it to web-b on
    /// node-1 source-NATed to node-0 (and node-1's, once web-b is locked, to web-a on node-0). The
    /// scan result said nothing of the NAT and its flow named the internet as the source at the
    /// backend, where the packet (and the policies) had node-0's address; now the result carries
    /// `sourceNAT` and the backend's event names the entry node, as for a probe cell.
    @Test func aScanThroughANodePortNamesTheEntryNodeItWasSourceNATedTo() throws {
        let timeline = try ScenarioLoader.timeline(RepositoryFiles.absolute("scenarios/service-scan.yaml"))
        let (report, lines) = try FlowLogTests.flows(timeline) { ModelProbeRunner(cluster: $0) }
        let results = report.steps.flatMap { $0.results ?? [] }.compactMap { if case .scan(let result) = $0 { result } else { nil } }
        let external = results.filter { $0.from == .external("internet") && $0.to?.hasPrefix("svc/") == true }
        let viaNode0 = try #require(external.first { $0.to == "svc/shop/web@node-0>shop/web-b" })
        #expect(viaNode0.sourceNAT == LabNetwork.nodeAddress(0))
        #expect(external.first { $0.to == "svc/shop/web@node-1>shop/web-b" }?.sourceNAT == nil, "web-b's own node keeps the client")
        // The locked step: through node-1 to web-a on node-0.
        #expect(external.first { $0.to == "svc/shop/web@node-1>shop/web-a" }?.sourceNAT == LabNetwork.nodeAddress(1))
        let flows = lines.filter { $0.flow.extensions?.value.cell == "external/internet -> svc/shop/web@node-0>shop/web-b TCP/30080" }
            .map(\.flow)
        #expect(!flows.isEmpty)
        for flow in flows where flow.traffic_direction == "INGRESS" {
            #expect(flow.IP.source == LabNetwork.nodeAddress(0).description)
            #expect(flow.source == HubbleFlow.Endpoint(identity: 6, labels: ["reserved:remote-node"]))
            #expect(flow.node_name == "flows-node-1")
        }
        // The report's JSON says it.
        let json = String(decoding: try JSONEncoder().encode(viaNode0), as: UTF8.self)
        #expect(json.contains("\"sourceNAT\":\"100.64.0.2\""), "\(json)")
    }
}
