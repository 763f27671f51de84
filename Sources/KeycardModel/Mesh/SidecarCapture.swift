import KeycardValues

/// What a sidecar's traffic capture sends to its proxy, from the pod's annotations
/// `traffic.sidecar.istio.io/includeInboundPorts`, `excludeInboundPorts`, `includeOutboundIPRanges`,
/// `excludeOutboundIPRanges`, `includeOutboundPorts`, `excludeOutboundPorts` and
/// `sidecar.istio.io/interceptionMode` (https://istio.io/latest/docs/reference/config/annotations/).
/// The injector hands them to `istio-iptables` (istio/istio
/// `manifests/charts/istio-control/istio-discovery/files/injection-template.yaml`,
/// `tools/istio-iptables/pkg/capture/run.go`):
/// - inbound: `includeInboundPorts` `*` (the default) captures every TCP port but the excluded
///   ones (`-j RETURN` before the redirect); a list captures only its ports (the exclusions are
///   then not used); an empty value captures nothing. Port 15008 (HBONE) is never captured.
/// - outbound, in `ISTIO_OUTPUT`'s order: an excluded destination port returns; an excluded IP
///   range returns; an included port (`includeOutboundPorts`) is redirected; then
///   `includeOutboundIPRanges` decides (`handleOutboundIncludeRules`): `*` (the default) redirects
///   the rest, a list only the connections to its ranges, an empty value none. Ranges match the
///   address the application dialled (a ClusterIP, not the backend).
/// - `interceptionMode: NONE`: the injector adds no `istio-init` at all, so nothing is captured.
/// - `inject.istio.io/templates` naming only Istio's proxyless gRPC templates (`grpc-agent`,
///   `grpc-simple`): the injector renders just those (`selectTemplates`, pkg/kube/inject/inject.go),
///   and they add a `pilot-agent` container with no Envoy and no `istio-init`
///   (`manifests/charts/istio-control/istio-discovery/files/grpc-agent.yaml`), so nothing is
///   captured either. A list with `sidecar` (`sidecar,spire`) captures as usual.
/// A connection the capture leaves alone never meets the sidecar: inbound it reaches the
/// application unchecked (no mutual TLS, no authorization), outbound it leaves in plaintext with no
/// identity. Only sidecar pods read these annotations (ambient's capture is istio-cni's). Values
/// the injector refuses never get this far for a pod it injects (`SidecarInjectorAnnotations` in
/// KeycardScenario); a dump of a pod injected earlier may still carry them, and then the entries
/// keycard cannot read are `ignored`. Not in the spec (mesh.md is silent); keycard adds it from
/// the code above.
public struct SidecarCapture: Hashable, Sendable {
    /// The annotation keys.
    public enum Annotation {
        public static let includeInboundPorts = "traffic.sidecar.istio.io/includeInboundPorts"
        public static let excludeInboundPorts = "traffic.sidecar.istio.io/excludeInboundPorts"
        public static let includeOutboundPorts = "traffic.sidecar.istio.io/includeOutboundPorts"
        public static let excludeOutboundPorts = "traffic.sidecar.istio.io/excludeOutboundPorts"
        public static let includeOutboundIPRanges = "traffic.sidecar.istio.io/includeOutboundIPRanges"
        public static let excludeOutboundIPRanges = "traffic.sidecar.istio.io/excludeOutboundIPRanges"
        public static let interceptionMode = "sidecar.istio.io/interceptionMode"
        /// The injection templates to render, comma-separated (default `sidecar`).
        public static let injectTemplates = "inject.istio.io/templates"
        public static let all = [
            includeInboundPorts, excludeInboundPorts, includeOutboundPorts, excludeOutboundPorts, includeOutboundIPRanges,
            excludeOutboundIPRanges, interceptionMode, injectTemplates,
        ]
    }

    /// Istio's own injection templates for proxyless gRPC: a `pilot-agent` serving xDS and
    /// certificates to the application's gRPC library, no Envoy, no traffic capture.
    public static let proxylessTemplates: Set<String> = ["grpc-agent", "grpc-simple"]

