/// What a probe's source presents to the mesh (spec mesh.md 2.4, `identity`).
public enum ProbeIdentity: Hashable, Sendable, CustomStringConvertible {
    /// The source pod's own data path (R14, R15).
    case mesh
    /// Plaintext without passing the source's proxy: no certificate, no key.
    case none
    /// mutual TLS with a certificate of a rogue CA carrying this URI SAN (R17).
    case spoofed(String)
    /// A genuine lab-CA certificate of another identity (key theft, R18): the SPIFFE URI.
    case stolen(String)

    public var description: String {
        switch self {
        case .mesh: "mesh"
        case .none: "none"
        case .spoofed(let uri): "spoofed \(uri)"
        case .stolen(let uri): "stolen \(uri)"
        }
    }
}

/// How a probe addresses its destination (R15, spec mesh.md 2.4 `via`).
public enum ProbeRoute: String, Hashable, Sendable, CaseIterable {
    /// Through a Service selecting the destination: Istio's normal path.
    case service
    /// Straight to the pod address: a sidecar client sends it in plaintext (istio/istio#36596).
    case podIP = "pod-ip"
}

/// The HTTP request of a probe (`http:`); on an HTTP port a probe without one sends `GET /`.
public struct HTTPRequest: Hashable, Sendable {
    public var method: String
    /// As written, query included (R46 strips it before matching).
    public var path: String
    /// The Host header; nil: `<pod>.<namespace>` (a `svc/` probe: `<service>.<namespace>`), plus
    /// `:<port>` unless the port is 80.
    public var host: String?
    /// The extra header lines, as written. A probe never holds two names equal ignoring case (the
    /// scenario parser refuses them); the lab proxy's parse holds lower-cased names.
    public var headers: [String: String]

    public init(method: String = "GET", path: String = "/", host: String? = nil, headers: [String: String] = [:]) {
        self.method = method
        self.path = path
        self.host = host
        self.headers = headers
    }

    /// `headers` in the order keycard writes them on the wire (by name, byte order): one order for
    /// the prober's request and the model's reading, never a Dictionary's.
    public var headerLines: [(name: String, value: String)] {
        headers.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
    }

    /// The User-Agent keycard's prober sends when a probe sets none.
    public static let userAgent = "keycard-probe"

    /// This request as keycard's prober sends it: with its own User-Agent unless the probe names
    /// one, so the prober and the model's reading of a probe hold one and the same User-Agent. A
    /// request the lab proxy receives is judged as it came, without this.
    public var asSentByProber: HTTPRequest {
        guard !headers.keys.contains(where: { $0.lowercased() == "user-agent" }) else { return self }
        var sent = self
        sent.headers["User-Agent"] = Self.userAgent
        return sent
    }

    /// A header field's value as Envoy matches it: without leading and trailing spaces and tabs.
    /// RFC 9112 5 `field-line = field-name ":" OWS field-value OWS` and RFC 9110 5.5 (the OWS is not
    /// part of the value); Envoy's HTTP/1 codec strips it (`envoyproxy/envoy`
    /// `source/common/http/http1/codec_impl.cc`: `ConnectionImpl::onHeaderValue` left-trims the
    /// value's first bytes, `completeCurrentHeader` right-trims the whole value). The model's
    /// matcher and the lab proxy's parse both use this, so `" 1"` and `"1 "` are `1` in each.
    public static func fieldValue(_ raw: some StringProtocol) -> String {
        let isOWS: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = raw.firstIndex(where: { !isOWS($0) }), let last = raw.lastIndex(where: { !isOWS($0) }) else { return "" }
        return String(raw[first...last])
    }

    /// Why two probe header names cannot both be sent, or nil: names are case-insensitive (RFC 9110
    /// 5.1), so `x-evil` and `X-Evil` are one header, whose values Envoy joins with `,`
    /// (`HeaderUtility::getAllOfHeaderAsString`) in the order sent; keycard refuses the pair rather
    /// than model that join.
    public static func duplicateHeaderProblem(_ name: String) -> String {
        "header \(name) is given twice (header names are case-insensitive, RFC 9110 5.1)"
    }

