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

    /// A dump's pod the scheduler bound nowhere (`status.phase: Pending`, `PodScheduled` False,
    /// no podIP) never ran: it stays Pending, with no address, no probe and no endpoint, so its
    /// Service has no path (review of Services: it ran, served and was an endpoint).
    @Test func aDumpedUnscheduledPodStaysPending() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: unscheduled}
            spec:
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: a}}
                - {apiVersion: v1, kind: Pod, metadata: {name: web-pending, namespace: a, labels: {app: web}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}, status: {phase: Pending, conditions: [{type: PodScheduled, status: "False", reason: Unschedulable}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: a}, spec: {containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: a}, spec: {selector: {app: web}, ports: [{port: 80}]}}
              steps:
                - probe: {from: [a/client], to: [svc/a/web], ports: [TCP/80]}
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "unscheduled.yaml")
        let pending = ObjectKey("a", "web-pending")
        #expect(timeline.initial.pods[pending] == nil)
        let service = try #require(timeline.initial.services[ObjectKey("a", "web")])
        #expect(timeline.initial.backends(of: service, port: try #require(service.ports.first)).isEmpty)
        #expect(
            timeline.schedulingWarnings.contains {
                $0.message.contains(
                    "pod a/web-pending stays Pending: its dumped status says the scheduler bound it to no node (PodScheduled False, Unschedulable)"
                )
            }, "\(timeline.schedulingWarnings.map(\.message))")
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
    /// A pod shutting down (a dump's `metadata.deletionTimestamp`, still Ready) is no ready
    /// endpoint (`podToEndpoint`: ready only when Ready and not terminating, or published): CoreDNS
    /// does not answer it for a headless name, and a ClusterIP sends to it only when the port has no
    /// ready endpoint (kube-proxy's serving-terminating fallback, KEP-1669). It had been a ready
    /// endpoint beside the others (review: a terminating pod was treated as ready).
    @Test func aTerminatingPodIsAnEndpointOnlyWhenNoneIsReady() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: terminating}
            spec:
              lab: {dns: true}
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
                - {apiVersion: v1, kind: Pod, metadata: {name: t, namespace: x, labels: {app: w, only: t}, deletionTimestamp: "2024-01-01T00:00:00Z", deletionGracePeriodSeconds: 30}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}, status: {phase: Running, podIP: 10.244.0.41, conditions: [{type: Ready, status: "True"}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: r, namespace: x, labels: {app: w}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: cl, namespace: x}, spec: {containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: h, namespace: x}, spec: {clusterIP: None, selector: {app: w}, ports: [{port: 80, targetPort: 8080}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: s, namespace: x}, spec: {selector: {app: w}, ports: [{port: 80, targetPort: 8080}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: only, namespace: x}, spec: {selector: {only: t}, ports: [{port: 80, targetPort: 8080}]}}
              steps:
                - probe: {from: [x/cl], to: [svc/x/s, svc/x/only], ports: [TCP/80]}
                - probe: {from: [x/cl], to: ['svc/x/s>x/t'], ports: [TCP/80]}
            """
        do {
            _ = try ScenarioLoader.parseTimeline(text, file: "terminating.yaml")
            Issue.record("a probe steered to a terminating pod beside a ready one passed")
        } catch {
            #expect(
                error.message.hasPrefix(
                    "probe.to: svc/x/s>x/t: pod x/t is not a backend of Service x/s on TCP/80 at this step (it is terminating"))
        }
        let timeline = try ScenarioLoader.parseTimeline(
            text.replacingOccurrences(of: "    - probe: {from: [x/cl], to: ['svc/x/s>x/t'], ports: [TCP/80]}", with: ""), file: "t.yaml")
        let cluster = timeline.initial
        #expect(try #require(cluster.pods[ObjectKey("x", "t")]).terminating)
        let s = try #require(cluster.services[ObjectKey("x", "s")])
        #expect(cluster.backends(of: s, port: s.ports[0]).map(\.pod) == [ObjectKey("x", "r")])
        let only = try #require(cluster.services[ObjectKey("x", "only")])
        #expect(cluster.backends(of: only, port: only.ports[0]).map(\.pod) == [ObjectKey("x", "t")])
        let records = timeline.dnsRecords(afterStep: 0)
        #expect(records.lookup("h.x.svc.cluster.local") == [try #require(cluster.addresses[ObjectKey("x", "r")])])
        #expect(
            timeline.cells(ofProbeStep: 1).map(\.to) == [
                .service(ObjectKey("x", "s"), backend: ObjectKey("x", "r")), .service(ObjectKey("x", "only"), backend: ObjectKey("x", "t")),
            ])
    }
}
