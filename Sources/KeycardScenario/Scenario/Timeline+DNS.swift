import Foundation
import KeycardModel
import KeycardValues

extension Timeline {
    /// The port a resolver with `conf` asks cluster DNS on: the model judges a query as a UDP/53
    /// connection to the DNS pod, or TCP/53 when `conf` has `use-vc` (glibc then sends every query
    /// over TCP, resolv.conf(5)), so an egress rule allowing only UDP/53 blocks it.
    public static func dnsPort(_ conf: ResolvConf) -> ProtocolPort { ProtocolPort(conf.usesTCP ? .tcp : .udp, 53) }

    /// The ports a query of `dns` at step `index` uses, in order: `dnsPort`, then TCP/53 when the
    /// answer over UDP is truncated (`dnsTruncated`): glibc asks the same name again over TCP, so
    /// a policy allowing only UDP/53 blocks the lookup although the UDP query got through.
    public func dnsPorts(_ dns: DNSStep, atStep index: Int) -> [ProtocolPort] {
        let port = Self.dnsPort(resolvConf(of: dns.from, atStep: index))
        return dnsTruncated(dns, atStep: index) ? [port, ProtocolPort(.tcp, 53)] : [port]
    }

    /// Whether cluster DNS's UDP answer to `dns` at step `index` is too large for the pod's
    /// resolver (`DNSResponse.wireSize` over `ResolvConf.udpAnswerLimit`: 512 bytes, 1200 with
    /// `edns0`): CoreDNS then sends what fits with TC set (miekg/dns `Msg.Truncate`), and glibc asks
    /// again over TCP/53 (res_send.c `send_dg`). Only the answer the search stops at can be large:
    /// the names before it are NXDOMAIN or empty. A headless Service with about 30 ready endpoints
    /// is enough (16 bytes an address). Never for a `use-vc` resolver, which asks over TCP anyway.
    public func dnsTruncated(_ dns: DNSStep, atStep index: Int) -> Bool {
        let conf = resolvConf(of: dns.from, atStep: index)
        guard !conf.usesTCP else { return false }
        guard let found = dnsRecords(afterStep: index).answeringCandidate(dns.name, conf: conf) else { return false }
        return found.response.wireSize(question: found.name, edns: conf.usesEDNS0) > conf.udpAnswerLimit
    }

    /// The address pods query at step `index` (the DNS pod's address until Services exist).
    public func dnsServer(atStep index: Int) -> IPv4? { ClusterDNS.serverAddress(in: cluster(afterStep: index)) }

    /// What the model predicts for `dns` at step `index`: `blocked` when policy denies any of its
    /// ports (`dnsPorts`: UDP/53, TCP/53 with `use-vc`, and TCP/53 after UDP/53 for a truncated
    /// answer) from the pod to the DNS pod through the `kube-dns` Service (judged on the DNS pod
    /// after translation, or on the ClusterIP before it with `pre-dnat`), otherwise the records'
    /// answer through the pod's search path.
    ///
    /// A truncated answer whose TCP query policy drops is no answer for that name: glibc's search
    /// then stops its list and asks the name as written (`DNSRecords.search`), so `big` ends as
    /// `big.` answers (NXDOMAIN), `big.ns.svc.cluster.local` (asked as written last) `blocked`.
    public func dnsModel(_ dns: DNSStep, atStep index: Int) -> DNSAnswer {
        let cluster = cluster(afterStep: index)
        let engine = PolicyEngine(cluster)
        func allows(_ port: ProtocolPort) -> Bool {
            engine.evaluate(from: .pod(dns.from), to: ClusterDNS.destination(in: cluster), port: port).decision == .allow
        }
        let conf = resolvConf(of: dns.from, atStep: index)
        let records = dnsRecords(afterStep: index)
        guard allows(Self.dnsPort(conf)) else { return .blocked }
        guard !conf.usesTCP, !allows(ProtocolPort(.tcp, 53)) else {
            return .model(allowed: true, addresses: records.answeringCandidate(dns.name, conf: conf)?.response.addresses ?? [])
        }
        let outcome = DNSRecords.search(dns.name, searches: conf.searches, ndots: conf.ndots, noTLDQuery: conf.noTLDQuery) { name in
            guard let response = records.answer(name) else { return .notFound }
            if response.wireSize(question: name, edns: conf.usesEDNS0) > conf.udpAnswerLimit { return .noAnswer }
            return .answered(response.addresses)
        }
        switch outcome {
        case .answered(let addresses): return .model(allowed: true, addresses: addresses)
        case .notFound: return .notFound
        case .noAnswer: return .blocked
        // Nothing left to ask but names too long for a query (`DNSRecords.isQueryable`): the
        // resolver fails with NO_RECOVERY.
        case .unqueryable: return .failed("no query: \(dns.name)'s search-list names are too long to ask (NO_RECOVERY)")
        }
    }

