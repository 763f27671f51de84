import KeycardValues

/// What a sidecar's traffic capture sends to its proxy, from the pod's annotations
/// `traffic.sidecar.istio.io/includeInboundPorts`, `excludeInboundPorts`, `excludeOutboundPorts`
/// and `excludeOutboundIPRanges` (https://istio.io/latest/docs/reference/config/annotations/). The
/// injector hands them to `istio-iptables` (istio/istio `tools/istio-iptables/pkg/capture/run.go`):
/// - inbound: `includeInboundPorts` `*` (the default) captures every TCP port but the excluded
///   ones (`-j RETURN` before the redirect); a list captures only its ports (the exclusions are
///   then not used); an empty value captures nothing. Port 15008 (HBONE) is never captured.
/// - outbound: an excluded destination port returns before anything else; an excluded IP range
///   (the address the application dialled: a ClusterIP, not the backend) returns too.
/// A connection the capture leaves alone never meets the sidecar: inbound it reaches the
/// application unchecked (no mutual TLS, no authorization), outbound it leaves in plaintext with no
/// identity. Only sidecar pods read these annotations (ambient's capture is istio-cni's). Not in
/// the spec (mesh.md is silent); keycard adds it from the code above.
public struct SidecarCapture: Hashable, Sendable {
    /// The annotation keys.
    public enum Annotation {
        public static let includeInboundPorts = "traffic.sidecar.istio.io/includeInboundPorts"
        public static let excludeInboundPorts = "traffic.sidecar.istio.io/excludeInboundPorts"
        public static let excludeOutboundPorts = "traffic.sidecar.istio.io/excludeOutboundPorts"
        public static let excludeOutboundIPRanges = "traffic.sidecar.istio.io/excludeOutboundIPRanges"
        public static let all = [includeInboundPorts, excludeInboundPorts, excludeOutboundPorts, excludeOutboundIPRanges]
    }

    /// nil: every inbound port (`*`); else only these (empty: none).
    public var includedInboundPorts: Set<Int>?
    public var excludedInboundPorts: Set<Int> = []
    public var excludedOutboundPorts: Set<Int> = []
    public var excludedOutboundRanges: [CIDR] = []
    /// Entries keycard could not read (not a port 1–65535, not an IPv4 block), each `annotation: value`.
    public var ignored: [String] = []

    /// The capture of every port, as without annotations.
    public init() {}

    /// Reads the annotations of a pod.
    public init(annotations: [String: String]) {
        var ignored: [String] = []
        func entries(_ key: String) -> [String] {
            annotations[key].map { $0.split(separator: ",").map(Self.trimmed).filter { !$0.isEmpty } } ?? []
        }
        func ports(_ key: String) -> Set<Int> {
            var result: Set<Int> = []
            for entry in entries(key) {
                if let port = Int(entry), (1...65535).contains(port) { result.insert(port) } else { ignored.append("\(key): \(entry)") }
            }
            return result
        }
        if let include = annotations[Annotation.includeInboundPorts], Self.trimmed(Substring(include)) != "*" {
            includedInboundPorts = ports(Annotation.includeInboundPorts)
        }
        excludedInboundPorts = ports(Annotation.excludeInboundPorts)
        excludedOutboundPorts = ports(Annotation.excludeOutboundPorts)
        for entry in entries(Annotation.excludeOutboundIPRanges) {
            // istio-iptables reads prefixes (netip.ParsePrefix) and skips what it cannot parse;
            // IPv6 blocks never match the lab's IPv4 addresses.
            if let block = CIDR.parse(entry) {
                if block.family == .ipv4 { excludedOutboundRanges.append(block) }
            } else {
                ignored.append("\(Annotation.excludeOutboundIPRanges): \(entry)")
            }
        }
        self.ignored = ignored
    }

    private static func trimmed(_ text: Substring) -> String {
        String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }

    /// Whether TCP arriving on `port` is sent to the sidecar.
    public func capturesInbound(port: Int) -> Bool {
        if port == Int(MeshDataPath.hbonePort) { return false }
        if let includedInboundPorts { return includedInboundPorts.contains(port) }
        return !excludedInboundPorts.contains(port)
    }

    /// Whether TCP the pod opens to `address:port` (what it dialled) is sent to the sidecar.
    public func capturesOutbound(address: IPv4?, port: Int) -> Bool {
        if excludedOutboundPorts.contains(port) { return false }
        if let address, excludedOutboundRanges.contains(where: { $0.contains(address) }) { return false }
        return true
    }

    /// Whether the annotations change anything.
    public var isDefault: Bool {
        includedInboundPorts == nil && excludedInboundPorts.isEmpty && excludedOutboundPorts.isEmpty && excludedOutboundRanges.isEmpty
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
