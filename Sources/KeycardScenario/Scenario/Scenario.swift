import KeycardModel
import KeycardValues

/// A parsed `keycard/v1` scenario file.
public struct Scenario: Sendable {
    public var file: String
    public var name: String
    public var description: String?
    public var lab: LabSettings
    public var externals: [External]
    /// Objects present before the first step, in file order.
    public var resources: [LoadedObject]
    /// Later batches of resources, each applied after those before it by the one cluster-change
    /// path (`ClusterChange.apply`), as a second `kubectl apply` of an object updates it: manifests
    /// mode's documents that repeat an earlier object (`ManifestLoader.batches`). Still before step 1.
    public var resourceUpdates: [[LoadedObject]] = []
    public var probeDefaults: ProbeSettings
    public var steps: [Step]
    public var warnings: [ScenarioWarning]
    /// `spec.mesh` (spec mesh.md 2.1); the defaults when absent.
    public var mesh = MeshSettings()
    /// Whether the file writes `spec.mesh` or any Istio object: then reports carry the mesh.
    public var mentionsMesh = false
    /// Network policies of other CNIs among the input, skipped (`ForeignPolicy`; `keycard lint`
    /// reports them).
    public var foreignPolicies: [ForeignPolicy] = []
    /// EndpointSlices and Endpoints written by hand, which keycard does not read, by the Service
    /// each names (`Timeline.unjudgedReason`).
    public var handWrittenEndpoints: [ObjectKey: HandWrittenEndpoints] = [:]
    /// Manifests mode (`ManifestLoader`): the steps are keycard's, not written by the user.
    public var fromManifests = false
    /// The files read to build it, in reading order: the scenario file and the manifests its
    /// `file:` items name, or the manifests (each file of a folder). A live lab rebuilt from them
    /// checks that none changed since it came up.
    public var inputFiles: [String] = []

    /// The resources and their later batches, in the order they are applied.
    public var resourceBatches: [[LoadedObject]] { [resources] + resourceUpdates }
}

/// The EndpointSlices and Endpoints written by hand for one Service (`Scenario.handWrittenEndpoints`).
public struct HandWrittenEndpoints: Sendable, Hashable {
    /// `EndpointSlice NAME` or `Endpoints NAME`: the first that names the Service. A Service
    /// without a selector gets its endpoints from these alone.
    public var first: String
    /// `EndpointSlice NAME`: the first slice not labelled `endpointslice.kubernetes.io/managed-by:
    /// endpointslice-controller.k8s.io`. The EndpointSlice controller lists and rewrites only the
    /// slices it manages (pkg/controller/endpointslice `syncService`), while kube-proxy
    /// (pkg/proxy endpointslicecache.go) and CoreDNS (plugin/kubernetes) merge every slice
    /// labelled with the Service's name: such a slice adds endpoints to a Service with a selector
    /// too. A controller-managed slice (a dump's) lists the selected pods, which keycard computes.
    /// An `Endpoints` object adds none to a Service with a selector: the Endpoints controller
    /// rewrites it, and kube-proxy reads slices only (the mirroring controller mirrors the
    /// Endpoints of selectorless Services alone).
    public var unmanagedSlice: String?

    public init(first: String, unmanagedSlice: String? = nil) {
        self.first = first
        self.unmanagedSlice = unmanagedSlice
    }
}

/// Where policy is enforced.
public enum Enforcement: String, Sendable, Codable, CaseIterable {
    /// Rules inside each pod's namespace.
    case pod
    /// Rules in the node namespaces' forwarding path, as a CNI enforces.
    case node
}

