import KeycardValues

/// What the destination proxy knows about one request when it authorizes it (R16, R30, R33, R34).
public struct AuthorizationAttributes: Hashable, Sendable {
    /// The peer's principal (`<td>/ns/<ns>/sa/<sa>`), nil for a plaintext request (R13).
    public var principal: String?
    /// The source pod's address (R33: sidecars and ztunnel keep pod addresses).
    public var sourceIP: IPv4?
    public var destinationIP: IPv4?
    /// The workload (container) port (R34).
    public var port: Int
    /// The HTTP request, when the destination port is HTTP (R37).
    public var http: HTTPRequest?
    /// The Host header sent, when `http` is set.
    public var host: String?
    /// How the request reached the destination sidecar's HTTP connection manager.
    public var arrival: Arrival

    /// How a request reached the destination sidecar's HTTP connection manager: whether that
    /// connection is TLS with a peer certificate (Envoy's `connection.ssl()`, which decides
    /// `x-forwarded-client-cert`, `x-forwarded-proto` and `:scheme`) and whether a client sidecar's
    /// connection manager handled the request first.
    public enum Arrival: Hashable, Sendable {
        /// No TLS: a client outside the mesh or one whose proxy sends plaintext.
        case plaintext
        /// Mutual TLS from the client's sidecar, whose outbound connection manager received the
        /// request over the application's plaintext connection and so set `x-forwarded-proto: http`
        /// when none was sent (Envoy `mutateRequestHeaders`, `use_remote_address` false in Istio).
        case clientSidecar
        /// Mutual TLS the client made itself (a stolen or forged certificate presented by the
        /// application, with no proxy of its own in between).
        case clientTLS
        /// HBONE from ztunnel: the sidecar terminates the tunnel on 15008 and hands the inner
        /// connection to an internal listener (`main_internal`), whose connection has no TLS; the
        /// principal comes from the tunnel (istio/istio `listener_inbound.go`
        /// `buildInboundHBONEListeners`).
        case hbone

        /// Whether the connection the destination's connection manager reads carries TLS.
        var isTLS: Bool { self == .clientSidecar || self == .clientTLS }
    }

    /// - Parameter arrival: nil means `.plaintext` without a principal, `.clientSidecar` with one.
    public init(
        principal: String?, sourceIP: IPv4?, destinationIP: IPv4?, port: Int, http: HTTPRequest? = nil, host: String? = nil,
        arrival: Arrival? = nil
    ) {
        self.principal = principal
        self.sourceIP = sourceIP
        self.destinationIP = destinationIP
        self.port = port
        self.http = http
        self.host = host
        self.arrival = arrival ?? (principal == nil ? .plaintext : .clientSidecar)
    }

    /// Headers Envoy's connection manager removes before any HTTP filter, on every request
    /// (`ConnectionManagerUtility::mutateRequestHeaders`: the proxy and hop-by-hop headers) and
    /// on any request not taken as internal (`cleanInternalHeaders`; a sidecar's inbound sets
    /// `use_remote_address` false, so no request is internal). `connection` and `upgrade` are
    /// removed too unless the request is an upgrade (`Utility::isUpgrade`).
    public static let removedHeaders: Set<String> = [
        "keep-alive", "proxy-connection", "transfer-encoding", "x-envoy-internal",
        "x-envoy-retriable-status-codes", "x-envoy-retriable-header-names", "x-envoy-retry-on", "x-envoy-retry-grpc-on",
        "x-envoy-max-retries", "x-envoy-upstream-alt-stat-name", "x-envoy-upstream-rq-timeout-ms",
        "x-envoy-upstream-rq-per-try-timeout-ms", "x-envoy-upstream-rq-timeout-alt-response", "x-envoy-expected-rq-timeout-ms",
        "x-envoy-force-trace", "x-envoy-ip-tags", "x-envoy-original-url", "x-envoy-hedge-on-per-try-timeout",
    ]

