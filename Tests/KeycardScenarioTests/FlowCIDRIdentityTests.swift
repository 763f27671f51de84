import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

/// An address a policy's `ipBlock` selects is no longer the world in Hubble's eyes: Cilium gives
/// every selected prefix a node-local CIDR identity (cilium/cilium#14427), and the datapath names an
/// address by the longest selected prefix holding it; the flow log named it `reserved:world` (2).
@Suite("Flow log: CIDR identities of selected prefixes")
struct FlowCIDRIdentityTests {
    static func cluster(ipBlock: String) throws -> Cluster {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: fxh41}
            spec:
              externals:
                - {name: client, ip: 203.0.113.10}
                - {name: other, ip: 198.51.100.7}
              resources:
                - apiVersion: v1
                  kind: Pod
                  metadata: {name: web, namespace: default, labels: {app: web}}
                  spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 8080}]}]}
                - apiVersion: networking.k8s.io/v1
                  kind: NetworkPolicy
                  metadata: {name: web-from-net, namespace: default}
                  spec: {podSelector: {matchLabels: {app: web}}, ingress: [{from: [{ipBlock: \(ipBlock)}], ports: [{port: 8080}]}]}
              steps:
                - probe: {from: [external/client], to: [default/web], ports: [TCP/8080]}
                  expect: {default: allow}
            """
        return try ScenarioLoader.parseTimeline(text, file: "cidr.yaml").cluster(afterStep: 0)
    }

    static func end(_ name: String, _ cluster: Cluster) -> HubbleFlow.Endpoint {
        FlowLog(scenario: "fxh41", labName: "fxh41", nodes: [:]).endpoint(.external(name), seenOn: 0, cluster)
    }

    @Test func anAddressInASelectedPrefixHasThatPrefixsCIDRIdentity() throws {
        let cluster = try Self.cluster(ipBlock: "{cidr: 203.0.113.0/24}")
        #expect(
            Self.end("client", cluster) == HubbleFlow.Endpoint(identity: 16_777_217, labels: ["cidr:203.0.113.0/24", "reserved:world"]))
        #expect(Self.end("other", cluster) == HubbleFlow.Endpoint(identity: 2, labels: ["reserved:world"]))
    }

    @Test func theLongestSelectedPrefixNamesTheAddressExceptBlocksIncluded() throws {
        let cluster = try Self.cluster(ipBlock: "{cidr: 203.0.113.0/24, except: [203.0.113.10/32]}")
        #expect(FlowLog.selectedPrefixes(cluster).map(\.text) == ["203.0.113.0/24", "203.0.113.10/32"])
        #expect(
            Self.end("client", cluster) == HubbleFlow.Endpoint(identity: 16_777_218, labels: ["cidr:203.0.113.10/32", "reserved:world"]))
    }

    @Test func theWholeWorldStaysWorldAndHostBitsAreMasked() throws {
        #expect(
            Self.end("client", try Self.cluster(ipBlock: "{cidr: 0.0.0.0/0}"))
                == HubbleFlow.Endpoint(identity: 2, labels: ["reserved:world"]))
        let masked = try Self.cluster(ipBlock: "{cidr: 203.0.113.99/24}")
        #expect(Self.end("client", masked).labels == ["cidr:203.0.113.0/24", "reserved:world"])
    }
}
