import KeycardValues

/// The A records cluster DNS serves: fully qualified names (lower case, no trailing dot) and their
/// IPv4 addresses. A pure value built from the cluster's pods and from Service inputs; the lab
/// writes it as the DNS server's hosts file and the model answers `dns` steps with it.
///
/// Names follow the Kubernetes DNS specification
/// (https://github.com/kubernetes/dns/blob/master/docs/specification.md and
/// https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/):
/// - a pod: `<a-b-c-d>.<namespace>.pod.<domain>` → `a.b.c.d` for any IPv4 address written so and
///   any namespace that exists, as kubeadm's CoreDNS answers with `pods insecure` (its Corefile,
///   cmd/kubeadm/app/phases/addons/dns/manifests.go; plugin/kubernetes/kubernetes.go `findPods`:
///   the address is read from the name, the namespace must exist, no pod need have it):
///   `podAddress(_:)`. Each existing pod's name is also in `addresses`;
/// - a ClusterIP Service: `<svc>.<namespace>.svc.<domain>` → its ClusterIP (and
///   `kubernetes.default.svc.<domain>`, the API server's Service, which every cluster has);
/// - a headless Service: the same name → every ready endpoint's address;
/// - either kind: `<hostname>.<svc>.<namespace>.svc.<domain>` → that endpoint's address, the
///   hostname being the endpoint's (StatefulSet pods under their governing Service, pods whose
///   `subdomain` names the Service) or else its address with dashes (`10-244-0-6.<svc>...`, as
///   CoreDNS names it). CoreDNS's kubernetes plugin (plugin/kubernetes/kubernetes.go,
///   `findServices`) answers an endpoint name from the Service's endpoints whether or not it is
///   headless (`svc.Headless() || r.endpoint != ""`); the Service's own name stays its ClusterIP;
/// - an ExternalName Service: the same name → a CNAME to `spec.externalName` (section 2.4), which
///   an A query follows as CoreDNS's kubernetes plugin does (`answer(_:)`).
public struct DNSRecords: Sendable, Hashable {
    /// The cluster domain every name lives under.
    public static let defaultDomain = "cluster.local"

    /// The most CNAMEs one answer holds: CoreDNS's kubernetes plugin stops following at the ninth
    /// (`plugin/backend_lookup.go`, `len(previousRecords) > 7`), and its answer then holds nothing.
    public static let maximumCNAMEChain = 8

    public let domain: String
    /// Name → addresses, each list sorted and without duplicates.
    public private(set) var addresses: [String: [IPv4]] = [:]
    /// Alias → target (both lower case, no trailing dot): the CNAME of every ExternalName Service,
    /// as declared. `cnames` is the part cluster DNS serves.
    public private(set) var aliases: [String: String] = [:]
    /// The namespaces (lower case) whose pod names answer (`podAddress(_:)`): every namespace of
    /// the cluster.
    public private(set) var podNamespaces: Set<String> = []

    public init(domain: String = DNSRecords.defaultDomain) { self.domain = domain }

    /// The records of every pod present in `cluster` that has an address, of every Service of
    /// `cluster` (`ServiceDNSInput.all(in:)`), plus `services`.
    public init(_ cluster: Cluster, services: [ServiceDNSInput] = [], domain: String = DNSRecords.defaultDomain) {
        self.init(domain: domain)
        for namespace in cluster.namespaces.keys { addPodNamespace(namespace) }
        for pod in cluster.sortedPods {
            addPodNamespace(pod.namespace)
            guard let address = cluster.addresses[pod.key] else { continue }
            add(Self.podName(address, namespace: pod.namespace, domain: domain), address)
        }
        for service in ServiceDNSInput.all(in: cluster) + services { add(service) }
        // `kubernetes.default`, the API server's Service every cluster has, at the service CIDR's
        // first host: nine below kube-dns's tenth (`ServiceAddresses`). Its endpoint is the API
        // server, which the lab does not run: only the name answers, as it does in any cluster.
        let apiServer = ObjectKey("default", "kubernetes")
        if cluster.services[apiServer] == nil, let dns = cluster.services[ObjectKey("kube-system", "kube-dns")]?.clusterIP {
            add(Self.serviceName(apiServer.name, namespace: apiServer.namespace, domain: domain), IPv4(dns.value &- 9))
        }
    }

    /// `10-244-0-5.<namespace>.pod.<domain>`.
    public static func podName(_ address: IPv4, namespace: String, domain: String = defaultDomain) -> String {
        "\(address.description.replacingDots(with: "-")).\(namespace).pod.\(domain)"
    }