/// `spec.lab`.
public struct LabSettings: Sendable {
    public var nodes: Int = defaultNodes
    public var podCIDR: CIDR
    public var enforcement: Enforcement = .pod
    /// `spec.lab.dns`: where `dns: true` is written, nil when cluster DNS is off (see `ClusterDNS`).
    public var dnsLocation: SourceLocation?
    /// True when the lab runs cluster DNS.
    public var dns: Bool { dnsLocation != nil }
    /// `spec.lab.serviceCIDR`: where ClusterIPs live (default 10.96.0.0/16).
    public var serviceCIDR: CIDR = ServiceAddresses.defaultCIDR
    /// `spec.lab.serviceEnforcement`: policies after Service translation (Kubernetes) or before.
    public var serviceEnforcement: ServiceEnforcement = .postDNAT
    /// `spec.lab.loadBalancerCIDR`: where LoadBalancer Services get their ingress address; nil:
    /// their status stays pending, as in a cluster without a load-balancer controller.
    public var loadBalancerCIDR: CIDR?
    /// `spec.lab.mode`: enforce (default) or audit.
    public var mode: LabMode = .enforce
    /// `spec.lab.nodeIngress`: whether an isolated pod accepts its own node (default `allow`).
    public var nodeIngress: NodeIngress = .allow

    /// 10.244.0.0/16, as kubeadm's flannel setup uses.
    public static let defaultPodCIDR = CIDR.ipv4(IPv4(0x0AF4_0000), 16)
    /// One node, unless `spec.lab.nodes` says otherwise (manifests mode keeps it).
    public static let defaultNodes = 1

}

/// `spec.probe`: per-attempt timeout and extra attempts before a deny is believed.
public struct ProbeSettings: Sendable, Equatable {
    public var timeoutMilliseconds: Int = 250
    public var retries: Int = 1

}

/// One step of a scenario.
public struct Step: Sendable {
    public var index: Int
    public var name: String?
    public var location: SourceLocation
    public var action: Action

    /// What the step does: probe, change the cluster (apply, delete, label, scale), scan, ask cluster
    /// DNS, or have the lab CA issue new certificates (rotate).
    public enum Action: Sendable {
        case probe(ProbeStep)
        case apply([LoadedObject])
        case delete([DeleteTarget])
        case label(LabelChange)
        case scan(ScanStep)
        case dns(DNSStep)
        case scale(ScaleChange)
        /// The lab CA issues new certificates (spec mesh.md); the cluster does not change.
        case rotate(RotateStep)
    }

    /// What a step does, as reports name it.
    public enum Kind: String, Codable, Sendable {
        case probe, apply, delete, label, scan, dns, scale, rotate
    }

    /// The kind of the step's action.
    public var kind: Kind {
        switch action {
        case .probe: .probe
        case .apply: .apply
        case .delete: .delete
        case .label: .label
        case .scan: .scan
        case .dns: .dns
        case .scale: .scale
        case .rotate: .rotate
        }
    }
}

/// A probe step: who, to whom, on which ports, and what should happen.
public struct ProbeStep: Sendable {
    /// nil: every pod present at this step.
    public var from: [ProbeRef]?
    /// nil: every pod and external present at this step.
    public var to: [ProbeRef]?
    /// nil: every port some destination serves.
    public var ports: [ProtocolPort]?
    public var expect: Expectation
    /// `identity`, `via` and `http` (spec mesh.md 2.4).
    public var request = MeshRequest()
}

/// What a probe step expects.
public enum Expectation: Sendable {
    /// Observed must equal the policy model.
    case model
    /// One truth table per port.
    case tables([ProtocolPort: TruthTable])
    /// A default with explicit exceptions: `allow:`, `deny:`, `deny-mtls:`, `deny-rbac:` lists.
    case exceptions(default: Decision, lists: [Decision: [Cell]])
}

/// A cell named in an exception list.
public struct Cell: Hashable, Sendable {
    public var from: ProbeRef
    public var to: ProbeRef
    public var port: ProtocolPort
}

/// A truth table: rows are sources, columns destinations; cells `.`, `X` or `#`.
public struct TruthTable: Sendable {
    /// A cell of the table as written.
    public enum Mark: Character, Sendable {
        case connected = "."
        case blocked = "X"
        /// Refused by mutual TLS (`deny-mtls`, spec mesh.md 2.6).
        case mutualTLS = "M"
        /// Refused by an AuthorizationPolicy (`deny-rbac`).
        case rbac = "R"
        case unchecked = "#"

