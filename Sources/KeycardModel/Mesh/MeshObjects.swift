import KeycardValues

/// `spec.mesh` of a scenario: Istio's root namespace (MeshConfig `rootNamespace`, where mesh-wide
/// policies live) and the SPIFFE trust domain of the lab CA (spec mesh.md 2.1).
public struct MeshSettings: Hashable, Sendable {
    public var rootNamespace: String
    public var trustDomain: String

    public init(rootNamespace: String = "istio-system", trustDomain: String = "cluster.local") {
        self.rootNamespace = rootNamespace
        self.trustDomain = trustDomain
    }

    /// The principal (SPIFFE ID without `spiffe://`, R16) of service account `account` in `namespace`.
    public func principal(namespace: String, serviceAccount account: String) -> String {
        "\(trustDomain)/ns/\(namespace)/sa/\(account)"
    }

    /// Why `uri` cannot be a `stolen` identity, or nil when it can: the lab CA signs only SVIDs of
    /// its own trust domain in Istio's form `spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>`
    /// (istio/istio `pkg/spiffe/spiffe.go` `MustGenSpiffeURI`; spec mesh.md 2.4 `stolen`), so a
    /// stolen key can only be one of those. The one check for the scenario parser and
    /// `keycard explain --identity`; `field` names the input (`identity.stolen`).
    public func stolenIdentityProblem(_ uri: String, field: String) -> String? {
        let prefix = "spiffe://\(trustDomain)/ns/"
        let rest = uri.hasPrefix(prefix) ? uri.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false) : []
        if rest.count == 3, rest[1] == "sa", !rest[0].isEmpty, !rest[2].isEmpty { return nil }
        return
            "\(field) must be a lab identity spiffe://\(trustDomain)/ns/<namespace>/sa/<serviceAccount> (the lab CA signs only its trust domain), found \(uri)"
    }

    /// Why `uri` cannot be a `spoofed` identity (a rogue CA's certificate may carry any SPIFFE URI,
    /// spec mesh.md 2.4, but it must be one), or nil. Shared like `stolenIdentityProblem`.
    public static func spoofedIdentityProblem(_ uri: String, field: String) -> String? {
        if uri.hasPrefix("spiffe://"), uri.count > "spiffe://".count { return nil }
        return "\(field) must be a SPIFFE URI like spiffe://cluster.local/ns/prod/sa/api, found \(uri)"
    }
}

/// Istio's `WorkloadSelector`: `matchLabels` only. `nil` in a policy means the field is absent.
public struct WorkloadSelector: Hashable, Sendable {
    public var matchLabels: Labels
    /// Whether `matchLabels` was written as a map (`{}` included). Without it (`selector: {}`, or
    /// `matchLabels: null`, which the API server prunes) Go's decoded map is nil, which istiod's
    /// ambient conversion tells apart from an empty one (`AuthorizationPolicy.ztunnelAttachesNoWorkload`).
    public var matchLabelsWritten: Bool

    public init(matchLabels: Labels = [:], matchLabelsWritten: Bool = true) {
        self.matchLabels = matchLabels
        self.matchLabelsWritten = matchLabelsWritten
    }

    /// Whether `labels` hold every matchLabels pair (Istio's WorkloadSelector has no expressions).
    public func matches(_ labels: Labels) -> Bool { matchLabels.allSatisfy { labels[$0.key] == $0.value } }
}

/// A `security.istio.io` PeerAuthentication (API-PA): which mutual-TLS mode a workload's inbound
/// traffic accepts, for the whole workload and per port.
public struct PeerAuthentication: Hashable, Sendable, NamespacedObject {
    /// `MutualTLS.Mode` (API-PA): UNSET inherits from the parent scope (R5).
    public enum Mode: String, Hashable, Sendable, CaseIterable, Codable {
        case unset = "UNSET"
        case disable = "DISABLE"
        case permissive = "PERMISSIVE"
        case strict = "STRICT"
    }

    public var namespace: String
    public var name: String
    public var selector: WorkloadSelector?
    /// `spec.mtls.mode`; `.unset` when `mtls` or its mode is absent.
    public var mode: Mode
    /// `spec.portLevelMtls`: workload (container) port → mode (R10).
    public var portLevelMtls: [Int: Mode]
    /// When it was created, in scenario steps (R9: one step counts as one second).
    public var createdAt: Int

    public init(
        namespace: String, name: String, selector: WorkloadSelector? = nil, mode: Mode = .unset,
        portLevelMtls: [Int: Mode] = [:], createdAt: Int = 0
    ) {
        self.namespace = namespace
        self.name = name
        self.selector = selector
        self.mode = mode
        self.portLevelMtls = portLevelMtls
        self.createdAt = createdAt
    }
}

/// A `security.istio.io` AuthorizationPolicy (API-AP), every field keycard/v1 models.
public struct AuthorizationPolicy: Hashable, Sendable, NamespacedObject {
    /// `action` (default ALLOW).
    public enum Action: String, Hashable, Sendable, CaseIterable, Codable {
        case allow = "ALLOW"
        case deny = "DENY"
        case audit = "AUDIT"
        case custom = "CUSTOM"
    }

    /// One `rules` entry: `from`, `to` and `when` are nil when absent (absent matches anything, R29).
    public struct Rule: Hashable, Sendable {
        public var from: [Source]?
        public var to: [Operation]?
        public var when: [Condition]?

        public init(from: [Source]? = nil, to: [Operation]? = nil, when: [Condition]? = nil) {
            self.from = from
            self.to = to
            self.when = when
        }

