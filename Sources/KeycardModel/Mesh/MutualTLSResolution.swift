/// The effective mutual-TLS mode of one workload port, and which PeerAuthentication set it.
public struct MutualTLSMode: Hashable, Sendable {
    /// Never `.unset`: with nothing set the mode is PERMISSIVE (R5).
    public var mode: PeerAuthentication.Mode
    /// The policy that set it (nil: no PeerAuthentication set a mode, PERMISSIVE by default).
    public var setBy: ObjectKey?
    /// Whether a `portLevelMtls` entry of `setBy` set it (R10).
    public var portLevel: Bool
    /// The scope of `setBy`: "mesh", "namespace" or "workload".
    public var scope: String?
    /// Why ztunnel accepts plaintext where the documented semantics give STRICT
    /// (`Cluster.ztunnelRefusesPlaintext`); nil otherwise.
    public var ztunnelNote: String?

    public init(
        mode: PeerAuthentication.Mode, setBy: ObjectKey?, portLevel: Bool, scope: String?, ztunnelNote: String? = nil
    ) {
        self.mode = mode
        self.setBy = setBy
        self.portLevel = portLevel
        self.scope = scope
        self.ztunnelNote = ztunnelNote
    }

    /// "STRICT (workload policy prod/strict-api, portLevelMtls 8080)"; with a `ztunnelNote`,
    /// "PERMISSIVE for ztunnel (mesh policy istio-system/default sets STRICT; NOTE)".
    public var description: String {
        guard let setBy, let scope else { return "\(mode.rawValue) (no PeerAuthentication sets a mode: PERMISSIVE by default)" }
        let source = "\(scope) policy \(setBy)\(portLevel ? ", portLevelMtls" : "")"
        if let ztunnelNote { return "\(mode.rawValue) for ztunnel (\(source) sets STRICT; \(ztunnelNote))" }
        return "\(mode.rawValue) (\(source))"
    }
}

extension Cluster {
    /// The PeerAuthentication of each scope that applies to `pod` on `plane` (R6–R9): the oldest
    /// of each scope, by (creation step, name, namespace).
    public func peerAuthenticationScopes(for pod: Pod, plane: DataPlane)
        -> (mesh: PeerAuthentication?, namespace: PeerAuthentication?, workload: PeerAuthentication?)
    {
        let root = mesh.rootNamespace
        let meshWide = peerAuthentications.values.filter { policy in
            guard policy.namespace == root else { return false }
            guard let selector = policy.selector else { return true }
            // R6: a root policy whose selector is present but empty is mesh-wide for sidecars and
            // ignored by ztunnel; a non-empty selector in the root namespace is ignored (R7).
            return selector.matchLabels.isEmpty && plane != .ambient
        }
        let namespaceWide = peerAuthentications.values.filter {
            $0.namespace == pod.namespace && $0.namespace != root && ($0.selector?.matchLabels.isEmpty ?? true)
        }
        let workload = peerAuthentications.values.filter {
            $0.namespace == pod.namespace && $0.namespace != root && !($0.selector?.matchLabels.isEmpty ?? true)
                && ($0.selector?.matches(pod.labels) ?? false)
        }
        return (Self.oldest(meshWide), Self.oldest(namespaceWide), Self.oldest(workload))
    }

    /// R9: the oldest; ties broken by name, then namespace (`configCompareByCreationTime`).
    public static func oldestPeerAuthentication(_ policies: [PeerAuthentication]) -> PeerAuthentication? { oldest(policies) }

    static func oldest(_ policies: [PeerAuthentication]) -> PeerAuthentication? {
        policies.min { ($0.createdAt, $0.name, $0.namespace) < ($1.createdAt, $1.name, $1.namespace) }
    }

    /// The effective mode of `pod`'s `port` (R5, R8, R10, R11): mesh → namespace → workload, each
    /// non-UNSET level replacing the inherited mode, then the workload policy's `portLevelMtls`
    /// entry for the port when it is not UNSET. Sidecars follow these documented semantics. For
    /// ambient pods keycard follows what istiod sends ztunnel (`ztunnelRefusesPlaintext`, which
    /// departs from them, Part 3 #5): a port ztunnel keeps STRICT reports the inherited STRICT
    /// (a port-level DISABLE under it is ignored), and a port the documented semantics make STRICT
    /// but ztunnel leaves open reports PERMISSIVE with `ztunnelNote` saying why.
    public func mutualTLSMode(for pod: Pod, port: Int, plane: DataPlane) -> MutualTLSMode {
        let scopes = peerAuthenticationScopes(for: pod, plane: plane)
        var inherited = MutualTLSMode(mode: .permissive, setBy: nil, portLevel: false, scope: nil)
        for (policy, scope) in [(scopes.mesh, "mesh"), (scopes.namespace, "namespace"), (scopes.workload, "workload")] {
            guard let policy, policy.mode != .unset else { continue }
            inherited = MutualTLSMode(mode: policy.mode, setBy: policy.key, portLevel: false, scope: scope)
        }
        var documented = inherited
        if let workload = scopes.workload, let portMode = workload.portLevelMtls[port], portMode != .unset {
            documented = MutualTLSMode(mode: portMode, setBy: workload.key, portLevel: true, scope: "workload")
        }
        guard plane == .ambient else { return documented }
        let refuses = ztunnelRefusesPlaintext(pod, port: port)
        if refuses == (documented.mode == .strict) { return documented }
        if refuses {
            // A port-level entry istiod does not look at: the inherited STRICT stays.
            if inherited.mode == .strict { return inherited }
            documented.mode = .strict
            return documented
        }
        documented.mode = .permissive
        let workload = scopes.workload?.key.description ?? ""
        documented.ztunnelNote =
            scopes.workload?.mode == .permissive || scopes.workload?.mode == .disable
            // Nothing withheld: a PERMISSIVE or DISABLE workload never gets the static policy.
            ? "istiod's convertPeerAuthentication skips this STRICT entry of \(workload) as enforced by the parent (its condition holds whenever the root policy is STRICT and the namespace has no policy without a selector, or only an UNSET one), and a \(scopes.workload?.mode.rawValue ?? "") workload gets no static STRICT policy: ztunnel accepts plaintext here"
            : "the workload policy \(workload) makes istiod withhold its static STRICT policy, and the policy's converted form refuses no plaintext here (convertPeerAuthentication finds no STRICT namespace parent among the policies without a selector, nor an absent one under a STRICT root): ztunnel accepts plaintext here"
        return documented
    }
}
