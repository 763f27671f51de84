/// A resolv.conf's nameservers, search domains and options (resolv.conf(5)); an option is `name`
/// or `name:value`. A pod's `spec.dnsConfig` has this shape too (core/v1 `PodDNSConfig`).
public struct ResolvConf: Hashable, Sendable, Codable {
    public var nameservers: [String]
    public var searches: [String]
    public var options: [String]

    public init(nameservers: [String] = [], searches: [String] = [], options: [String] = []) {
        (self.nameservers, self.searches, self.options) = (nameservers, searches, options)
    }

    /// A node's resolv.conf as the kubelet reads it for its pods (`parseResolvConf`,
    /// pkg/kubelet/network/dns/dns.go): `nameserver` lines accumulate (the first word after each),
    /// the last `search` line wins (each domain without its trailing dot, a lone `.` skipped), the last `options` line
    /// wins; comments (`#`) and every other line are dropped. The kubelet writes the pod's file
    /// from this (dnsPolicy Default, and ClusterFirst on the host network), not the node's text.
    public init(kubeletParsing text: String) {
        self.init()
        // Lines end at LF (a CRLF is one Character to Swift; its CR is white space to Go).
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            // Go's `strings.Fields`: runs of white space separate the fields.
            let fields = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard fields.first?.hasPrefix("#") != true else { continue }
            guard let keyword = fields.first else { continue }
            switch keyword {
            case "nameserver": if fields.count >= 2 { nameservers.append(fields[1]) }
            // A lone "." is no domain (skipped); the rest lose their trailing dot.
            case "search": searches = fields.dropFirst().filter { $0 != "." }.map { $0.hasSuffix(".") ? String($0.dropLast()) : $0 }
            case "options": options = Array(fields.dropFirst())
            default: continue
            }
        }
    }

    /// The file the kubelet writes for a ClusterFirst pod of `namespace` before its `dnsConfig`:
    /// `search <ns>.svc.<domain> svc.<domain> <domain>` then the node's own search domains
    /// `nodeSearches` (its file's, as `init(kubeletParsing:)` reads them), without repeats, and
    /// `options ndots:5` (`generateSearchesForDNSClusterFirst` and `GetPodDNS`,
    /// pkg/kubelet/network/dns/dns.go;
    /// https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-dns-config).
    /// `fittingKubeletLimits` then caps the whole list, the pod's `dnsConfig` appended.
    public static func clusterFirst(nameservers: [String], namespace: String, domain: String, nodeSearches: [String] = []) -> ResolvConf {
        var seen: Set<String> = []
        let searches = (["\(namespace).svc.\(domain)", "svc.\(domain)", domain] + nodeSearches).filter { seen.insert($0).inserted }
        return ResolvConf(nameservers: nameservers, searches: searches, options: ["ndots:5"])
    }

    /// Where the kubelet starts a pod's file from, by its dnsPolicy (`getPodDNSType`,
    /// pkg/kubelet/network/dns/dns.go).
    public enum PodBase: Hashable, Sendable {
        /// Cluster DNS: ClusterFirst off the host network, ClusterFirstWithHostNet.
        case cluster
        /// The node's file: Default, and ClusterFirst on the host network.
        case node
        /// Nothing: None.
        case none
    }

    /// The file the kubelet writes for a pod of `namespace` (`GetPodDNS`): from `base`
    /// (`clusterFirst` with `clusterNameservers` and the node's searches, the node's file `node`,
    /// or nothing), then the pod's `dnsConfig` appended, within the kubelet's limits.
    public static func pod(
        _ base: PodBase, clusterNameservers: [String], namespace: String, domain: String, node: ResolvConf, dnsConfig: ResolvConf
    ) -> ResolvConf {
        let start: ResolvConf
        switch base {
        case .cluster:
            start = clusterFirst(nameservers: clusterNameservers, namespace: namespace, domain: domain, nodeSearches: node.searches)
        case .node: start = node
        case .none: start = ResolvConf()
        }
        return start.appending(dnsConfig).fittingKubeletLimits()
    }

    /// `self` followed by `extra` as the kubelet appends a pod's `dnsConfig` (`appendDNSConfig`,
    /// pkg/kubelet/network/dns/dns.go): nameservers and searches appended without repeats,
    /// options merged by name (the pod's value wins), sorted (the kubelet's order comes from a Go map).
    public func appending(_ extra: ResolvConf) -> ResolvConf {
        func unique(_ items: [String]) -> [String] {
            var seen: Set<String> = []
            return items.filter { seen.insert($0).inserted }
        }
        var options: [String: String] = [:]
        for option in self.options + extra.options {
            let parts = option.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            options[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return ResolvConf(
            nameservers: unique(nameservers + extra.nameservers), searches: unique(searches + extra.searches),
            options: options.sorted { $0.key < $1.key }.map { $0.value.isEmpty ? $0.key : "\($0.key):\($0.value)" })
    }

    /// `self` within the kubelet's limits (`formDNSConfigFitsLimits`, pkg/kubelet/network/dns):
    /// the first 3 nameservers, the first 32 searches less any longer than 253 characters, then the
    /// last searches dropped until the search line has at most 2048 characters.
    public func fittingKubeletLimits() -> ResolvConf {
        var searches = Array(searches.prefix(32)).filter { $0.utf8.count <= 253 }
        while searches.joined(separator: " ").utf8.count > 2048 { searches.removeLast() }
        return ResolvConf(nameservers: Array(nameservers.prefix(3)), searches: searches, options: options)
    }

    /// The `ndots` option: 1 when absent or not a number, at most 15 (resolv.conf(5)).
    public var ndots: Int {
        guard let option = options.last(where: { $0.hasPrefix("ndots:") }), let value = Int(option.dropFirst(6)), value >= 0
        else { return 1 }
        return min(value, 15)
    }

    /// The `timeout` option (seconds per try), at most 30 (glibc's `RES_MAXRETRANS`); nil when absent.
    public var timeout: Int? { integerOption("timeout:").map { min($0, 30) } }

    /// The `attempts` option, at most 5 (glibc's `RES_MAXRETRY`); nil when absent.
    public var attempts: Int? { integerOption("attempts:").map { min($0, 5) } }

    /// Whether the resolver asks over TCP: the `use-vc` option (glibc's res_setoptions matches its
    /// options by prefix), so cluster DNS is reached on TCP/53 instead of UDP/53.
    public var usesTCP: Bool { options.contains { $0.hasPrefix("use-vc") } }

    /// The `no-tld-query` option (glibc also reads `no_tld_query`): a dotless name is not asked
    /// as written after its search list.
    public var noTLDQuery: Bool { options.contains { $0.hasPrefix("no-tld-query") || $0.hasPrefix("no_tld_query") } }

    /// Whether the resolver adds an EDNS(0) OPT record to its queries: the `edns0` option.
    public var usesEDNS0: Bool { options.contains { $0.hasPrefix("edns0") } }

    /// The largest UDP answer the resolver takes whole, in bytes: 512 (RFC 1035 4.2.1) without
    /// `edns0`; with it, the 1200 bytes glibc advertises in a program's lookups
    /// (`RESOLV_EDNS_BUFFER_SIZE`, resolv/resolv-internal.h; `__res_context_query`, res_query.c).
    /// A server whose answer does not fit sets TC, and glibc asks again over TCP (res_send.c
    /// `send_dg`: `anhp->tc` without `RES_IGNTC`).
    public var udpAnswerLimit: Int { usesEDNS0 ? 1200 : 512 }

    private func integerOption(_ prefix: String) -> Int? {
        guard let option = options.last(where: { $0.hasPrefix(prefix) }) else { return nil }
        return Int(option.dropFirst(prefix.count))
    }

    /// The file's text: `nameserver` lines, one `search` line, one `options` line.
    public var text: String {
        var lines = nameservers.map { "nameserver \($0)" }
        if !searches.isEmpty { lines.append("search " + searches.joined(separator: " ")) }
        if !options.isEmpty { lines.append("options " + options.joined(separator: " ")) }
        return lines.joined(separator: "\n") + "\n"
    }
}