    /// What the destination sidecar's RBAC filter finds under a request header name: nothing, a
    /// value keycard knows, or a value Envoy makes up that keycard cannot know.
    public enum HeaderValue: Hashable, Sendable {
        case absent
        case known(String)
        /// Present, with a value keycard cannot know (a random id, a certificate hash).
        case unknown
    }

    /// The headers Envoy's inbound connection manager sets itself before the RBAC filter runs,
    /// whose values keycard cannot know: a `request.headers[...]` condition on them can only ask
    /// for presence (`*`), which `ObjectDecoder` holds a policy to.
    public static let proxySetHeaders: Set<String> = ["x-request-id", "x-forwarded-client-cert"]

    /// The value of the request header `name` as Envoy's RBAC header matcher sees it (`request.headers[name]`:
    /// istio/istio `pilot/pkg/security/authz/model/generator.go` `requestHeaderGenerator` →
    /// `matcher.HeaderMatcher(name, value)`, a plain Envoy `HeaderMatcher` on that name, lower-cased
    /// by Envoy), after the connection manager's own changes (`ConnectionManagerUtility::mutateRequestHeaders`,
    /// which runs before any HTTP filter). Envoy keeps HTTP/1's request line and Host as pseudo-headers, so `:method` is the
    /// method, `:authority` the Host header as sent, and `:path` the path after the proxy's
    /// normalization (R46) with its query kept: Envoy's `PathUtil::canonicalPath` rewrites the path
    /// part of `:path` only and appends the query again, while `paths` strips it
    /// (`PathMatcher`). A fragment is dropped as for `paths`. `host` is `:authority` too: Envoy's
    /// request header map looks the legacy name `host` up as the `:authority` entry
    /// (`source/common/http/header_map_impl.cc`, `StaticLookupTable`'s host → `:authority` mapping).
    /// Headers Envoy sets (`proxySetHeaders`):
    /// - `x-request-id`: the connection manager keeps the one sent and generates a random UUID when
    ///   none was (`generate_request_id`, default true; Istio's sidecar inbound leaves it unset,
    ///   `pilot/pkg/networking/util/proxy_headers.go` `GenerateRequestID: nil`, unless
    ///   `proxyHeaders.requestId.disabled`, which keycard does not model): always present.
    /// - `x-forwarded-client-cert`: Istio's inbound sets `APPEND_FORWARD` with the current client
    ///   certificate's subject, URI and DNS (`pilot/pkg/networking/core/listener_inbound.go`
    ///   `buildSidecarInboundHTTPOpts`); Envoy's `mutateXfccRequestHeader` removes the header on a
    ///   connection without a peer certificate and appends `By=…;Hash=…;Subject=…;URI=…` to it on a
    ///   mutual-TLS one: present exactly when the request came over mutual TLS to the sidecar
    ///   itself, whatever was sent; absent over HBONE (`Arrival.hbone`), whose inner connection
    ///   has no certificate although the request has a principal.
    /// - `x-forwarded-proto` and `:scheme`: see `forwardedProto`; `:scheme` is x-forwarded-proto
    ///   when that is `http` or `https` in any case (`getScheme`), else `https` on a TLS
    ///   connection and `http` otherwise.
    /// - `removedHeaders` (and `connection`/`upgrade` of a request that is no upgrade): absent.
    /// `.absent` when the header is absent or the request is not HTTP. Any other header's value is read without its surrounding spaces and tabs
    /// (`HTTPRequest.fieldValue`); names equal ignoring case are one header whose values Envoy joins
    /// with `,` in the order sent (`HeaderUtility::getAllOfHeaderAsString`; keycard sends them in
    /// `headerLines` order, and a probe never has two).
    public func requestHeader(_ name: String) -> HeaderValue {
        guard let http else { return .absent }
        switch name.lowercased() {
        case ":method": return .known(http.method)
        case ":authority", "host": return host.map(HeaderValue.known) ?? .absent
        case ":path":
            let raw = http.path.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let query = raw.firstIndex(of: "?").map { String(raw[$0...]) } ?? ""
            return .known((MeshValueMatch.normalizedPath(raw) ?? raw) + query)
        case "x-request-id": return .unknown
        case "x-forwarded-client-cert": return arrival.isTLS && principal != nil ? .unknown : .absent
        case "x-forwarded-proto": return .known(forwardedProto(http))
        case ":scheme":
            // `getScheme`: x-forwarded-proto when it is a valid scheme, else the connection's.
            let proto = forwardedProto(http)
            let valid = ["http", "https"].contains(proto.lowercased())
            return .known(valid ? proto : (arrival.isTLS ? "https" : "http"))
        case let lowered where Self.removedHeaders.contains(lowered): return .absent
        case "connection" where !Self.isUpgrade(http), "upgrade" where !Self.isUpgrade(http): return .absent
        default: return Self.sentValue(http, name.lowercased()).map(HeaderValue.known) ?? .absent
        }
    }

