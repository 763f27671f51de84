import KeycardModel
import KeycardScenario
import KeycardValues
import Testing

/// A pod whose `status.phase` is Succeeded or Failed (a finished Job's pod in a
/// `kubectl get -o yaml` dump) runs nothing: it is no Service endpoint (`ShouldPodBeInEndpoints`)
/// and has no DNS record (CoreDNS lists only pods not terminal). As a Pending pod (POD-42), it has
/// no address, is not probed and is warned about; it had been a running endpoint.
@Suite struct TerminalPodTests {
    static let scenario = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: terminal}
        spec:
          lab: {dns: true}
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: a}}
            - {apiVersion: v1, kind: Pod, metadata: {name: done, namespace: a, labels: {app: batch}}, spec: {restartPolicy: Never, hostname: d, subdomain: batch, containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}, status: {phase: Succeeded, podIP: 10.244.0.40}}
            - {apiVersion: v1, kind: Pod, metadata: {name: failed, namespace: a, labels: {app: batch}}, spec: {restartPolicy: Never, containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}, status: {phase: Failed, podIP: 10.244.0.41}}
            - {apiVersion: v1, kind: Pod, metadata: {name: running, namespace: a, labels: {app: batch}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}, status: {phase: Running, podIP: 10.244.0.42}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: a}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Service, metadata: {name: batch, namespace: a}, spec: {clusterIP: None, selector: {app: batch}, ports: [{port: 8080}]}}
          steps:
            - probe: {from: [a/client], to: [a/running], ports: [TCP/8080]}
        """

    @Test func aFinishedPodIsNoEndpointAndHasNoRecord() throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.scenario, file: "terminal.yaml")
        let cluster = timeline.initial
        for (name, phase) in [("done", "Succeeded"), ("failed", "Failed")] {
            #expect(cluster.pods[ObjectKey("a", name)] == nil, "\(name) runs nothing")
            #expect(
                timeline.schedulingWarnings.contains {
                    $0.message
                        == "pod a/\(name) has status.phase \(phase): its containers have ended, so it is no Service endpoint and has no DNS record; it has no address and is not probed"
                }, "\(timeline.schedulingWarnings.map(\.message))")
        }
        #expect(cluster.pods[ObjectKey("a", "running")] != nil)
        let records = timeline.dnsRecords(afterStep: 0)
        #expect(records.lookup("batch.a.svc.cluster.local") == [IPv4("10.244.0.42")])
        #expect(records.lookup("d.batch.a.svc.cluster.local").isEmpty)
        // kubeadm's CoreDNS (`pods insecure`, OBJ-68) reads a pod name's address from the name:
        // its old address's name answers as any address's does, though no pod has it.
        #expect(records.lookup("10-244-0-40.a.pod.cluster.local") == [IPv4("10.244.0.40")])
        #expect(records.lookup("10-244-0-42.a.pod.cluster.local") == [IPv4("10.244.0.42")])
    }

    /// A running pod whose `Ready` condition is False (a dump of a pod failing its readiness probe)
    /// is no ready endpoint (`podToEndpoint`): its Service's ClusterIP has no path and a headless
    /// name no address, unless the Service has `publishNotReadyAddresses`; the pod itself runs,
    /// keeps its pod record and is reached at its address. It had been a ready endpoint.
    @Test func aNotReadyPodIsNoEndpointUnlessPublished() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: notready}
            spec:
              lab: {dns: true}
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: a}}
                - {apiVersion: v1, kind: Pod, metadata: {name: slow, namespace: a, labels: {app: batch}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}, status: {phase: Running, podIP: 10.244.0.41, conditions: [{type: PodScheduled, status: "True"}, {type: Ready, status: "False"}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: a}, spec: {containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: batch, namespace: a}, spec: {selector: {app: batch}, ports: [{port: 80, targetPort: 8080}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: hl, namespace: a}, spec: {clusterIP: None, selector: {app: batch}, ports: [{port: 8080}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: pub, namespace: a}, spec: {publishNotReadyAddresses: true, clusterIP: None, selector: {app: batch}, ports: [{port: 8080}]}}
              steps:
                - probe: {from: [a/client], to: [svc/a/batch]}
                - probe: {from: [a/client], to: [a/slow], ports: [TCP/8080]}
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "notready.yaml")
        let cluster = timeline.initial
        let slow = try #require(cluster.pods[ObjectKey("a", "slow")])
        #expect(slow.notReady)
        for (name, endpoints) in [("batch", 0), ("hl", 0), ("pub", 1)] {
            let service = try #require(cluster.services[ObjectKey("a", name)])
            #expect(cluster.backends(of: service, port: service.ports[0]).count == endpoints, "\(name)")
        }
        let records = timeline.dnsRecords(afterStep: 0)
        #expect(records.lookup("hl.a.svc.cluster.local").isEmpty)
        #expect(records.lookup("pub.a.svc.cluster.local") == [IPv4("10.244.0.41")])
        #expect(records.lookup("10-244-0-41.a.pod.cluster.local") == [IPv4("10.244.0.41")])
        #expect(timeline.cells(ofProbeStep: 1).map(\.verdict.decision) == [.deny])
        #expect(timeline.cells(ofProbeStep: 2).map(\.verdict.decision) == [.allow])
    }
}