    /// Why the model cannot say what cluster DNS answers `dns` at step `index` (nil: it can). A
    /// Service with endpoints written by hand (`unjudgedReason`: selectorless, OBJ-30, or with a
    /// selector and a slice its controller does not manage, OBJ-80) gets its records in CoreDNS
    /// from those EndpointSlices too (plugin/kubernetes/object/endpoint.go):
    /// a headless one's name, and under either kind each endpoint's name (`<hostname>.<svc>`,
    /// `<a-b-c-d>.<svc>`); keycard does not read them. The first search-list candidate that is such
    /// a name (directly or as an ExternalName's CNAME target) before one the records answer makes
    /// the step unjudged; a query policy drops stays judged (`blocked`).
    public func dnsUnjudgedReason(_ dns: DNSStep, atStep index: Int) -> String? {
        guard !handWrittenNamesEmpty(afterStep: index), dnsModel(dns, atStep: index) != .blocked else { return nil }
        let cluster = cluster(afterStep: index)
        let records = dnsRecords(afterStep: index)
        let conf = resolvConf(of: dns.from, atStep: index)
        let services = cluster.sortedServices.compactMap { service in
            Self.unjudgedReason(service, handWrittenEndpoints: scenario.handWrittenEndpoints).map { (service, $0) }
        }
        func owner(_ name: String) -> String? {
            for (service, reason) in services {
                let serviceName = DNSRecords.serviceName(service.name, namespace: service.namespace, domain: records.domain).lowercased()
                if name == serviceName, service.address == .headless { return reason }
                if name.hasSuffix("." + serviceName), !name.dropLast(serviceName.count + 1).contains(".") { return reason }
            }
            return nil
        }
        for candidate in DNSRecords.candidates(for: dns.name, search: conf.searches, ndots: conf.ndots) {
            // The candidate, then each CNAME target an A query follows from it.
            var name = candidate
            var seen: Set<String> = [name]
            while true {
                if let reason = owner(name) { return reason }
                guard records.ownAddresses(name) == nil, let target = records.aliases[name], seen.insert(target).inserted else { break }
                name = target
            }
            if records.answer(candidate) != nil { return nil }
        }
        return nil
    }

    /// Whether no Service of the cluster after step `index` is one `unjudgedReason` names.
    private func handWrittenNamesEmpty(afterStep index: Int) -> Bool {
        scenario.handWrittenEndpoints.isEmpty && cluster(afterStep: index).services[ObjectKey("default", "kubernetes")] == nil
    }

    /// The resolv.conf `pod` asks cluster DNS with at step `index`: ClusterFirst's with the node's
    /// search domains (`nodeResolvConf`), then the pod's `spec.dnsConfig` (`DNSRecords.resolvConf`).
    public func resolvConf(of pod: ObjectKey, atStep index: Int) -> ResolvConf {
        Self.resolvConf(of: pod, in: cluster(afterStep: index), node: nodeResolvConf)
    }

    /// The resolv.conf `pod` asks cluster DNS with in `cluster` on a node whose file is `node`
    /// (one home for the model, the report and audit mode: UDP or TCP, `dnsPort`, is decided
    /// from it).
    public static func resolvConf(of pod: ObjectKey, in cluster: Cluster, node: ResolvConf = Timeline.machineResolvConf) -> ResolvConf {
        let spec = cluster.pods[pod]
        return DNSRecords.resolvConf(
            namespace: pod.namespace, dnsConfig: spec?.dnsConfig, clusterFirst: spec?.dnsPolicy != Pod.DNSPolicy.none,
            nodeSearches: node.searches)
    }

    /// The whole resolv.conf the kubelet writes for `pod` in `cluster` on a node whose file is
    /// `node` (`ResolvConf.pod`: its dnsPolicy and host network decide the base, `getPodDNSType`),
    /// nameservers included: cluster DNS's address (`ClusterDNS.serverAddress`) for ClusterFirst.
    public static func podResolvConf(of pod: Pod, in cluster: Cluster, node: ResolvConf = Timeline.machineResolvConf) -> ResolvConf {
        let base: ResolvConf.PodBase = pod.dnsPolicy == .none ? .none : pod.usesClusterDNS ? .cluster : .node
        return ResolvConf.pod(
            base, clusterNameservers: ClusterDNS.serverAddress(in: cluster).map { [$0.description] } ?? [], namespace: pod.namespace,
            domain: DNSRecords.defaultDomain, node: node, dnsConfig: pod.dnsConfig ?? ResolvConf())
    }