        /// Whether ztunnel, keeping only L4 fields (R50), is left with an empty clause of this rule:
        /// a `from` none of whose sources has an L4 field, a `to` none of whose operations has one,
        /// or an L7 `when` condition. Such a rule never matches there (a DENY rule has no effect;
        /// an ALLOW rule with an L7 attribute is dropped anyway, R49).
        public var leavesZtunnelAnEmptyClause: Bool {
            if let from, !from.contains(where: \.hasL4Field) { return true }
            if let to, !to.contains(where: \.hasL4Field) { return true }
            return (when ?? []).contains(where: \.isHTTPOnly)
        }
    }

    /// `from.source`. An empty list is an absent field.
    public struct Source: Hashable, Sendable {
        public var principals: [String] = []
        public var notPrincipals: [String] = []
        public var requestPrincipals: [String] = []
        public var notRequestPrincipals: [String] = []
        public var namespaces: [String] = []
        public var notNamespaces: [String] = []
        public var ipBlocks: [CIDR] = []
        public var notIpBlocks: [CIDR] = []
        public var serviceAccounts: [String] = []
        public var notServiceAccounts: [String] = []

        public init() {}

        /// Whether it uses a field that needs HTTP (R38).
        public var hasHTTPOnlyField: Bool { !requestPrincipals.isEmpty || !notRequestPrincipals.isEmpty }
        /// Whether it has any field ztunnel can enforce (R50).
        public var hasL4Field: Bool {
            !(principals.isEmpty && notPrincipals.isEmpty && namespaces.isEmpty && notNamespaces.isEmpty && ipBlocks.isEmpty
                && notIpBlocks.isEmpty && serviceAccounts.isEmpty && notServiceAccounts.isEmpty)
        }
    }

    /// `to.operation`. An empty list is an absent field.
    public struct Operation: Hashable, Sendable {
        public var hosts: [String] = []
        public var notHosts: [String] = []
        public var ports: [Int] = []
        public var notPorts: [Int] = []
        public var methods: [String] = []
        public var notMethods: [String] = []
        public var paths: [String] = []
        public var notPaths: [String] = []

        public init() {}

        /// Whether it uses a field that needs HTTP (R38).
        public var hasHTTPOnlyField: Bool {
            !(hosts.isEmpty && notHosts.isEmpty && methods.isEmpty && notMethods.isEmpty && paths.isEmpty && notPaths.isEmpty)
        }
        public var hasL4Field: Bool { !(ports.isEmpty && notPorts.isEmpty) }
    }

    /// One `when` condition (R36): `values` and `notValues` (an empty list is absent).
    public struct Condition: Hashable, Sendable {
        public var key: String
        public var values: [String]
        public var notValues: [String]

        public init(key: String, values: [String] = [], notValues: [String] = []) {
            self.key = key
            self.values = values
            self.notValues = notValues
        }

        /// The keys keycard/v1 models that ztunnel and TCP chains can enforce (R36, R49).
        public static let l4Keys: Set<String> = ["source.ip", "source.namespace", "source.principal", "destination.ip", "destination.port"]
        /// Keys that carry an identity and so need mutual TLS (R30) or are refused in CUSTOM rules (R22).
        public static let identityKeys: Set<String> = ["source.namespace", "source.principal"]

        /// `request.headers[...]` and `request.auth.*` (R38).
        public var isHTTPOnly: Bool { !Self.l4Keys.contains(key) }
    }

    public var namespace: String
    public var name: String
    public var selector: WorkloadSelector?
    /// Whether istiod's ambient conversion attaches this policy to no workload, so ztunnel never
    /// enforces it: a `selector` present without `matchLabels` (`selector: {}`). istio/istio
    /// `pilot/pkg/serviceregistry/ambient/authorization.go` `convertAuthorizationPolicy` gives any
    /// present selector the scope `WORKLOAD_SELECTOR` (ztunnel's `PolicyStore` indexes only
    /// `Namespace` and `Global` scopes by namespace), and `workloads.go` `buildWorkloadPolicies`
    /// attaches a policy to a workload only when its `GetMatchLabels()` map is not nil. Sidecars
    /// apply it to every workload of its scope (`isSelected`: nil matchLabels matches all; R19).
    public var ztunnelAttachesNoWorkload: Bool { selector.map { !$0.matchLabelsWritten } ?? false }
    /// `targetRef` is set or `targetRefs` is non-empty: the policy binds gateways/waypoints only (R20).
    public var hasTargetRef: Bool
    /// Annotation `istio.io/dry-run` with a value Go's `strconv.ParseBool` reads as true (`"true"`, `"True"`, `"1"`, ...; R21).
    public var dryRun: Bool
    public var action: Action
    public var provider: String?
    /// `rules`; absent and empty are the same (R25).
    public var rules: [Rule]
    /// When it was created, in scenario steps (kept for symmetry with PeerAuthentication).
    public var createdAt: Int

    public init(
        namespace: String, name: String, selector: WorkloadSelector? = nil, hasTargetRef: Bool = false, dryRun: Bool = false,
        action: Action = .allow, provider: String? = nil, rules: [Rule] = [], createdAt: Int = 0
    ) {
        self.namespace = namespace
        self.name = name
        self.selector = selector
        self.hasTargetRef = hasTargetRef
        self.dryRun = dryRun
        self.action = action
        self.provider = provider
        self.rules = rules
        self.createdAt = createdAt
    }
}
