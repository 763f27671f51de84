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

    /// Pods get `<a-b-c-d>.<ns>.pod.cluster.local` (Kubernetes DNS specification, pod A records).
    /// kubeadm's CoreDNS runs `pods insecure`: any address written so answers in a namespace that
    /// exists, a pod deleted at this step included (it had answered nothing: `pods verified`).
    @Test func podRecords() {
        var c = cluster([("x", "a", "10.244.0.2"), ("kube-system", "dns", "10.244.0.3")])
        c.addresses[ObjectKey("x", "gone")] = IPv4("10.244.0.9")
        let records = DNSRecords(c)
        #expect(records.names == ["10-244-0-2.x.pod.cluster.local", "10-244-0-3.kube-system.pod.cluster.local"])
        #expect(records.lookup("10-244-0-2.x.pod.cluster.local.") == [IPv4("10.244.0.2")])
        #expect(records.lookup("10-244-0-2.X.POD.cluster.local") == [IPv4("10.244.0.2")])
        #expect(records.lookup("10-244-0-9.x.pod.cluster.local") == [IPv4("10.244.0.9")])
    }

    /// `pods insecure` (plugin/kubernetes/kubernetes.go `findPods`): the address is read from the
    /// name (three dashes, none doubled, then Go's `net.ParseIP`), the namespace must exist, no pod
    /// need have the address; an ExternalName pointing at such a name follows it.
    @Test func podNamesUnderPodsInsecure() {
        var c = cluster([("x", "a", "10.244.0.2")])
        c.namespaces["empty"] = Namespace(name: "empty")
        var records = DNSRecords(c)
        #expect(records.lookup("10-1-2-3.x.pod.cluster.local") == [IPv4("10.1.2.3")])
        #expect(records.lookup("0-0-0-0.empty.pod.cluster.local") == [IPv4("0.0.0.0")])
        #expect(records.lookup("255-255-255-255.x.pod.cluster.local.") == [IPv4("255.255.255.255")])
        for name in [
            "10-1-2-3.nowhere.pod.cluster.local", "010-1-2-3.x.pod.cluster.local", "10-1-2-256.x.pod.cluster.local",
            "10-1-2.x.pod.cluster.local", "10-1-2-3-4.x.pod.cluster.local", "10--2-3.x.pod.cluster.local",
            "x.10-1-2-3.x.pod.cluster.local", "10-1-2-3.x.svc.cluster.local", "a-b-c-d.x.pod.cluster.local",
        ] {
            #expect(records.answer(name) == nil, "\(name)")
        }
        records.addAlias("db.x.svc.cluster.local", target: "10-9-9-9.x.pod.cluster.local")
        #expect(records.lookup("db.x.svc.cluster.local") == [IPv4("10.9.9.9")])
        #expect(records.cnames == ["db.x.svc.cluster.local": "10-9-9-9.x.pod.cluster.local"])
    }

    /// An answer's size as CoreDNS counts it before truncating (compressed): 12 + question + 16
    /// per address, a CNAME's target compressed against the names before it, 11 more with EDNS.
    /// 40 addresses for `big.shop.svc.cluster.local` are 684 bytes (dnsmasq's TCP answer too).
    @Test func answerSizeAsOnTheWire() {
        let addresses = (1...40).map { IPv4(0x0AF4_0100 + UInt32($0)) }
        let big = DNSResponse(addresses: addresses)
        #expect(big.wireSize(question: "big.shop.svc.cluster.local") == 684)
        #expect(big.wireSize(question: "big.shop.svc.cluster.local.", edns: true) == 695)
        #expect(DNSResponse(addresses: Array(addresses.prefix(29))).wireSize(question: "big.shop.svc.cluster.local") == 508)
        // alias → big: the CNAME's target is `big` and a pointer to `shop.svc.cluster.local`.
        let chained = DNSResponse(cnames: ["big.shop.svc.cluster.local"], addresses: [IPv4("10.244.1.1")])
        #expect(chained.wireSize(question: "alias.shop.svc.cluster.local") == 12 + 30 + 4 + (12 + 6) + 16)
    }

    /// The Service input: a ClusterIP name, a headless name with every endpoint, and StatefulSet
    /// pods under their governing Service.
    @Test func serviceRecords() {
        let services = [
            ServiceDNSInput(namespace: "x", name: "web", kind: .clusterIP(IPv4("10.96.0.20"))),
            ServiceDNSInput(
                namespace: "data", name: "redis",
                kind: .headless([
                    DNSEndpoint(address: IPv4("10.244.0.8"), hostname: "redis-1"),
                    DNSEndpoint(address: IPv4("10.244.0.7"), hostname: "redis-0"),
                    DNSEndpoint(address: IPv4("10.244.0.6")),
                ])),
        ]
        let records = DNSRecords(Cluster(), services: services)
        #expect(records.lookup("web.x.svc.cluster.local") == [IPv4("10.96.0.20")])
        #expect(records.lookup("redis.data.svc.cluster.local") == ["10.244.0.6", "10.244.0.7", "10.244.0.8"].map { IPv4($0) })
        #expect(records.lookup("redis-0.redis.data.svc.cluster.local") == [IPv4("10.244.0.7")])
        #expect(records.lookup("redis-1.redis.data.svc.cluster.local") == [IPv4("10.244.0.8")])
        // An endpoint without a hostname is named by its address with dashes (CoreDNS).
        #expect(records.lookup("10-244-0-6.redis.data.svc.cluster.local") == [IPv4("10.244.0.6")])
        #expect(records.lookup("10-244-0-7.redis.data.svc.cluster.local").isEmpty)
        #expect(records.names.count == 5)
    }

    /// A Service with a ClusterIP names its endpoints too (CoreDNS `findServices`: an endpoint
    /// query is answered from the endpoints, headless or not); its own name stays the ClusterIP.
    @Test func endpointNamesUnderAClusterIP() {
        let service = ServiceDNSInput(
            namespace: "x", name: "cache",
            kind: .clusterIP(
                IPv4("10.96.0.20"),
                endpoints: [DNSEndpoint(address: IPv4("10.244.0.7"), hostname: "cache-0"), DNSEndpoint(address: IPv4("10.244.0.6"))]))
        let records = DNSRecords(Cluster(), services: [service])
        #expect(records.lookup("cache.x.svc.cluster.local") == [IPv4("10.96.0.20")])
        #expect(records.lookup("cache-0.cache.x.svc.cluster.local") == [IPv4("10.244.0.7")])
        #expect(records.lookup("10-244-0-6.cache.x.svc.cluster.local") == [IPv4("10.244.0.6")])
        #expect(records.lookup("10-244-0-7.cache.x.svc.cluster.local").isEmpty)
        #expect(records.names.count == 3)
    }

    /// glibc's order with Kubernetes' resolv.conf: fewer than 5 dots → search list first; a final dot
    /// → only the name.
    @Test func searchCandidates() {
        #expect(
            DNSRecords.candidates(for: "web", search: DNSRecords.searchDomains(namespace: "x"), ndots: 5) == [
                "web.x.svc.cluster.local", "web.svc.cluster.local", "web.cluster.local", "web",
            ])
        #expect(
            DNSRecords.candidates(for: "web.x.svc.cluster.local.", search: DNSRecords.searchDomains(namespace: "x"), ndots: 5) == [
                "web.x.svc.cluster.local"
            ])
        #expect(
            DNSRecords.candidates(for: "a.b.c.d.e.f", search: DNSRecords.searchDomains(namespace: "x"), ndots: 5).first == "a.b.c.d.e.f")
        let records = DNSRecords(Cluster(), services: [ServiceDNSInput(namespace: "x", name: "web", kind: .clusterIP(IPv4("10.96.0.20")))])
        #expect(records.resolve("web", fromNamespace: "x") == [IPv4("10.96.0.20")])
        #expect(records.resolve("web.x", fromNamespace: "y") == [IPv4("10.96.0.20")])
        #expect(records.resolve("web", fromNamespace: "y").isEmpty)
    }

    /// A search-list name longer than 253 characters cannot be asked (glibc's `res_nmkquery` fails,
    /// NO_RECOVERY): `__res_context_search` stops its list there and asks the name as written, so a
    /// later search domain that holds the name is never reached (it had been, the long one skipped).
    @Test func aSearchNameTooLongToAskEndsTheSearchList() {
        let long = (0..<4).map { _ in String(repeating: "a", count: 62) }.joined(separator: ".")
        #expect(long.count == 251 && DNSRecords.isQueryable(long) && !DNSRecords.isQueryable("web." + long))
        #expect(!DNSRecords.isQueryable(String(repeating: "b", count: 64) + ".x"))
        let search = [long, "c.svc.cluster.local"]
        #expect(DNSRecords.candidates(for: "web", search: search, ndots: 1) == ["web"])
        #expect(DNSRecords.candidates(for: "web", search: ["c.svc.cluster.local", long], ndots: 1) == ["web.c.svc.cluster.local", "web"])
        let records = DNSRecords(Cluster(), services: [ServiceDNSInput(namespace: "c", name: "web", kind: .clusterIP(IPv4("10.96.1.1")))])
        let dnsConfig = ResolvConf(nameservers: ["10.96.0.10"], searches: search)
        #expect(records.resolve("web", fromNamespace: "c", dnsConfig: dnsConfig, clusterFirst: false).isEmpty)
        var asked: [String] = []
        let outcome = DNSRecords.search("web", searches: search, ndots: 1) { name in
            asked.append(name)
            return records.answer(name).map { .answered($0.addresses) } ?? .notFound
        }
        #expect(outcome == .notFound && asked == ["web"])
        // With no-tld-query the name as written is not asked either: nothing was sent.
        #expect(DNSRecords.search("web", searches: search, ndots: 1, noTLDQuery: true) { _ in .notFound } == .unqueryable)
    }

    /// ExternalName Services (Kubernetes DNS specification 2.4): the name is a CNAME to
    /// `spec.externalName`, which an A query follows to the target's addresses, as CoreDNS answers
    /// CNAME + A; the query may carry a trailing dot and any case, the target too.
    @Test func externalNameFollowsItsTargetInTheLab() throws {
        let services = [
            ServiceDNSInput(namespace: "prod", name: "db", kind: .clusterIP(IPv4("10.96.0.20"))),
            ServiceDNSInput(namespace: "shop", name: "orders-db", kind: .externalName("db.prod.svc.cluster.local")),
            ServiceDNSInput(namespace: "shop", name: "dotted", kind: .externalName("DB.prod.svc.cluster.local.")),
        ]
        let records = DNSRecords(Cluster(), services: services)
        let answer = try #require(records.answer("Orders-DB.shop.svc.cluster.local."))
        #expect(answer == DNSResponse(cnames: ["db.prod.svc.cluster.local"], addresses: [IPv4("10.96.0.20")]))
        #expect(records.lookup("dotted.shop.svc.cluster.local") == [IPv4("10.96.0.20")])
        #expect(records.aliases["dotted.shop.svc.cluster.local"] == "db.prod.svc.cluster.local")
        // A short name goes through the search path to the alias.
        #expect(records.resolve("orders-db", fromNamespace: "shop") == [IPv4("10.96.0.20")])
        // Both CNAMEs are served; the alias has no A record of its own.
        #expect(
            records.cnames == [
                "orders-db.shop.svc.cluster.local": "db.prod.svc.cluster.local",
                "dotted.shop.svc.cluster.local": "db.prod.svc.cluster.local",
            ])
        #expect(records.addresses["orders-db.shop.svc.cluster.local"] == nil)
    }

    /// A target outside the cluster domain: the CNAME with no address (the lab has no upstream; CoreDNS
    /// answers the same when its upstream says NXDOMAIN). The resolver stops there: a later search
    /// candidate with addresses is not reached, as glibc's res_nsearch stops at an answer with records.
    @Test func externalNameOutsideTheDomainAnswersTheCNAMEAlone() throws {
        var records = DNSRecords(
            Cluster(), services: [ServiceDNSInput(namespace: "shop", name: "stripe", kind: .externalName("api.stripe.com"))])
        let answer = try #require(records.answer("stripe.shop.svc.cluster.local"))
        #expect(answer == DNSResponse(cnames: ["api.stripe.com"], addresses: []))
        #expect(records.lookup("stripe.shop.svc.cluster.local").isEmpty)
        #expect(records.cnames == ["stripe.shop.svc.cluster.local": "api.stripe.com"])
        records.add("stripe.svc.cluster.local", IPv4("10.96.0.99"))
        #expect(records.resolution("stripe", fromNamespace: "shop") == answer)
        #expect(records.resolve("stripe", fromNamespace: "shop").isEmpty)
        // From another namespace the first candidate does not exist and the search goes on.
        #expect(records.resolve("stripe", fromNamespace: "other") == [IPv4("10.96.0.99")])
    }

    /// A target in the cluster domain that the lab does not hold (a deleted Service, a headless
    /// Service without ready endpoints): CoreDNS answers nothing for the alias (no CNAME), so the
    /// name is left out of the served CNAMEs and the search goes on to the next candidate.
    @Test func externalNameToAMissingClusterNameAnswersNothing() {
        var records = DNSRecords(
            Cluster(),
            services: [
                ServiceDNSInput(namespace: "shop", name: "old", kind: .externalName("gone.prod.svc.cluster.local")),
                ServiceDNSInput(namespace: "shop", name: "empty", kind: .externalName("headless.prod.svc.cluster.local")),
                ServiceDNSInput(namespace: "prod", name: "headless", kind: .headless([])),
            ])
        #expect(records.answer("old.shop.svc.cluster.local") == nil)
        #expect(records.answer("empty.shop.svc.cluster.local") == nil)
        #expect(records.cnames.isEmpty)
        #expect(records.aliases.count == 2)
        records.add("old.svc.cluster.local", IPv4("10.96.0.7"))
        #expect(records.resolve("old", fromNamespace: "shop") == [IPv4("10.96.0.7")])
    }

    /// Chains: an ExternalName to an ExternalName is followed, every CNAME in order, to addresses
    /// or to a name outside the domain; at most `maximumCNAMEChain` (8, CoreDNS's limit) CNAMEs,
    /// beyond which the alias answers nothing; a loop (or a name that is its own target) never
    /// ends at an address and answers nothing.
    @Test func chainsAreCappedAndLoopsAnswerNothing() throws {
        func alias(_ name: String, _ target: String) -> ServiceDNSInput {
            ServiceDNSInput(namespace: "x", name: name, kind: .externalName(target))
        }
        let web = ServiceDNSInput(namespace: "x", name: "web", kind: .clusterIP(IPv4("10.96.0.30")))
        // n1 → n2 → ... → n9 → web: nine CNAMEs from n1, eight from n2.
        let chain = (1...9).map { alias("n\($0)", $0 == 9 ? "web.x.svc.cluster.local" : "n\($0 + 1).x.svc.cluster.local") }
        let loops = [alias("l1", "l2.x.svc.cluster.local"), alias("l2", "l1.x.svc.cluster.local"), alias("me", "me.x.svc.cluster.local")]
        let outside = [alias("hop", "out.x.svc.cluster.local"), alias("out", "api.example.com")]
        let records = DNSRecords(Cluster(), services: [web] + chain + loops + outside)
        #expect(records.answer("n1.x.svc.cluster.local") == nil)
        let fromSecond = try #require(records.answer("n2.x.svc.cluster.local"))
        #expect(fromSecond.cnames.count == DNSRecords.maximumCNAMEChain)
        #expect(fromSecond.cnames.last == "web.x.svc.cluster.local")
        #expect(fromSecond.addresses == [IPv4("10.96.0.30")])
        #expect(records.lookup("n9.x.svc.cluster.local") == [IPv4("10.96.0.30")])
        for name in ["l1", "l2", "me"] { #expect(records.answer("\(name).x.svc.cluster.local") == nil) }
        #expect(
            records.answer("hop.x.svc.cluster.local") == DNSResponse(cnames: ["out.x.svc.cluster.local", "api.example.com"], addresses: []))
        // What the server is given: n2...n9, hop and out; never n1 or a loop.
        #expect(
            records.cnames.keys.sorted()
                == ["hop", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9", "out"].map { "\($0).x.svc.cluster.local" })
    }

    /// An externalName written as an IPv4 address (a valid DNS subdomain to the API server): CoreDNS
    /// serves no record for it, so the Service's name is NXDOMAIN. With a trailing dot it is a name.
    @Test func externalNameThatIsAnAddressHasNoRecord() {
        let records = DNSRecords(
            Cluster(),
            services: [
                ServiceDNSInput(namespace: "x", name: "ip", kind: .externalName("10.0.0.1")),
                ServiceDNSInput(namespace: "x", name: "dotted", kind: .externalName("10.0.0.1.")),
            ])
        #expect(records.answer("ip.x.svc.cluster.local") == nil)
        #expect(records.aliases["ip.x.svc.cluster.local"] == nil)
        #expect(records.answer("dotted.x.svc.cluster.local") == DNSResponse(cnames: ["10.0.0.1"], addresses: []))
    }
}
