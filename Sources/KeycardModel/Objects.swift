import KeycardValues

/// Identifies a namespaced object: `namespace/name`.
public struct ObjectKey: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public var namespace: String
    public var name: String

    public init(_ namespace: String, _ name: String) {
        self.namespace = namespace
        self.name = name
    }

    /// Parses `namespace/name`.
    public static func parse(_ text: String) -> ObjectKey? {
        let pieces = text.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count == 2, !pieces[0].isEmpty, !pieces[1].isEmpty else { return nil }
        return ObjectKey(String(pieces[0]), String(pieces[1]))
    }

    public var description: String { "\(namespace)/\(name)" }

    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name) }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let key = ObjectKey.parse(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not namespace/name: \(text)"))
        }
        self = key
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A v1 Namespace. `labels` always include `kubernetes.io/metadata.name`.
public struct Namespace: Hashable, Sendable {
    public static let nameLabel = "kubernetes.io/metadata.name"

    public var name: String
    public private(set) var labels: Labels
    /// The labels of the last manifest applied to it (kubectl's last-applied configuration): the
    /// next apply removes only those the new manifest leaves out (`ClusterChange.mergedLabels`).
    /// nil for a namespace no manifest declared (a built-in one, or one made for its objects).
    public var appliedLabels: Labels? = nil

    public init(name: String, labels: Labels = [:]) {
        self.name = name
        self.labels = labels
        self.labels[Self.nameLabel] = name
    }

    /// Replaces the labels; the immutable name label stays whatever the new set says.
    public mutating func setLabels(_ labels: Labels) {
        self.labels = labels
        self.labels[Self.nameLabel] = name
    }
}

/// A declared container port of a pod.
public struct ContainerPort: Hashable, Sendable {
    public var name: String?
    public var port: Int
    public var proto: TransportProtocol

    public init(name: String? = nil, port: Int, proto: TransportProtocol = .tcp) {
        self.name = name
        self.port = port
        self.proto = proto
    }
}

/// A container port's `hostPort` (non-zero): a port of the pod's node the pod claims. The
/// scheduler's NodePorts filter places no two pods whose claims conflict on one node
/// (`conflicts(with:)`).
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    public var port: Int
    public var proto: TransportProtocol
    /// `hostIP`; empty or absent is every address, `0.0.0.0`, as the scheduler reads it.
    public var hostIP: String

    public init(port: Int, proto: TransportProtocol = .tcp, hostIP: String = "0.0.0.0") {
        self.port = port
        self.proto = proto
        self.hostIP = hostIP.isEmpty ? "0.0.0.0" : hostIP
    }

    /// Whether two claims cannot share a node: the same port and protocol, and the same host IP
    /// or either one `0.0.0.0` (the scheduler's `HostPortInfo.CheckConflict`).
    public func conflicts(with other: HostPort) -> Bool {
        port == other.port && proto == other.proto && (hostIP == other.hostIP || hostIP == "0.0.0.0" || other.hostIP == "0.0.0.0")
    }

    /// `8080/TCP`, or `10.0.0.1:8080/TCP` with a host IP.
    public var description: String { (hostIP == "0.0.0.0" ? "" : "\(hostIP):") + "\(port)/\(proto.rawValue)" }
}