    /// The lab's nodes' resolv.conf as the kubelet reads it (`ResolvConf(kubeletParsing:)`): the
    /// lab's nodes are this machine, so its /etc/resolv.conf, read once (what the lab's
    /// `ClusterDNSServer.prepare` writes pods' files from).
    public static let machineResolvConf = ResolvConf(
        kubeletParsing: (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? "")

    static func check(_ dns: DNSStep, step: Step, cluster: Cluster, enabled: Bool) throws(ScenarioError) {
        guard enabled else { throw ScenarioError(step.location, "a dns step needs cluster DNS: set spec.lab.dns: true") }
        guard cluster.pods[dns.from] != nil else {
            throw ScenarioError(step.location, "dns.from: pod \(dns.from) does not exist at this step")
        }
        // The pod's dnsPolicy says which resolver it asks
        // (https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-s-dns-policy):
        // ClusterFirst on the host network falls back to Default, the node's resolver; Default and
        // None never ask cluster DNS. ClusterFirstWithHostNet on the host network asks it through
        // the kube-dns ClusterIP from the node's namespace, where the lab runs no Service proxy.
        guard let pod = cluster.pods[dns.from] else { return }
        if let reason = clusterDNSRefusal(pod, in: cluster) { throw ScenarioError(step.location, "dns.from: pod \(dns.from) \(reason)") }
    }

    /// Why a `dns` step from `pod` cannot ask cluster DNS in the lab, by its dnsPolicy and host
    /// network; nil when it can (a pod on the pod network that uses cluster DNS, or one with
    /// dnsPolicy None whose first `dnsConfig` nameserver is cluster DNS's address in `cluster`:
    /// the kubelet writes that resolv.conf, and its resolver asks the first nameserver).
    static func clusterDNSRefusal(_ pod: Pod, in cluster: Cluster) -> String? {
        switch pod.dnsPolicy {
        case .default:
            return "has dnsPolicy Default: it asks its node's resolver, not cluster DNS; ask from a pod with dnsPolicy ClusterFirst"
        case .none
        where !pod.hostNetwork && pod.dnsConfig?.nameservers.first.flatMap(IPv4.init) != nil
            && pod.dnsConfig?.nameservers.first.flatMap(IPv4.init) == ClusterDNS.serverAddress(in: cluster):
            return nil
        case .none:
            let server = ClusterDNS.serverAddress(in: cluster).map { " (\($0))" } ?? ""
            return
                "has dnsPolicy None: it asks only the nameservers of its spec.dnsConfig, and the first is not cluster DNS\(server); ask from a pod with dnsPolicy ClusterFirst, or list cluster DNS's address first"
        case .clusterFirst where pod.hostNetwork:
            return
                "uses the host network: it asks its node's resolver (dnsPolicy ClusterFirst falls back to Default there), not cluster DNS; ask from a pod on the pod network"
        case .clusterFirstWithHostNet where pod.hostNetwork:
            return
                "uses the host network with dnsPolicy ClusterFirstWithHostNet: it asks cluster DNS through the kube-dns ClusterIP from its node's namespace, where the lab runs no Service proxy; ask from a pod on the pod network"
        case .clusterFirst, .clusterFirstWithHostNet:
            return nil
        }
    }

    /// With cluster DNS on, its pod's name belongs to keycard.
    static func checkReserved(_ objects: [LoadedObject], dns: Bool) throws(ScenarioError) {
        guard dns else { return }
        for loaded in objects {
            if case .pod(let pod) = loaded.object, pod.key == ClusterDNS.podKey {
                throw ScenarioError(
                    loaded.location, "pod \(pod.key) is the cluster DNS pod keycard runs with spec.lab.dns: true; choose another name")
            }
            if case .service(let service) = loaded.object, service.key == ClusterDNS.serviceKey {
                throw ScenarioError(
                    loaded.location,
                    "Service \(service.key) is the cluster DNS Service keycard runs with spec.lab.dns: true; choose another name")
            }
        }
    }

    static func checkDNSDelete(_ targets: [DeleteTarget], dns: Bool) throws(ScenarioError) {
        guard dns else { return }
        for target in targets
        where target.ref.kind == .pod && target.ref.namespace == ClusterDNS.podKey.namespace && target.ref.name == ClusterDNS.podKey.name {
            throw ScenarioError(target.location, "the cluster DNS pod \(ClusterDNS.podKey) cannot be deleted while spec.lab.dns is true")
        }
        for target in targets where target.ref.kind == .namespace && target.ref.name == ClusterDNS.podKey.namespace {
            throw ScenarioError(
                target.location, "namespace kube-system holds the cluster DNS pod and cannot be deleted while spec.lab.dns is true")
        }
    }
}