    /// The values of the header `lowered` as sent, joined with `,`; nil when none was sent.
    private static func sentValue(_ http: HTTPRequest, _ lowered: String) -> String? {
        let values = http.headerLines.filter { $0.name.lowercased() == lowered }.map { HTTPRequest.fieldValue($0.value) }
        return values.isEmpty ? nil : values.joined(separator: ",")
    }

    /// `x-forwarded-proto` at the destination: the one sent (a sidecar's inbound and a client
    /// sidecar's outbound keep it, `use_remote_address` being false), else what the first
    /// connection manager on the way set from its connection: `https` only when the client made
    /// the TLS itself (`.clientTLS`); a client sidecar received plaintext from its application.
    private func forwardedProto(_ http: HTTPRequest) -> String {
        Self.sentValue(http, "x-forwarded-proto") ?? (arrival == .clientTLS ? "https" : "http")
    }

    /// Envoy's `Utility::isUpgrade`: a `connection` header with the `upgrade` token and an
    /// `upgrade` header.
    private static func isUpgrade(_ http: HTTPRequest) -> Bool {
        guard let connection = sentValue(http, "connection"), sentValue(http, "upgrade") != nil else { return false }
        return connection.split(separator: ",").contains { HTTPRequest.fieldValue(String($0)).lowercased() == "upgrade" }
    }

    /// `source.namespace` as Istio derives it from the principal (`.*/ns/<ns>/.*`, R16).
    public var sourceNamespace: String? {
        guard let principal else { return nil }
        let parts = principal.split(separator: "/", omittingEmptySubsequences: false)
        guard let index = parts.firstIndex(of: "ns"), index + 1 < parts.count else { return nil }
        return String(parts[index + 1])
    }

    /// The service account, when the principal has the `/sa/` form.
    var sourceServiceAccount: String? {
        guard let principal else { return nil }
        let parts = principal.split(separator: "/", omittingEmptySubsequences: false)
        guard let index = parts.firstIndex(of: "sa"), index + 1 < parts.count else { return nil }
        return String(parts[index + 1])
    }
}

/// Which AuthorizationPolicy decided, and how (R23).
public struct AuthorizationDecision: Hashable, Sendable {
    public var allowed: Bool
    /// The deciding policy and action; nil when no policy decided (no ALLOW policy, or none matched).
    public var policy: ObjectKey?
    public var action: AuthorizationPolicy.Action?
    /// The index of the matching rule in the deciding policy.
    public var ruleIndex: Int?
    /// The ALLOW policies that applied (when none matched, they are what denied).
    public var allowPolicies: [ObjectKey]

    /// `prod/deny-admin rule 0 (DENY)`, `no ALLOW policy`, `no ALLOW rule matches (prod/a, prod/b)`.
    public var description: String {
        if let policy, let action {
            return "\(policy) rule \(ruleIndex ?? 0) (\(action.rawValue))"
        }
        if allowPolicies.isEmpty { return "no ALLOW policy" }
        return "no ALLOW rule matches (\(allowPolicies.map(\.description).joined(separator: ", ")))"
    }
}

