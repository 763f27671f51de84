import KeycardValues

/// One port a pod declares, to be served inside the pod's network namespace.
public struct ServedEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// Namespace name under /run/netns (for example `kc-lab.pod.default.web`).
    public var namespace: String
    /// IPv4 address to bind; 0.0.0.0 binds every address of the namespace.
    public var address: IPv4
    public var proto: TransportProtocol
    public var port: UInt16
    /// What the server answers, followed by "\n": "<k8sNamespace>/<pod>".
    public var line: String

    public init(namespace: String, address: IPv4, proto: TransportProtocol, port: UInt16, line: String) {
        self.namespace = namespace
        self.address = address
        self.proto = proto
        self.port = port
        self.line = line
    }

    public var description: String { "\(line) \(address):\(port)/\(proto) in \(namespace)" }
}
