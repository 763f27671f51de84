import Foundation
import KeycardKernel
import KeycardModel
import KeycardValues
import Testing

@testable import KeycardProbe
@testable import KeycardScenario

/// Flows of real traffic (`keycard observe`, `run --flows`) from what the kernel reported: a
/// connection whose source is a node's address (the node, a host-network pod on it, or a NodePort
/// connection source-NATed to it) is written with the node as its source, as the packet carried
/// it, and an ICMP echo request is a flow as an `ICMP` probe's is (docs/flows.md). Both were left
/// out.
@Suite("Traffic flows: node sources and ICMP")
struct TrafficFlowSourceTests {
    /// Two nodes; shop/agent on node-0's network; shop/far (node-1) admits node-0 on TCP/80 and
    /// nothing else, shop/db (node-1) admits shop/near with every protocol (ICMP included).
    static func timeline() throws -> Timeline {
        try ScenarioLoader.parseTimeline(
            """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: fmtraffic}
            spec:
              lab: {nodes: 2}
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
                - {apiVersion: v1, kind: Pod, metadata: {name: agent, namespace: shop, labels: {app: agent}}, spec: {nodeName: node-0, hostNetwork: true, containers: [{name: c, image: c}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: near, namespace: shop, labels: {app: near}}, spec: {nodeName: node-0, containers: [{name: c, image: c}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: far, namespace: shop, labels: {app: far}}, spec: {nodeName: node-1, containers: [{name: c, image: c, ports: [{containerPort: 80}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: db, namespace: shop, labels: {app: db}}, spec: {nodeName: node-1, containers: [{name: c, image: c, ports: [{containerPort: 5432}]}]}}
                - apiVersion: networking.k8s.io/v1
                  kind: NetworkPolicy
                  metadata: {name: far-from-node-0, namespace: shop}
                  spec:
                    podSelector: {matchLabels: {app: far}}
                    ingress: [{from: [{ipBlock: {cidr: 100.64.0.2/32}}], ports: [{port: 80}]}]
                - apiVersion: networking.k8s.io/v1
                  kind: NetworkPolicy
                  metadata: {name: db-from-near, namespace: shop}
                  spec:
                    podSelector: {matchLabels: {app: db}}
                    ingress: [{from: [{podSelector: {matchLabels: {app: near}}}]}]
            """, file: "fmtraffic.yaml")
    }

    static func flows(_ traffic: [ObservedTraffic]) throws -> [HubbleFlow] {
        let loaded = try timeline()
        let log = FlowLog(scenario: "fmtraffic", labName: "l", nodes: loaded.plan.nodes)
        return log.trafficFlows(traffic, cluster: loaded.cluster(afterStep: 0), step: 0, stepName: nil, time: Date()).map(\.flow)
    }

    static func address(_ pod: String) throws -> IPv4 {
        try #require(try timeline().cluster(afterStep: 0).addresses[ObjectKey("shop", pod)])
    }

    static let remoteNode = HubbleFlow.Endpoint(identity: 6, labels: ["reserved:remote-node"])