/// AuthorizationPolicy evaluation at the destination proxy (spec mesh.md D–I).
public struct AuthorizationEngine: Sendable {
    public let cluster: Cluster

    public init(_ cluster: Cluster) { self.cluster = cluster }

    /// The policies the destination proxy of `pod` enforces (R19–R21): its namespace's and the root
    /// namespace's, selector matching its labels, without targetRef(s), not dry-run; for an ambient
    /// pod, not one istiod attaches to no workload (`ztunnelAttachesNoWorkload`).
    public func policies(for pod: Pod) -> [AuthorizationPolicy] {
        let ambient = cluster.dataPlane(of: pod.key) == .ambient
        return cluster.authorizationPolicies.values.filter { policy in
            !policy.hasTargetRef && !policy.dryRun && !(ambient && policy.ztunnelAttachesNoWorkload)
                && (policy.namespace == pod.namespace || policy.namespace == cluster.mesh.rootNamespace)
                && (policy.selector?.matches(pod.labels) ?? true)
        }.sorted { $0.key < $1.key }
    }

    /// R23: CUSTOM (sidecars only, R28; ztunnel ignores it, R53), DENY, then: no ALLOW policy →
    /// allow; an ALLOW rule matches → allow; else deny. AUDIT never decides (R27).
    /// - Parameters:
    ///   - plane: the destination's data plane (`.sidecar` or `.ambient`).
    ///   - isHTTP: whether the destination port is HTTP (R37); ztunnel never sees HTTP (R48).
    public func authorize(_ attributes: AuthorizationAttributes, pod: Pod, plane: DataPlane, isHTTP: Bool) -> AuthorizationDecision {
        let applicable = policies(for: pod)
        let context = MatchContext(
            plane: plane, isHTTP: plane == .sidecar && isHTTP, attributes: attributes, trustDomain: cluster.mesh.trustDomain)
        let denying: [AuthorizationPolicy.Action] = plane == .sidecar ? [.custom, .deny] : [.deny]
        let allows = applicable.filter { $0.action == .allow }
        for action in denying {
            for policy in applicable where policy.action == action {
                if let index = policy.rules.firstIndex(where: { context.matches($0, of: policy, denyLike: true) }) {
                    return AuthorizationDecision(
                        allowed: false, policy: policy.key, action: action, ruleIndex: index, allowPolicies: allows.map(\.key))
                }
            }
        }
        if allows.isEmpty { return AuthorizationDecision(allowed: true, allowPolicies: []) }
        for policy in allows {
            // R25: an ALLOW policy without rules matches nothing.
            if let index = policy.rules.firstIndex(where: { context.matches($0, of: policy, denyLike: false) }) {
                return AuthorizationDecision(
                    allowed: true, policy: policy.key, action: .allow, ruleIndex: index, allowPolicies: allows.map(\.key))
            }
        }
        return AuthorizationDecision(allowed: false, allowPolicies: allows.map(\.key))
    }
}

/// Rule matching for one request on one data plane (R29–R50).
struct MatchContext {
    var plane: DataPlane
    /// The sidecar treats the port as HTTP (R37); always false for ztunnel (R48).
    var isHTTP: Bool
    var attributes: AuthorizationAttributes
    /// The mesh's trust domain, which a sidecar's principals are rewritten to (`TrustDomainAliases`).
    var trustDomain: String