        /// The outcome the mark expects; nil for `#`.
        public var decision: Decision? {
            switch self {
            case .connected: .allow
            case .blocked: .deny
            case .mutualTLS: .denyMTLS
            case .rbac: .denyRBAC
            case .unchecked: nil
            }
        }
    }

    public var rows: [ProbeRef]
    public var columns: [ProbeRef]
    public var cells: [[Mark]]
    public var location: SourceLocation

    /// The mark written for `from` → `to`, nil when the table has no such row or column.
    public func mark(from: ProbeRef, to: ProbeRef) -> Mark? {
        guard let row = rows.firstIndex(of: from), let column = columns.firstIndex(of: to) else { return nil }
        return cells[row][column]
    }
}

/// `delete:` entry.
public struct DeleteTarget: Sendable {
    public var ref: ObjectRef
    public var location: SourceLocation
}

/// `label:` step: replace an object's labels with exactly these.
public struct LabelChange: Sendable {
    public var kind: ObjectKind
    public var namespace: String?
    public var name: String
    public var labels: Labels
    public var location: SourceLocation

    public init(kind: ObjectKind, namespace: String?, name: String, labels: Labels, location: SourceLocation) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.labels = labels
        self.location = location
    }

    public var ref: ObjectRef { ObjectRef(kind: kind, namespace: namespace, name: name) }
}

/// A TCP connect scan from one pod.
public struct ScanStep: Sendable {
    /// What the scan sweeps: every pod of the lab, or every address of a CIDR.
    public enum Targets: Sendable, Equatable {
        case pods
        case cidr(CIDR)
    }

    /// A pod, or a workload: each of its pods scans in turn.
    public var from: ProbeRef
    public var targets: Targets
    public var ports: [Int]
    /// The exact set of endpoints expected open, or nil to compare with the model.
    public var expectOpen: [ScanEndpoint]?
    /// Where each `expectOpen` entry is written (an error about one names its line).
    public var expectOpenLocations: [ScanEndpoint: SourceLocation] = [:]
    /// What the scanner presents to meshed destinations (spec mesh.md 2.7).
    public var identity: ProbeIdentity = .mesh

    /// The most connections one scan step may try (scanners × targets × ports): the cell limit
    /// of a probe step (`ResolvedProbe.maximumCells`), so a scan's targets fit in memory.
    public static let maximumConnections = 1_000_000

    /// Why scanning `cidr` on `ports` ports is refused, or nil: more than `maximumConnections`.
    public static func sizeProblem(_ cidr: CIDR, ports: Int) -> String? {
        let connections = cidr.size * UInt64(ports)
        guard connections > UInt64(maximumConnections) else { return nil }
        return
            "scanning \(cidr) on \(ports) ports is \(connections) connections, more than the \(maximumConnections) a scan may try (scan a smaller CIDR or fewer ports)"
    }
}

/// `ns/pod:port`, `ns/kind/name:port` (every pod of a workload) or `ip:port` in a scan expectation.
public struct ScanEndpoint: Hashable, Sendable, CustomStringConvertible {
    /// The host part: a pod, a workload's pods, or an address.
    public enum Host: Hashable, Sendable {
        case pod(ObjectKey)
        case ip(IPv4)
        case workload(WorkloadKey)
    }

    public var host: Host
    public var port: Int

    /// Parses `host:port` (port 1–65535); nil for any other text.
    public static func parse(_ text: String) -> ScanEndpoint? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        let host = String(text[..<colon])
        if let ip = IPv4(host) { return ScanEndpoint(host: .ip(ip), port: port) }
        if let key = WorkloadKey.parse(host) { return ScanEndpoint(host: .workload(key), port: port) }
        if let key = ObjectKey.parse(host) { return ScanEndpoint(host: .pod(key), port: port) }
        return nil
    }

    public var description: String {
        switch host {
        case .pod(let key): "\(key):\(port)"
        case .ip(let ip): "\(ip):\(port)"
        case .workload(let key): "\(key):\(port)"
        }
    }
}

extension ScanStep.Targets: CustomStringConvertible {
    public var description: String {
        switch self {
        case .pods: "pods"
        case .cidr(let cidr): cidr.description
        }
    }
}