    /// `<name>.<namespace>.svc.<domain>`.
    public static func serviceName(_ name: String, namespace: String, domain: String = defaultDomain) -> String {
        "\(name).\(namespace).svc.\(domain)"
    }

    /// Adds one A record (names are case-insensitive: kept in lower case).
    public mutating func add(_ name: String, _ address: IPv4) {
        let key = Self.normalized(name)
        var list = addresses[key, default: []]
        guard !list.contains(address) else { return }
        list.append(address)
        list.sort()
        addresses[key] = list
    }

    /// Makes `<a-b-c-d>.<namespace>.pod.<domain>` answer for `namespace` (`podAddress(_:)`).
    public mutating func addPodNamespace(_ namespace: String) { podNamespaces.insert(namespace.lowercased()) }

    /// The address a pod name stands for, as CoreDNS's kubernetes plugin with `pods insecure`
    /// reads it (plugin/kubernetes/kubernetes.go, `findPods`; parse.go `parseRequest`): `name` is
    /// `<label>.<namespace>.pod.<domain>` (fully qualified, case and a trailing dot ignored), the
    /// namespace exists (`namespaceExposed`), and the label holds exactly three dashes, none doubled,
    /// and is an IPv4 address once they are dots (Go's `net.ParseIP`: four decimal numbers 0-255,
    /// no leading zero). nil otherwise: NXDOMAIN, and for a label that reads as IPv6 CoreDNS's empty
    /// answer to an A query, which the resolver's search passes just the same. A name with one more
    /// label before the address (`x.10-0-0-1.ns.pod...`), which CoreDNS also answers, is not read.
    public func podAddress(_ name: String) -> IPv4? {
        let name = Self.normalized(name)
        let suffix = ".pod." + Self.normalized(domain)
        guard name.hasSuffix(suffix) else { return nil }
        let labels = name.dropLast(suffix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count == 2, podNamespaces.contains(String(labels[1])) else { return nil }
        let parts = labels[0].split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }), part.count == 1 || part.first != "0",
                let number = UInt32(part), number <= 255
            else { return nil }
            value = value << 8 | number
        }
        return IPv4(value)
    }

    /// The A records of `name` itself (no CNAME followed): its records, else the address a pod
    /// name stands for (`podAddress(_:)`); nil when it has none.
    public func ownAddresses(_ name: String) -> [IPv4]? {
        let key = Self.normalized(name)
        return addresses[key] ?? podAddress(key).map { [$0] }
    }

    /// Adds one CNAME: `alias` is `target` (names are case-insensitive and a trailing dot is
    /// ignored: both are kept in lower case without it). A later alias of the same name replaces it.
    public mutating func addAlias(_ alias: String, target: String) {
        aliases[Self.normalized(alias)] = Self.normalized(target)
    }

    /// Adds the records of one Service. An ExternalName whose text is an IPv4 address (`10.0.0.1`,
    /// which the API server accepts as a DNS subdomain) gets no record: CoreDNS's kubernetes plugin
    /// serves only an ExternalName that is a name (`findServices` keeps it only when `HostType` is
    /// CNAME), so the Service's name is NXDOMAIN.
    public mutating func add(_ service: ServiceDNSInput) {
        let name = Self.serviceName(service.name, namespace: service.namespace, domain: domain)
        switch service.kind {
        case .clusterIP(let ip, let endpoints):
            add(name, ip)
            addEndpointNames(endpoints, under: name)
        case .headless(let endpoints):
            for endpoint in endpoints { add(name, endpoint.address) }
            addEndpointNames(endpoints, under: name)
        case .externalName(let target):
            guard IPv4(target) == nil else { return }
            addAlias(name, target: target)
        }
    }

    /// `<label>.<service name>` → the endpoint's address for every endpoint. CoreDNS names every
    /// endpoint (`endpointHostname`, plugin/kubernetes): its hostname, else its address with dashes
    /// (Kubernetes DNS specification 2.4.1 and 2.3.1).
    private mutating func addEndpointNames(_ endpoints: [DNSEndpoint], under name: String) {
        for endpoint in endpoints {
            let label = endpoint.hostname ?? endpoint.address.description.replacingDots(with: "-")
            add("\(label).\(name)", endpoint.address)
        }
    }

    /// True when `name` lies in the cluster domain (is it or ends with `.<domain>`): a name cluster
    /// DNS holds or answers NXDOMAIN for. Any other name would be asked of the upstream, which the
    /// lab does not have.
    public func isInDomain(_ name: String) -> Bool {
        let name = Self.normalized(name)
        let domain = Self.normalized(domain)
        return name == domain || name.hasSuffix("." + domain)
    }

    /// What cluster DNS answers to an A query for `name` (fully qualified; a trailing dot is
    /// ignored, case does not matter), following CNAMEs as CoreDNS's kubernetes plugin does
    /// (`plugin/backend_lookup.go`, `A`): a name with addresses answers them; an alias answers its
    /// CNAME and then what its target answers: a target in the cluster domain is followed here, and
    /// the CNAME is answered only when the chain ends at addresses (a target that does not exist, a
    /// loop or a chain longer than `maximumCNAMEChain` answers nothing at all); a target outside
    /// the cluster domain ends the chain with no address (CoreDNS would ask its upstream; the lab
    /// has none, so the answer is the CNAMEs alone, what CoreDNS answers when the upstream says
    /// NXDOMAIN). nil: no record (NXDOMAIN, or CoreDNS's empty NOERROR for an alias it cannot
    /// complete; glibc's search goes on after either).
    public func answer(_ name: String) -> DNSResponse? {
        var current = Self.normalized(name)
        var seen: Set<String> = [current]
        var chain: [String] = []
        while true {
            if let found = ownAddresses(current) { return DNSResponse(cnames: chain, addresses: found) }
            guard let target = aliases[current], chain.count < Self.maximumCNAMEChain, !seen.contains(target) else { return nil }
            chain.append(target)
            seen.insert(target)
            guard isInDomain(target) else { return DNSResponse(cnames: chain, addresses: []) }
            current = target
        }
    }

    /// The CNAMEs cluster DNS serves (alias → target): every alias whose `answer` is not nil. An
    /// alias left out answers nothing, as in CoreDNS; every target of one kept is either a name with
    /// addresses, another alias kept (its chain is one shorter) or a name outside the cluster domain.
    public var cnames: [String: String] { aliases.filter { answer($0.key) != nil } }

    /// The addresses an A query for `name` gets (fully qualified; a trailing dot is ignored),
    /// through its CNAMEs; empty when unknown.
    public func lookup(_ name: String) -> [IPv4] { answer(name)?.addresses ?? [] }

    /// Every name with addresses, sorted.
    public var names: [String] { addresses.keys.sorted() }

    static func normalized(_ name: String) -> String {
        var text = name.lowercased()
        while text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// Whether glibc's resolver can put `name` (a trailing dot ignored) in a query: at most 253
    /// characters, each label 1 to 63. Otherwise `res_nmkquery` fails (`ns_name_pton`: a name of
    /// more than 255 bytes on the wire, `NS_MAXCDNAME`, or a label over 63) and
    /// `__res_context_query` (resolv/res_query.c) returns NO_RECOVERY without sending anything.
    public static func isQueryable(_ name: String) -> Bool {
        let name = normalized(name)
        guard name.utf8.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { (1...63).contains($0.utf8.count) }
    }

    /// The names a pod's resolver tries for `name`, in order, with Kubernetes' resolv.conf
    /// (`search <ns>.svc.<domain> svc.<domain> <domain>`, `options ndots:5`, then the pod's
    /// `dnsConfig`: `resolvConf(namespace:dnsConfig:)`) and glibc's rule (resolv.conf(5)): a name
    /// ending in a dot is only tried as written; one with at least `ndots` dots is tried as written
    /// first, otherwise after the search list. The search list ends before the first name too long
    /// to ask (`isQueryable`): glibc's `__res_context_search` stops its list at NO_RECOVERY
    /// ("anything else implies that we're done") and then asks the name as written.
    public static func candidates(for name: String, search: [String], ndots: Int) -> [String] {
        if name.hasSuffix(".") { return [normalized(name)].filter(isQueryable) }
        let searched = Array(search.map { $0 == "." ? name : "\(name).\($0)" }.prefix(while: isQueryable))
        let dots = name.filter { $0 == "." }.count
        let candidates = dots >= ndots ? [name] + searched : searched + [name]
        var seen: Set<String> = []
        return candidates.map(normalized).filter { isQueryable($0) && seen.insert($0).inserted }
    }

    /// What one query of a search gave, for `search(_:searches:ndots:noTLDQuery:query:)`.
    public enum SearchOutcome: Sendable, Hashable {
        /// An answer with records (a CNAME without an address too): the search stops.
        case answered([IPv4])
        /// NXDOMAIN or an empty answer: the search goes on.
        case notFound
        /// No answer within the tries (TRY_AGAIN without SERVFAIL): the search list stops.
        case noAnswer
        /// No query at all: the name is too long to ask (`isQueryable`; NO_RECOVERY): the search
        /// list stops.
        case unqueryable
    }

    /// glibc's `__res_context_search` (resolv/res_query.c) over `query`: a name ending in a dot
    /// is asked as written only; one with at least `ndots` dots is asked as written first (its
    /// outcome kept as the result should all fail); then each search domain until an answer, and
    /// the list stops at a query without answer (TRY_AGAIN not from SERVFAIL: "anything else
    /// implies that we're done") or at a name too long to ask (`isQueryable`: NO_RECOVERY, `query`
    /// is not called); then, unless already asked or the root is on the list, the name
    /// as written (not a dotless name with `no-tld-query`). The result: the first answer, else the
    /// outcome kept from the first query as written, else that of the last query. So a short name
    /// whose search domain gets no answer (a truncated answer whose TCP query is dropped) ends as
    /// the name as written answers: NXDOMAIN for `big`, where the query had timed out.
    public static func search(
        _ name: String, searches: [String], ndots: Int, noTLDQuery: Bool = false, query: (String) throws -> SearchOutcome
    ) rethrows -> SearchOutcome {
        let asWritten = normalized(name)
        if name.hasSuffix(".") { return try isQueryable(asWritten) ? query(asWritten) : .unqueryable }
        let dots = name.filter { $0 == "." }.count
        var kept: SearchOutcome?
        if dots >= ndots {
            let outcome = try isQueryable(asWritten) ? query(asWritten) : .unqueryable
            if case .answered = outcome { return outcome }
            kept = outcome
        }
        var last = SearchOutcome.notFound
        var rootOnList = false
        for domain in searches {
            let candidate = domain == "." || domain.isEmpty ? asWritten : normalized("\(name).\(domain)")
            if candidate == asWritten { rootOnList = true }
            last = try isQueryable(candidate) ? query(candidate) : .unqueryable
            if case .answered = last { return last }
            if last == .noAnswer || last == .unqueryable { break }
        }
        if kept == nil, !rootOnList, dots > 0 || searches.isEmpty || !noTLDQuery {
            last = try isQueryable(asWritten) ? query(asWritten) : .unqueryable
            if case .answered = last { return last }
        }
        return kept ?? last
    }

    /// The search list Kubernetes writes into a pod's resolv.conf (ClusterFirst DNS policy).
    public static func searchDomains(namespace: String, domain: String = defaultDomain) -> [String] {
        ResolvConf.clusterFirst(nameservers: [], namespace: namespace, domain: domain).searches
    }

    /// The resolv.conf of a ClusterFirst pod of `namespace` on a node whose own file searches
    /// `nodeSearches`, with `dnsConfig` appended, as the kubelet writes it within its limits
    /// (`ResolvConf.clusterFirst`; nameservers left out: cluster DNS is asked); with
    /// `clusterFirst` false (dnsPolicy None), `dnsConfig` alone.
    public static func resolvConf(
        namespace: String, dnsConfig: ResolvConf?, domain: String = defaultDomain, clusterFirst: Bool = true, nodeSearches: [String] = []
    ) -> ResolvConf {
        // dnsPolicy None: the kubelet writes `spec.dnsConfig` alone (no cluster search path).
        guard clusterFirst else { return (dnsConfig ?? ResolvConf()).fittingKubeletLimits() }
        return ResolvConf.clusterFirst(nameservers: [], namespace: namespace, domain: domain, nodeSearches: nodeSearches)
            .appending(dnsConfig ?? ResolvConf()).fittingKubeletLimits()
    }

    /// What a resolver in `namespace` (with the pod's `dnsConfig`) gets for `name`: the answer of
    /// the first candidate that has one (`answer(_:)` not nil), nil when none has. glibc's
    /// `res_nsearch` stops at the first answer that holds records, a CNAME without an address
    /// included, and goes on after NXDOMAIN or an empty answer.
    public func resolution(
        _ name: String, fromNamespace namespace: String, dnsConfig: ResolvConf? = nil, clusterFirst: Bool = true
    ) -> DNSResponse? {
        answeringCandidate(name, fromNamespace: namespace, dnsConfig: dnsConfig, clusterFirst: clusterFirst)?.response
    }

    /// `resolution(_:fromNamespace:dnsConfig:clusterFirst:)` with the name the resolver asked
    /// when it got that answer (the question of the answer, whose size `DNSResponse.wireSize`
    /// counts).
    public func answeringCandidate(
        _ name: String, fromNamespace namespace: String, dnsConfig: ResolvConf? = nil, clusterFirst: Bool = true
    ) -> (name: String, response: DNSResponse)? {
        answeringCandidate(
            name, conf: Self.resolvConf(namespace: namespace, dnsConfig: dnsConfig, domain: domain, clusterFirst: clusterFirst))
    }

    /// `answeringCandidate(_:fromNamespace:dnsConfig:clusterFirst:)` for a resolver reading `conf`.
    public func answeringCandidate(_ name: String, conf: ResolvConf) -> (name: String, response: DNSResponse)? {
        for candidate in Self.candidates(for: name, search: conf.searches, ndots: conf.ndots) {
            if let found = answer(candidate) { return (candidate, found) }
        }
        return nil
    }

    /// The addresses of `resolution(_:fromNamespace:)`, empty when it has none.
    public func resolve(_ name: String, fromNamespace namespace: String, dnsConfig: ResolvConf? = nil, clusterFirst: Bool = true) -> [IPv4]
    {
        resolution(name, fromNamespace: namespace, dnsConfig: dnsConfig, clusterFirst: clusterFirst)?.addresses ?? []
    }
}

