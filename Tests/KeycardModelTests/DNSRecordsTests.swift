import KeycardValues
import Testing

@testable import KeycardModel

@Suite("Cluster DNS records")
struct DNSRecordsTests {
    private func cluster(_ pods: [(String, String, String)]) -> Cluster {
        var cluster = Cluster()
        for (namespace, name, ip) in pods {
            let pod = Pod(namespace: namespace, name: name)
            cluster.pods[pod.key] = pod
            cluster.addresses[pod.key] = IPv4(ip)
        }
        return cluster
    }

    /// Pods get `<a-b-c-d>.<ns>.pod.cluster.local` (Kubernetes DNS specification, pod A records);
    /// an address without a pod (a pod deleted at this step) gets nothing.
    @Test func podRecords() {
        var c = cluster([("x", "a", "10.244.0.2"), ("kube-system", "dns", "10.244.0.3")])
        c.addresses[ObjectKey("x", "gone")] = IPv4("10.244.0.9")
        let records = DNSRecords(c)
        #expect(records.names == ["10-244-0-2.x.pod.cluster.local", "10-244-0-3.kube-system.pod.cluster.local"])
        #expect(records.lookup("10-244-0-2.x.pod.cluster.local.") == [IPv4("10.244.0.2")])
        #expect(records.lookup("10-244-0-2.X.POD.cluster.local") == [IPv4("10.244.0.2")])
        #expect(records.lookup("10-244-0-9.x.pod.cluster.local").isEmpty)
    }

    /// The Service input: a ClusterIP name, a headless name with every endpoint, and StatefulSet
    /// pods under their governing Service.
    @Test func serviceRecords() {
        let services = [
            ServiceDNSInput(namespace: "x", name: "web", kind: .clusterIP(IPv4("10.96.0.20"))),
            ServiceDNSInput(
                namespace: "data", name: "redis",
                kind: .headless([
                    HeadlessEndpoint(address: IPv4("10.244.0.8"), hostname: "redis-1"),
                    HeadlessEndpoint(address: IPv4("10.244.0.7"), hostname: "redis-0"),
                    HeadlessEndpoint(address: IPv4("10.244.0.6")),
                ])),
        ]
        let records = DNSRecords(Cluster(), services: services)
        #expect(records.lookup("web.x.svc.cluster.local") == [IPv4("10.96.0.20")])
        #expect(records.lookup("redis.data.svc.cluster.local") == ["10.244.0.6", "10.244.0.7", "10.244.0.8"].map { IPv4($0) })
        #expect(records.lookup("redis-0.redis.data.svc.cluster.local") == [IPv4("10.244.0.7")])
        #expect(records.lookup("redis-1.redis.data.svc.cluster.local") == [IPv4("10.244.0.8")])
        #expect(records.names.count == 4)
    }

    /// glibc's order with Kubernetes' resolv.conf: fewer than 5 dots → search list first; a final dot
    /// → only the name.
    @Test func searchCandidates() {
        #expect(
            DNSRecords.candidates(for: "web", namespace: "x") == [
                "web.x.svc.cluster.local", "web.svc.cluster.local", "web.cluster.local", "web",
            ])
        #expect(DNSRecords.candidates(for: "web.x.svc.cluster.local.", namespace: "x") == ["web.x.svc.cluster.local"])
        #expect(DNSRecords.candidates(for: "a.b.c.d.e.f", namespace: "x").first == "a.b.c.d.e.f")
        let records = DNSRecords(Cluster(), services: [ServiceDNSInput(namespace: "x", name: "web", kind: .clusterIP(IPv4("10.96.0.20")))])
        #expect(records.resolve("web", fromNamespace: "x") == [IPv4("10.96.0.20")])
        #expect(records.resolve("web.x", fromNamespace: "y") == [IPv4("10.96.0.20")])
        #expect(records.resolve("web", fromNamespace: "y").isEmpty)
    }
}