    /// The request methods Envoy's HTTP/1 codec accepts as Istio configures it: the balsa parser's
    /// `kValidMethods` (`envoyproxy/envoy` `source/common/http/http1/balsa_parser.cc`
    /// `isMethodValid`), compared case-sensitively, since Istio never sets
    /// `Http1ProtocolOptions.allow_custom_methods`. Any other method (`FOO`, `get`, `M-SEARCH`)
    /// is answered `400 Bad Request` before authorization.
    public static let envoyMethods: Set<String> = [
        "ACL", "BIND", "CHECKOUT", "CONNECT", "COPY", "DELETE", "GET", "HEAD", "LINK", "LOCK", "MERGE", "MKACTIVITY", "MKCALENDAR",
        "MKCOL", "MOVE", "MSEARCH", "NOTIFY", "OPTIONS", "PATCH", "POST", "PROPFIND", "PROPPATCH", "PURGE", "PUT", "REBIND",
        "REPORT", "SEARCH", "SOURCE", "SUBSCRIBE", "TRACE", "UNBIND", "UNLINK", "UNLOCK", "UNSUBSCRIBE",
    ]

    /// Why keycard cannot probe with `method`, or nil when it can: a method Envoy's codec refuses
    /// (`envoyMethods`; the proxy answers 400, which keycard does not model, as it does not model
    /// the 400 for `%00` in a path); `CONNECT`, which asks Envoy for a tunnel instead of a
    /// request (keycard models no tunnels); `MSEARCH`, which Envoy accepts but the lab proxy's
    /// parser (NIOHTTP1's llhttp, which knows `M-SEARCH` only) does not, so `run` could not
    /// prove it.
    public static func unsupportedMethodReason(_ method: String) -> String? {
        if method == "CONNECT" { return "CONNECT asks the proxy for a tunnel, which keycard does not model" }
        if method == "MSEARCH" {
            return "Envoy accepts MSEARCH, but the lab proxy's HTTP parser (llhttp) does not, so keycard cannot prove it"
        }
        if envoyMethods.contains(method) { return nil }
        return
            "Istio's proxies answer 400 to it (Envoy's HTTP/1 codec accepts only its known methods, upper case, and Istio does not enable allow_custom_methods); keycard does not model that answer"
    }

    /// The Host header sent to `target` (a pod, or the Service a `svc/` probe calls) on `port` (the
    /// port the client dialled: the Service port for a Service).
    public func hostHeader(for target: ObjectKey, port: Int) -> String {
        host ?? (port == 80 ? "\(target.name).\(target.namespace)" : "\(target.name).\(target.namespace):\(port)")
    }
}

/// The mesh side of one connection: source, destination, port, what the source presents, how it
/// addresses the destination, and the HTTP request when there is one.
public struct MeshRequest: Hashable, Sendable {
    public var identity: ProbeIdentity
    public var route: ProbeRoute
    public var http: HTTPRequest?

    public init(identity: ProbeIdentity = .mesh, route: ProbeRoute = .service, http: HTTPRequest? = nil) {
        self.identity = identity
        self.route = route
        self.http = http
    }
}

extension Pod {
    /// R37's fallback for a port no Service targets (see `Cluster.isHTTPPort(pod:port:)`): the
    /// container port is named `http` or `http-<suffix>` (case-insensitive), keycard's stand-in for
    /// Istio's sniffing. Istio itself never reads container port names.
    public func isHTTPPort(_ port: Int) -> Bool {
        ports.contains { entry in
            guard entry.proto == .tcp, entry.port == port, let name = entry.name?.lowercased() else { return false }
            return name == "http" || name.hasPrefix("http-")
        }
    }
}

extension MeshRequest {
    /// What a scanner's connection to `endpoint` presents (spec mesh.md 2.7, with R15): a scan
    /// dials a pod's address straight (`podIP`: from a sidecar pod it leaves through the
    /// passthrough cluster in plaintext, istio/istio#36596; ztunnel still uses mutual TLS), and a
    /// Service address through the Service.
    public static func scan(_ identity: ProbeIdentity, to endpoint: Endpoint) -> MeshRequest {
        if case .pod = endpoint { return MeshRequest(identity: identity, route: .podIP) }
        return MeshRequest(identity: identity)
    }
}