    @Test("a connection from node-0's address (node-0, its host-network pod, a NodePort source-NATed there) is node-0's")
    func nodeSourcedConnections() throws {
        let node0 = LabNetwork.nodeAddress(0)
        let forwarded = try Self.flows([
            ObservedTraffic(
                source: node0, sourcePort: 40_000, destination: try Self.address("far"), port: .init(.tcp, 80), dropPrefix: nil,
                prober: nil,
                namespace: "kc-l.node1")
        ])
        // far is isolated for ingress: its ingress verdict, seen on node-1, by the ipBlock rule.
        #expect(forwarded.count == 1, "\(forwarded)")
        let verdict = try #require(forwarded.first)
        #expect(verdict.verdict == "FORWARDED" && verdict.traffic_direction == "INGRESS")
        #expect(verdict.source == Self.remoteNode && verdict.IP.source == "100.64.0.2")
        #expect(verdict.destination.pod_name == "far" && verdict.node_name == "l-node-1")
        #expect(verdict.ingress_allowed_by == [.init(name: "far-from-node-0", namespace: "shop")])
        #expect(verdict.l4.TCP?.source_port == 40_000)
        #expect(verdict.extensions?.value.cell == "node/node-0 -> shop/far TCP/80")
        #expect(verdict.extensions?.value.confirmed == true)

        // Dropped on the way to db: db's isolation, confirmed by its drop log.
        let dropped = try Self.flows([
            ObservedTraffic(
                source: node0, sourcePort: 40_001, destination: try Self.address("db"), port: .init(.tcp, 5432),
                dropPrefix: "kc deny ingress shop/db", prober: nil, namespace: "kc-l.node1")
        ])
        #expect(dropped.map(\.event_type) == [.init(type: 5), .init(type: 1, sub_type: 133)], "\(dropped)")
        #expect(dropped.allSatisfy { $0.source == Self.remoteNode && $0.verdict == "DROPPED" })
        #expect(dropped.first?.ingress_denied_by == [.init(name: "db-from-near", namespace: "shop")])
        #expect(dropped.first?.extensions?.value.confirmed == true)

        // An address that is no pod, external or node of the lab is still left out.
        #expect(
            try Self.flows([
                ObservedTraffic(
                    source: "192.0.2.9", sourcePort: 1, destination: try Self.address("far"), port: .init(.tcp, 80), dropPrefix: nil,
                    prober: nil, namespace: "kc-l.node1")
            ]).isEmpty)
    }

    @Test("an echo request the kernel forwarded or dropped is an ICMPv4 flow")
    func echoRequests() throws {
        let forwarded = try Self.flows([
            ObservedTraffic(
                source: try Self.address("near"), sourcePort: nil, destination: try Self.address("db"), port: .icmpEcho, dropPrefix: nil,
                prober: true, namespace: "kc-l.node1")
        ])
        #expect(forwarded.count == 1, "\(forwarded)")
        #expect(forwarded.first?.l4.ICMPv4 == HubbleFlow.ICMPLayer(type: 8, code: 0))
        #expect(forwarded.first?.Summary == "ICMPv4 EchoRequest")
        #expect(forwarded.first?.ingress_allowed_by == [.init(name: "db-from-near", namespace: "shop")])
        #expect(forwarded.first?.extensions?.value.cell == "shop/near -> shop/db ICMP")
        // far's only rule has ports: an echo request is dropped there.
        let dropped = try Self.flows([
            ObservedTraffic(
                source: try Self.address("near"), sourcePort: nil, destination: try Self.address("far"), port: .icmpEcho,
                dropPrefix: "kc deny ingress shop/far", prober: true, namespace: "kc-l.node1")
        ])
        #expect(dropped.map(\.verdict) == ["DROPPED", "DROPPED"], "\(dropped)")
        #expect(dropped.allSatisfy { $0.l4.ICMPv4 != nil && $0.extensions?.value.confirmed == true })
    }

    @Test("the kernel's echo requests map to the ICMP probe port; other ICMP stays out")
    func kernelFlowsToPorts() {
        let a: IPv4 = "10.244.0.2"
        let b: IPv4 = "10.244.0.3"
        #expect(TrafficWatch.port(PacketFlow(source: a, destination: b, proto: 1, echoIdentifier: 7)) == .icmpEcho)
        #expect(TrafficWatch.port(PacketFlow(source: a, destination: b, proto: 1)) == nil)
        #expect(TrafficWatch.port(PacketFlow(source: a, destination: b, proto: 6, sourcePort: 1, destinationPort: 80)) == .init(.tcp, 80))
        #expect(TrafficWatch.port(PacketFlow(source: a, destination: b, proto: 17)) == nil)
    }
}
