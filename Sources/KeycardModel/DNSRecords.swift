import KeycardValues

/// The A records cluster DNS serves: fully qualified names (lower case, no trailing dot) and their
/// IPv4 addresses. A pure value built from the cluster's pods and from Service inputs; the lab
/// writes it as the DNS server's hosts file and the model answers `dns` steps with it.
///
/// Names follow the Kubernetes DNS specification
/// (https://github.com/kubernetes/dns/blob/master/docs/specification.md and
/// https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/):
/// - a pod: `<a-b-c-d>.<namespace>.pod.<domain>` → its address (only pods that exist, as CoreDNS's
///   `pods verified` mode answers);
/// - a ClusterIP Service: `<svc>.<namespace>.svc.<domain>` → its ClusterIP (and
///   `kubernetes.default.svc.<domain>`, the API server's Service, which every cluster has);
/// - a headless Service: the same name → every ready endpoint's address, and
///   `<hostname>.<svc>.<namespace>.svc.<domain>` → that endpoint's address for endpoints with a
///   hostname (StatefulSet pods under their governing Service).
public struct DNSRecords: Sendable, Hashable {
    /// The cluster domain every name lives under.
    public static let defaultDomain = "cluster.local"

    public let domain: String
    /// Name → addresses, each list sorted and without duplicates.
    public private(set) var addresses: [String: [IPv4]] = [:]

    public init(domain: String = DNSRecords.defaultDomain) { self.domain = domain }

    /// The records of every pod present in `cluster` that has an address, of every Service of
    /// `cluster` (`ServiceDNSInput.all(in:)`), plus `services`.
    public init(_ cluster: Cluster, services: [ServiceDNSInput] = [], domain: String = DNSRecords.defaultDomain) {
        self.init(domain: domain)
        for pod in cluster.sortedPods {
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

    /// Adds the records of one Service.
    public mutating func add(_ service: ServiceDNSInput) {
        let name = Self.serviceName(service.name, namespace: service.namespace, domain: domain)
        switch service.kind {
        case .clusterIP(let ip): add(name, ip)
        case .headless(let endpoints):
            for endpoint in endpoints {
                add(name, endpoint.address)
                if let hostname = endpoint.hostname { add("\(hostname).\(name)", endpoint.address) }
            }
        }
    }

    /// The addresses of `name` (fully qualified; a trailing dot is ignored), empty when unknown.
    public func lookup(_ name: String) -> [IPv4] { addresses[Self.normalized(name)] ?? [] }

    /// Every name, sorted.
    public var names: [String] { addresses.keys.sorted() }

    static func normalized(_ name: String) -> String {
        var text = name.lowercased()
        while text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// The names a pod's resolver tries for `name`, in order, with Kubernetes' resolv.conf
    /// (`search <ns>.svc.<domain> svc.<domain> <domain>`, `options ndots:5`) and glibc's rule
    /// (resolv.conf(5)): a name ending in a dot is only tried as written; one with at least
    /// `ndots` dots is tried as written first, otherwise after the search list.
    public static func candidates(for name: String, namespace: String, domain: String = defaultDomain, ndots: Int = 5) -> [String] {
        if name.hasSuffix(".") { return [normalized(name)] }
        let searched = searchDomains(namespace: namespace, domain: domain).map { "\(name).\($0)" }
        let dots = name.filter { $0 == "." }.count
        let candidates = dots >= ndots ? [name] + searched : searched + [name]
        return candidates.map(normalized)
    }

    /// The search list Kubernetes writes into a pod's resolv.conf (ClusterFirst DNS policy).
    public static func searchDomains(namespace: String, domain: String = defaultDomain) -> [String] {
        ["\(namespace).svc.\(domain)", "svc.\(domain)", domain]
    }

    /// What a resolver in `namespace` gets for `name`: the first candidate that has records.
    public func resolve(_ name: String, fromNamespace namespace: String) -> [IPv4] {
        for candidate in Self.candidates(for: name, namespace: namespace, domain: domain) {
            let found = lookup(candidate)
            if !found.isEmpty { return found }
        }
        return []
    }
}

/// What the Services model hands to cluster DNS for one Service: its name and what its name
/// resolves to. ExternalName Services (a CNAME) are not covered yet.
public struct ServiceDNSInput: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A Service with a ClusterIP: one A record.
        case clusterIP(IPv4)
        /// `clusterIP: None`: the ready endpoints' addresses.
        case headless([HeadlessEndpoint])
    }

    public var namespace: String
    public var name: String
    public var kind: Kind
}

/// One ready endpoint of a headless Service.
public struct HeadlessEndpoint: Sendable, Hashable {
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