    /// R29 with the data-plane rules for attributes the port cannot see:
    /// - sidecar, TCP port: an ALLOW rule with an HTTP-only field matches nothing (R39); a
    ///   DENY-like rule ignores its HTTP-only fields (R40).
    /// - ztunnel: an ALLOW rule with an L7 attribute matches nothing (R49); a DENY rule keeps the
    ///   L4 part of each entry and skips entries left empty; a clause left empty never matches (R50).
    func matches(_ rule: AuthorizationPolicy.Rule, of policy: AuthorizationPolicy, denyLike: Bool) -> Bool {
        let usesL7 =
            (rule.from ?? []).contains { $0.hasHTTPOnlyField } || (rule.to ?? []).contains { $0.hasHTTPOnlyField }
            || (rule.when ?? []).contains { $0.isHTTPOnly }
        if !isHTTP && usesL7 && !denyLike { return false }
        if let from = rule.from {
            var sources = from
            if plane == .ambient { sources = from.filter(\.hasL4Field) }
            if sources.isEmpty || !sources.contains(where: { matches($0, of: policy) }) { return false }
        }
        if let to = rule.to {
            var operations = to
            if plane == .ambient { operations = to.filter(\.hasL4Field) }
            if operations.isEmpty || !operations.contains(where: matches) { return false }
        }
        for condition in rule.when ?? [] {
            if condition.isHTTPOnly && !isHTTP {
                // R50: an L7 `when` is an empty clause to ztunnel (never matches); R40: a sidecar
                // DENY on TCP drops the condition.
                if plane == .ambient { return false }
                continue
            }
            if !matches(condition, of: policy) { return false }
        }
        return true
    }

    /// A namespace value against the request's peer (R30: a plaintext request matches none).
    /// Part 3 #6: a sidecar matches the regex `.*/ns/<value, quoted, * as .*>/.*` against the whole peer
    /// URI (`MeshValueMatch.sidecarNamespaceMatches`); ztunnel matches the namespace of the
    /// identity with its exact/prefix/suffix/presence forms (`rbac.rs` `StringMatch::matches` on
    /// the `Identity::Spiffe` namespace; istiod's `stringToMatch`).
    private func namespaceMatches(_ pattern: String) -> Bool {
        guard let principal = attributes.principal else { return false }
        if plane == .sidecar { return MeshValueMatch.sidecarNamespaceMatches(pattern, uri: "spiffe://\(principal)") }
        return attributes.sourceNamespace.map { MeshValueMatch.matches(pattern, $0) } ?? false
    }

    /// A principal value against the request's peer (R30). A sidecar's istiod first rewrites the
    /// value's trust domain (`TrustDomainAliases.replaced`: `cluster.local/...` means the mesh's
    /// own trust domain); ztunnel compares the value as written.
    private func principalMatches(_ pattern: String) -> Bool {
        guard let principal = attributes.principal else { return false }
        let value = plane == .sidecar ? TrustDomainAliases.replaced(pattern, trustDomain: trustDomain) : pattern
        return MeshValueMatch.matches(value, principal)
    }

    /// Inside a source every field must match (R29); identity fields need mutual TLS (R30) and
    /// their negations match plaintext (R31).
    func matches(_ source: AuthorizationPolicy.Source, of policy: AuthorizationPolicy) -> Bool {
        let principal = attributes.principal
        if !source.principals.isEmpty && !source.principals.contains(where: principalMatches) { return false }
        if source.notPrincipals.contains(where: principalMatches) { return false }
        if !source.namespaces.isEmpty && !source.namespaces.contains(where: namespaceMatches) { return false }
        if source.notNamespaces.contains(where: namespaceMatches) { return false }
        if !source.serviceAccounts.isEmpty {
            guard principal != nil, source.serviceAccounts.contains(where: { serviceAccountMatches($0, policy) }) else { return false }
        }
        if principal != nil, source.notServiceAccounts.contains(where: { serviceAccountMatches($0, policy) }) { return false }
        if !source.ipBlocks.isEmpty {
            guard let ip = attributes.sourceIP, source.ipBlocks.contains(where: { $0.contains(ip) }) else { return false }
        }
        if let ip = attributes.sourceIP, source.notIpBlocks.contains(where: { $0.contains(ip) }) { return false }
        if isHTTP {
            // R47: no request carries a JWT, so requestPrincipals never match, their negation always.
            if !source.requestPrincipals.isEmpty { return false }
        }
        return true
    }

    /// R35: `ns/sa`, or a bare `sa` meaning the policy's namespace.
    private func serviceAccountMatches(_ entry: String, _ policy: AuthorizationPolicy) -> Bool {
        let parts = entry.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let (namespace, account) = parts.count == 2 ? (parts[0], parts[1]) : (policy.namespace, entry)
        return attributes.sourceNamespace == namespace && attributes.sourceServiceAccount == account
    }

