import KeycardModel
import KeycardValues
import Testing

@testable import KeycardScenario

/// The records cluster DNS serves for the Services of a parsed scenario: a ClusterIP Service's
/// name answers with its ClusterIP, a headless Service's with its endpoints, and a StatefulSet's
/// pods are named only under their governing Service (`spec.serviceName`), as the Kubernetes DNS
/// specification and the endpoints controller (a hostname only where the pod's subdomain names the
/// Service) have it.
@Suite("Service DNS records from scenarios")
struct ServiceDNSRecordsTests {
    static let text = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: svc-dns}
        spec:
          lab: {dns: true}
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
            - apiVersion: apps/v1
              kind: StatefulSet
              metadata: {name: db, namespace: shop}
              spec:
                serviceName: db
                replicas: 2
                selector: {matchLabels: {app: db}}
                template:
                  metadata: {labels: {app: db}}
                  spec: {containers: [{name: pg, ports: [{containerPort: 5432}]}]}
            - apiVersion: apps/v1
              kind: Deployment
              metadata: {name: web, namespace: shop}
              spec:
                replicas: 2
                selector: {matchLabels: {app: web}}
                template:
                  metadata: {labels: {app: web}}
                  spec: {containers: [{name: web, ports: [{containerPort: 8080}]}]}
            - {apiVersion: v1, kind: Service, metadata: {name: db, namespace: shop}, spec: {clusterIP: None, selector: {app: db}}}
            - {apiVersion: v1, kind: Service, metadata: {name: db-all, namespace: shop}, spec: {clusterIP: None, selector: {app: db}}}
            - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: shop}, spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}}
          steps:
            - scale: {workload: shop/statefulset/db, replicas: 3}
        """

    @Test func servicesGoverningServiceAndKubeDNS() throws {
        let timeline = try ScenarioLoader.parseTimeline(Self.text, file: "svc-dns.yaml")
        let cluster = timeline.initial
        #expect(cluster.workloads[WorkloadKey(.statefulSet, "shop", "db")]?.workload.serviceName == "db")
        let records = DNSRecords(cluster)
        let db0 = try #require(cluster.addresses[ObjectKey("shop", "db-0")])
        let db1 = try #require(cluster.addresses[ObjectKey("shop", "db-1")])
        // A ClusterIP Service answers with its ClusterIP (the first allocated, 10.96.1.1), never its pods.
        let web = try #require(cluster.services[ObjectKey("shop", "web")]?.clusterIP)
        #expect(web == IPv4("10.96.1.1"))
        #expect(records.lookup("web.shop.svc.cluster.local") == [web])
        // kube-dns itself has its name, at 10.96.0.10, in front of the DNS pod.
        #expect(records.lookup("kube-dns.kube-system.svc.cluster.local") == [IPv4("10.96.0.10")])
        // The API server's Service, which every cluster has, at the service CIDR's first host.
        #expect(records.lookup("kubernetes.default.svc.cluster.local") == [IPv4("10.96.0.1")])
        #expect(cluster.services[ClusterDNS.serviceKey].map { cluster.backendPods(of: $0).map(\.key) } == [ClusterDNS.podKey])
        // Headless: every selected pod under both Services' names...
        #expect(records.lookup("db.shop.svc.cluster.local") == [db0, db1].sorted())
        #expect(records.lookup("db-all.shop.svc.cluster.local") == [db0, db1].sorted())
        // ...but each pod's own name only under its governing Service.
        #expect(records.lookup("db-0.db.shop.svc.cluster.local") == [db0])
        #expect(records.lookup("db-1.db.shop.svc.cluster.local") == [db1])
        #expect(records.lookup("db-0.db-all.shop.svc.cluster.local").isEmpty)
        // Endpoints follow the step: the scaled-up pod is named from then on.
        let scaled = DNSRecords(timeline.cluster(afterStep: 1))
        let db2 = try #require(timeline.cluster(afterStep: 1).addresses[ObjectKey("shop", "db-2")])
        #expect(scaled.lookup("db-2.db.shop.svc.cluster.local") == [db2])
        #expect(records.lookup("db-2.db.shop.svc.cluster.local").isEmpty)
    }

    /// A StatefulSet without `serviceName` (optional in apps/v1) names no pod under any Service.
    @Test func noServiceNameNoHostnames() throws {
        let text = Self.text.replacingOccurrences(of: "        serviceName: db\n", with: "")
        let timeline = try ScenarioLoader.parseTimeline(text, file: "svc-dns.yaml")
        #expect(timeline.initial.workloads[WorkloadKey(.statefulSet, "shop", "db")]?.workload.serviceName == nil)
        let records = DNSRecords(timeline.initial)
        #expect(records.lookup("db-0.db.shop.svc.cluster.local").isEmpty)
        #expect(records.lookup("db.shop.svc.cluster.local").count == 2)
    }

    /// A bare pod's `hostname` under a headless Service its `subdomain` names (the DNS docs' busybox
    /// example), and an Indexed Job's pods as `<job>-<index>` (the docs' pod-to-pod Job pattern).
    @Test func podHostnamesUnderTheirSubdomain() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: hostnames}
            spec:
              lab: {dns: true}
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: a}}
                - {apiVersion: v1, kind: Service, metadata: {name: busybox-subdomain, namespace: a}, spec: {clusterIP: None, selector: {name: busybox}}}
                - {apiVersion: v1, kind: Pod, metadata: {name: busybox1, namespace: a, labels: {name: busybox}}, spec: {hostname: busybox-1, subdomain: busybox-subdomain, containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: busybox2, namespace: a, labels: {name: busybox}}, spec: {hostname: busybox-2, containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: idx, namespace: a}, spec: {clusterIP: None, selector: {job-name: idx}}}
                - apiVersion: batch/v1
                  kind: Job
                  metadata: {name: idx, namespace: a}
                  spec:
                    completions: 2
                    parallelism: 2
                    completionMode: Indexed
                    template:
                      spec: {subdomain: idx, restartPolicy: Never, containers: [{name: c, image: i}]}
              steps:
                - probe: {ports: [TCP/80]}
            """
        let cluster = try ScenarioLoader.parseTimeline(text, file: "hostnames.yaml").initial
        let records = DNSRecords(cluster)
        #expect(
            records.lookup("busybox-1.busybox-subdomain.a.svc.cluster.local") == [
                try #require(cluster.addresses[ObjectKey("a", "busybox1")])
            ])
        #expect(records.lookup("busybox-2.busybox-subdomain.a.svc.cluster.local").isEmpty, "no subdomain: no name")
        let jobPods = cluster.pods.values.filter { $0.labels["job-name"] == "idx" }
        #expect(jobPods.count == 2)
        for pod in jobPods {
            let index = try #require(pod.labels["batch.kubernetes.io/job-completion-index"])
            #expect(records.lookup("idx-\(index).idx.a.svc.cluster.local") == [try #require(cluster.addresses[pod.key])])
        }
    }

    /// Endpoint names under a Service with a ClusterIP: CoreDNS's kubernetes plugin answers
    /// `<endpoint>.<svc>.<ns>.svc` from the Service's endpoints whether or not it is headless
    /// (plugin/kubernetes/kubernetes.go `findServices`: `svc.Headless() || r.endpoint != ""`), and
    /// the endpoints controller sets the hostname either way (`ShouldSetHostname`). The Service's
    /// own name still answers its ClusterIP only.
    @Test func endpointNamesUnderAClusterIPService() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: ep-names}
            spec:
              lab: {dns: true}
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
                - apiVersion: apps/v1
                  kind: StatefulSet
                  metadata: {name: cache, namespace: x}
                  spec:
                    serviceName: cache
                    replicas: 2
                    selector: {matchLabels: {app: cache}}
                    template:
                      metadata: {labels: {app: cache}}
                      spec: {containers: [{name: c, image: i, ports: [{containerPort: 6379}]}]}
                - {apiVersion: v1, kind: Service, metadata: {name: cache, namespace: x}, spec: {selector: {app: cache}, ports: [{port: 6379}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: sub, namespace: x}, spec: {selector: {name: bb}, ports: [{port: 80}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: bb1, namespace: x, labels: {name: bb}}, spec: {hostname: bb-1, subdomain: sub, containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: bb2, namespace: x, labels: {name: bb}}, spec: {containers: [{name: c, image: i}]}}
              steps:
                - dns: {from: x/bb2, name: cache-0.cache}
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "ep-names.yaml")
        let cluster = timeline.initial
        let records = DNSRecords(cluster)
        let cache0 = try #require(cluster.addresses[ObjectKey("x", "cache-0")])
        let cache1 = try #require(cluster.addresses[ObjectKey("x", "cache-1")])
        let bb1 = try #require(cluster.addresses[ObjectKey("x", "bb1")])
        let bb2 = try #require(cluster.addresses[ObjectKey("x", "bb2")])
        let cacheIP = try #require(cluster.services[ObjectKey("x", "cache")]?.clusterIP)
        #expect(records.lookup("cache.x.svc.cluster.local") == [cacheIP])
        #expect(records.lookup("cache-0.cache.x.svc.cluster.local") == [cache0])
        #expect(records.lookup("cache-1.cache.x.svc.cluster.local") == [cache1])
        // A pod's hostname under the ClusterIP Service its subdomain names; one without, by address.
        #expect(records.lookup("bb-1.sub.x.svc.cluster.local") == [bb1])
        let dashed = bb2.description.replacingOccurrences(of: ".", with: "-")
        #expect(records.lookup("\(dashed).sub.x.svc.cluster.local") == [bb2])
        // A named endpoint is not also named by its address (CoreDNS's `endpointHostname`).
        let bb1Dashed = bb1.description.replacingOccurrences(of: ".", with: "-")
        #expect(records.lookup("\(bb1Dashed).sub.x.svc.cluster.local").isEmpty)
        // The DNS step's resolver finds it through the search list, as the repro's pod does.
        guard case .dns(let step) = timeline.scenario.steps[0].action else {
            Issue.record("expected a dns step")
            return
        }
        #expect(timeline.dnsModel(step, atStep: timeline.scenario.steps[0].index) == .addresses([cache0]))
    }
}