/// A v1 Pod, reduced to what network policy and the lab need.
public struct Pod: Hashable, Sendable, NamespacedObject {
    public var namespace: String
    public var name: String
    public var labels: Labels
    public var ports: [ContainerPort]
    /// `command` followed by `args` of the containers that declare a command, in order.
    public var commands: [[String]]
    /// The `env` of each container in `commands`, in the same order (`ProgramEnvironment`).
    public var environments: [[EnvironmentVariable]] = []
    /// `spec.hostAliases`: extra `/etc/hosts` lines the kubelet writes, `IP<TAB>name...` each.
    public var hostAliases: [String] = []
    /// `spec.setHostnameAsFQDN`: its containers' host name is its fully qualified name.
    public var setHostnameAsFQDN = false
    /// `spec.enableServiceLinks` (default true): its programs get the Services of its namespace
    /// as environment variables (`ProgramEnvironment.serviceLinks`).
    public var enableServiceLinks = true
    public var nodeName: String?
    public var serviceAccountName: String
    public var podIP: IPv4?
    /// `metadata.annotations` (Istio reads `sidecar.istio.io/status` there, R1).
    public var annotations: [String: String] = [:]
    /// The names of the containers and init containers (an injected pod has `istio-proxy`, R1).
    public var containerNames: [String] = []
    /// The workload whose controller made this pod; nil for a bare pod.
    public var owner: PodOwner?
    /// The labels of the last manifest applied to it (kubectl's last-applied configuration): the
    /// next apply removes only those the new manifest leaves out, and keeps what a `label` step
    /// added (`ClusterChange.mergedLabels`). nil for a pod no manifest was applied to.
    public var appliedLabels: Labels? = nil
    /// `spec.hostNetwork` (default false): the pod shares its node's network namespace and address,
    /// its container ports are ports of the node, and NetworkPolicy neither isolates nor selects it
    /// (HostNetwork.swift).
    public var hostNetwork = false
    /// `spec.dnsPolicy` (default ClusterFirst): which resolver the pod's containers ask.
    public var dnsPolicy = DNSPolicy.clusterFirst
    /// `spec.dnsConfig`; nil when absent.
    public var dnsConfig: ResolvConf?
    /// `spec.hostname` and `spec.subdomain`: with a headless Service named by `subdomain` in the
    /// pod's namespace, the pod answers as `<hostname>.<subdomain>.<ns>.svc` (a StatefulSet's and
    /// an Indexed Job's controller set them on their pods).
    public var hostname: String?
    public var subdomain: String?
    /// The `hostPort`s of its running containers' ports (none by default). keycard publishes no
    /// port on its nodes; the claims only decide where the pod may run (`nodeClaims`).
    public var hostPorts: [HostPort] = []
    /// Whether the pod's own `spec.nodeName` binds it (a bare pod): it skips the scheduler, and
    /// its node's kubelet admits it or refuses it for good. False when keycard derived `nodeName`
    /// (a `kubernetes.io/hostname` selector, a DaemonSet's node) or none is set.
    public var namesItsNode = false
    /// Why no lab node can run the pod, when its `spec.nodeSelector` or required node affinity
    /// names an OS or architecture every lab node lacks (`kubernetes.io/os: windows`; lab nodes
    /// are linux/amd64): the
    /// scheduler's NodeAffinity filter binds it nowhere (a kubelet refuses it for a bound pod), so
    /// it stays Pending, with no address (`NodePortsScheduler`). nil for every other pod.
    public var unschedulable: String?
    /// `status.phase` when it is `Succeeded` or `Failed` (a finished Job's pod in a
    /// `kubectl get -o yaml` dump): its containers have ended, so nothing serves a connection to it;
    /// it is no Service endpoint (`ShouldPodBeInEndpoints`, k8s.io/endpointslice util) and has no
    /// pod record (CoreDNS lists pods with `status.phase!=Succeeded,status.phase!=Failed`,
    /// plugin/kubernetes/controller.go). Left out of the running cluster as a Pending pod is
    /// (`NodePortsScheduler`). nil for every other pod.
    public var terminalPhase: String?
    /// A `Ready` condition whose status is not True in `status.conditions` (a dump of a pod failing
    /// its readiness probe): it runs and answers connections to its own address, but is no ready
    /// endpoint of a Service (`Cluster.isReadyEndpoint`). A pod without that condition (one a
    /// scenario writes, whose status the API server drops) counts as ready, as the lab runs it.
    public var notReady = false
    /// `metadata.deletionTimestamp` is set (a dump of a pod shutting down): it still runs, but the
    /// EndpointSlice controller marks its endpoint not ready (`podToEndpoint`: ready only when
    /// `publishNotReadyAddresses`, or Ready and not terminating), serving while its Ready
    /// condition holds, and terminating (`Cluster.isReadyEndpoint`, `isServingTerminatingEndpoint`).
    public var terminating = false

    public init(
        namespace: String, name: String, labels: Labels = [:], ports: [ContainerPort] = [],
        commands: [[String]] = [], nodeName: String? = nil, serviceAccountName: String = "default",
        podIP: IPv4? = nil
    ) {
        self.namespace = namespace
        self.name = name
        self.labels = labels
        self.ports = ports
        self.commands = commands
        self.nodeName = nodeName
        self.serviceAccountName = serviceAccountName
        self.podIP = podIP
    }

    /// The node ports this pod claims, as the scheduler's NodePorts filter counts them: its
    /// `hostPorts`, and for a host-network pod every container port (the API server defaults a
    /// host-network pod's `hostPort` to its `containerPort`).
    public var nodeClaims: [HostPort] {
        guard hostNetwork else { return hostPorts }
        var claims = hostPorts
        for port in ports where !claims.contains(where: { $0.port == port.port && $0.proto == port.proto }) {
            claims.append(HostPort(port: port.port, proto: port.proto))
        }
        return claims
    }

    /// `spec.dnsPolicy`'s values (core/v1 `DNSPolicy`;
    /// https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-s-dns-policy).
    public enum DNSPolicy: String, Hashable, Sendable, CaseIterable, Codable {
        /// Cluster DNS; on the host network it falls back to `Default`.
        case clusterFirst = "ClusterFirst"
        /// Cluster DNS, on the host network too.
        case clusterFirstWithHostNet = "ClusterFirstWithHostNet"
        /// The node's resolver configuration.
        case `default` = "Default"
        /// Only `spec.dnsConfig` (its nameservers).
        case none = "None"
    }

    /// Whether the pod's containers ask cluster DNS: ClusterFirst off the host network, or
    /// ClusterFirstWithHostNet (on it or off it).
    public var usesClusterDNS: Bool {
        switch dnsPolicy {
        case .clusterFirst: !hostNetwork
        case .clusterFirstWithHostNet: true
        case .default, .none: false
        }
    }

    /// The port numbers a named port resolves to on this pod for `proto`.
    public func resolve(portName: String, proto: TransportProtocol) -> [Int] {
        ports.filter { $0.name == portName && $0.proto == proto }.map(\.port)
    }
}