/// Cluster DNS's answer to an A query: the CNAME targets followed, in order, then the addresses of
/// the last name (empty when the chain ends outside the cluster domain).
public struct DNSResponse: Sendable, Hashable {
    /// Each CNAME's target, in the order the answer holds them (empty for a name with addresses).
    public var cnames: [String]
    /// Sorted, without duplicates.
    public var addresses: [IPv4]

    public init(cnames: [String] = [], addresses: [IPv4]) {
        self.cnames = cnames
        self.addresses = addresses
    }

    /// The bytes of this answer to an A query for `question`, with name compression as CoreDNS
    /// sends an answer too large for the client (miekg/dns `Msg.Truncate`, called by CoreDNS's
    /// `request.Scrub`, compresses before it counts): the 12-byte header, the question, each CNAME
    /// (its owner a pointer, its target compressed against every name already written), each A
    /// record (a pointer, 10 bytes of type, class, TTL and length, 4 of address), and with `edns`
    /// the 11-byte OPT record the server echoes. No authority or additional records: CoreDNS's
    /// kubernetes plugin adds none to an A answer. CoreDNS and glibc's resolver both take an answer
    /// over the UDP limit (`ResolvConf.udpAnswerLimit`) as truncated (TC): the resolver then asks
    /// again over TCP.
    public func wireSize(question: String, edns: Bool = false) -> Int {
        var written: Set<String> = []
        func labels(_ name: String) -> [Substring] {
            DNSRecords.normalized(name).split(separator: ".", omittingEmptySubsequences: true)
        }
        /// The bytes of `name` where it is written, registering its suffixes for later pointers.
        func write(_ name: String) -> Int {
            let parts = labels(name)
            var size = 0
            for index in parts.indices {
                let suffix = parts[index...].joined(separator: ".")
                if written.contains(suffix) { return size + 2 }
                written.insert(suffix)
                size += 1 + parts[index].utf8.count
            }
            return size + 1
        }
        var size = 12 + write(question) + 4
        for target in cnames { size += 2 + 10 + write(target) }
        size += addresses.count * (2 + 10 + 4)
        return size + (edns ? 11 : 0)
    }
}