    /// The templates an `inject.istio.io/templates` value names, as `selectTemplates` splits it
    /// (on commas, each name trimmed); nil without the annotation (the default, `sidecar`).
    public static func injectionTemplates(_ annotations: [String: String]) -> [String]? {
        annotations[Annotation.injectTemplates].map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map { goTrimmed(String($0)) }
        }
    }

    /// Whether the pod's injection templates are all proxyless gRPC ones (`proxylessTemplates`):
    /// its "sidecar" has no Envoy, and nothing is captured.
    public static func isProxyless(_ annotations: [String: String]) -> Bool {
        guard let templates = injectionTemplates(annotations) else { return false }
        return templates.allSatisfy { proxylessTemplates.contains($0) }
    }

    /// nil: every inbound port (`*`); else only these (empty: none).
    public var includedInboundPorts: Set<Int>?
    public var excludedInboundPorts: Set<Int> = []
    /// Outbound ports redirected whatever `includedOutboundRanges` says (`includeOutboundPorts`).
    public var includedOutboundPorts: Set<Int> = []
    public var excludedOutboundPorts: Set<Int> = []
    /// nil: every outbound address (`*`); else only these IPv4 blocks (empty: none).
    public var includedOutboundRanges: [CIDR]?
    public var excludedOutboundRanges: [CIDR] = []
    /// Entries keycard could not read (not a port 0–65535, not an IP block), each `annotation: value`.
    public var ignored: [String] = []

    /// The capture of every port, as without annotations.
    public init() {}

    /// Reads the annotations of a pod.
    public init(annotations: [String: String]) {
        if annotations[Annotation.interceptionMode] == "NONE" || Self.isProxyless(annotations) {
            includedInboundPorts = []
            includedOutboundRanges = []
            return
        }
        var ignored: [String] = []
        func ports(_ key: String) -> Set<Int> {
            guard let text = annotations[key] else { return [] }
            var result: Set<Int> = []
            for entry in Self.portEntries(text) {
                if let port = Self.port(entry) { result.insert(port) } else { ignored.append("\(key): \(entry)") }
            }
            return result
        }
        /// The IPv4 blocks of a range list (IPv6 ones are valid and never match a lab address).
        func ranges(_ key: String) -> [CIDR] {
            guard let text = annotations[key] else { return [] }
            var result: [CIDR] = []
            for entry in text.split(separator: ",").map(String.init) {
                if let block = CIDR.parse(entry) {
                    if block.family == .ipv4 { result.append(block) }
                } else {
                    ignored.append("\(key): \(entry)")
                }
            }
            return result
        }
        if let include = annotations[Annotation.includeInboundPorts], include != "*" {
            includedInboundPorts = ports(Annotation.includeInboundPorts)
        }
        excludedInboundPorts = ports(Annotation.excludeInboundPorts)
        includedOutboundPorts = ports(Annotation.includeOutboundPorts)
        excludedOutboundPorts = ports(Annotation.excludeOutboundPorts)
        if let include = annotations[Annotation.includeOutboundIPRanges], include != "*" {
            includedOutboundRanges = ranges(Annotation.includeOutboundIPRanges)
        }
        excludedOutboundRanges = ranges(Annotation.excludeOutboundIPRanges)
        self.ignored = ignored
    }

    /// The entries of a port list as the injector's `parsePorts` splits them: the whole value and
    /// each entry trimmed of white space (Go's `strings.TrimSpace`); an empty value has none.
    public static func portEntries(_ text: String) -> [String] {
        let whole = goTrimmed(text)
        return whole.isEmpty ? [] : whole.split(separator: ",", omittingEmptySubsequences: false).map { goTrimmed(String($0)) }
    }

    /// A port as the injector's `parsePort` reads one (`strconv.ParseUint(s, 10, 16)` of the
    /// trimmed entry): decimal digits only (leading zeros allowed, no sign), 0–65535.
    public static func port(_ entry: String) -> Int? {
        guard let value = goUnsigned(goTrimmed(entry), bits: 16) else { return nil }
        return Int(value)
    }

    /// Go's `strconv.ParseUint(text, 10, bits)`: one or more ASCII digits, below 2^bits.
    public static func goUnsigned(_ text: String, bits: Int) -> UInt64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        var value: UInt64 = 0
        let limit = (UInt64(1) << UInt64(bits)) - 1
        for digit in text.utf8 {
            value = value * 10 + UInt64(digit - UInt8(ascii: "0"))
            if value > limit { return nil }
        }
        return value
    }

    /// Go's `strings.TrimSpace`: Unicode white space off both ends.
    public static func goTrimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }

    /// Whether TCP arriving on `port` is sent to the sidecar.
    public func capturesInbound(port: Int) -> Bool {
        if port == Int(MeshDataPath.hbonePort) { return false }
        if let includedInboundPorts { return includedInboundPorts.contains(port) }
        return !excludedInboundPorts.contains(port)
    }

    /// Whether TCP the pod opens to `address:port` (what it dialled) is sent to the sidecar. An
    /// address keycard does not know (nil) matches no range.
    public func capturesOutbound(address: IPv4?, port: Int) -> Bool {
        if excludedOutboundPorts.contains(port) { return false }
        if let address, excludedOutboundRanges.contains(where: { $0.contains(address) }) { return false }
        if includedOutboundPorts.contains(port) { return true }
        guard let includedOutboundRanges else { return true }
        guard let address else { return false }
        return includedOutboundRanges.contains { $0.contains(address) }
    }

    /// Whether the annotations change anything.
    public var isDefault: Bool {
        includedInboundPorts == nil && excludedInboundPorts.isEmpty && excludedOutboundPorts.isEmpty && excludedOutboundRanges.isEmpty
            && includedOutboundRanges == nil
    }
}

extension Pod {
    /// The sidecar capture its annotations ask for (`SidecarCapture`); meaningful for sidecar pods only.
    public var sidecarCapture: SidecarCapture { SidecarCapture(annotations: annotations) }
}

extension Cluster {
    /// The address a connection to `endpoint` dials: a pod's address, a Service's ClusterIP; nil otherwise.
    public func dialledAddress(of endpoint: Endpoint) -> IPv4? {
        switch endpoint {
        case .pod(let key): addresses[key]
        case .service(let key, _): services[key]?.clusterIP
        default: nil
        }
    }
}