    /// Inside an operation every field must match; HTTP-only fields count only on HTTP (R38–R40).
    func matches(_ operation: AuthorizationPolicy.Operation) -> Bool {
        let port = attributes.port
        if !operation.ports.isEmpty && !operation.ports.contains(port) { return false }
        if operation.notPorts.contains(port) { return false }
        guard isHTTP, let http = attributes.http else { return true }
        let host = attributes.host ?? ""
        if !operation.hosts.isEmpty && !operation.hosts.contains(where: { MeshValueMatch.matches($0, host, ignoringCase: true) }) {
            return false
        }
        if operation.notHosts.contains(where: { MeshValueMatch.matches($0, host, ignoringCase: true) }) { return false }
        if !operation.methods.isEmpty && !operation.methods.contains(where: { MeshValueMatch.matches($0, http.method) }) { return false }
        if operation.notMethods.contains(where: { MeshValueMatch.matches($0, http.method) }) { return false }
        let path = MeshValueMatch.normalizedPath(http.path) ?? http.path
        if !operation.paths.isEmpty && !operation.paths.contains(where: { MeshValueMatch.matches($0, path) }) { return false }
        if operation.notPaths.contains(where: { MeshValueMatch.matches($0, path) }) { return false }
        return true
    }

    /// A `when` condition (R36): some value matches (when values are given) and no notValue does.
    func matches(_ condition: AuthorizationPolicy.Condition, of policy: AuthorizationPolicy) -> Bool {
        let test: (String) -> Bool
        switch condition.key {
        case "source.ip":
            test = { value in attributes.sourceIP.map { ip in Self.cidr(value)?.contains(ip) ?? false } ?? false }
        case "destination.ip":
            test = { value in attributes.destinationIP.map { ip in Self.cidr(value)?.contains(ip) ?? false } ?? false }
        case "destination.port":
            // Istio converts the value to a number (strconv.Atoi): "080" is port 80.
            test = { Int($0) == attributes.port }
        case "source.principal":
            test = principalMatches
        case "source.namespace":
            test = namespaceMatches
        default:
            if condition.key.hasPrefix("request.headers["), condition.key.hasSuffix("]") {
                let header = attributes.requestHeader(String(condition.key.dropFirst("request.headers[".count).dropLast()))
                test = { value in
                    switch header {
                    case .absent: false
                    case .known(let text): value == "*" || MeshValueMatch.matches(value, text)
                    // Only presence can be asked of a value Envoy makes up (the loader refuses the rest).
                    case .unknown: value == "*"
                    }
                }
            } else {
                // request.auth.*: no JWT in the lab (R47).
                test = { _ in false }
            }
        }
        if !condition.values.isEmpty && !condition.values.contains(where: test) { return false }
        return !condition.notValues.contains(where: test)
    }

    static func cidr(_ text: String) -> CIDR? {
        if let ip = IPv4(text) { return CIDR.host(ip) }
        return CIDR.parse(text)
    }
}

extension Cluster {
    /// How a request with `principal` from `source` reached a sidecar's connection manager
    /// (`AuthorizationAttributes.Arrival`), one rule for the model and the lab's proxy: over an
    /// HBONE tunnel, `.hbone`; without a principal, `.plaintext`; with the principal that a sidecar
    /// pod's own proxy presents, `.clientSidecar`; with any other (a stolen identity, or a source
    /// without a sidecar), `.clientTLS`, the application's own TLS.
    public func arrival(principal: String?, from source: ObjectKey?, overHBONE: Bool) -> AuthorizationAttributes.Arrival {
        if overHBONE { return .hbone }
        guard let principal else { return .plaintext }
        guard let source, let pod = pods[source], dataPlane(of: source) == .sidecar,
            mesh.principal(namespace: pod.namespace, serviceAccount: pod.serviceAccountName) == principal
        else { return .clientTLS }
        return .clientSidecar
    }
}