/// What the Services model hands to cluster DNS for one Service: its name and what its name
/// resolves to.
public struct ServiceDNSInput: Sendable, Hashable {
    /// What the Service's name resolves to (DNS specification for Services, kubernetes/dns).
    public enum Kind: Sendable, Hashable {
        /// A Service with a ClusterIP: one A record for its name, and one per ready endpoint under it
        /// (`<endpoint>.<svc>...`, the endpoint's address).
        case clusterIP(IPv4, endpoints: [DNSEndpoint] = [])
        /// `clusterIP: None`: the ready endpoints' addresses, for its name and each under it.
        case headless([DNSEndpoint])
        /// `type: ExternalName`: a CNAME to `spec.externalName` (as written, a trailing dot allowed).
        case externalName(String)
    }

    public var namespace: String
    public var name: String
    public var kind: Kind
}

/// One ready endpoint of a Service, headless or not, as cluster DNS names it.
public struct DNSEndpoint: Sendable, Hashable {
    public var address: IPv4
    /// The pod's hostname when it lives under this Service as its subdomain (a StatefulSet pod's
    /// name under its governing Service): it gets `<hostname>.<svc>.<ns>.svc.<domain>`.
    public var hostname: String?
}

extension String {
    fileprivate func replacingDots(with replacement: Character) -> String {
        String(map { $0 == "." ? replacement : $0 })
    }
}
