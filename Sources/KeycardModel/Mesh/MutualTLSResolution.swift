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

    /// "STRICT (workload policy prod/strict-api, portLevelMtls 8080)".
    public var description: String {
        guard let setBy, let scope else { return "\(mode.rawValue) (no PeerAuthentication sets a mode: PERMISSIVE by default)" }
        return "\(mode.rawValue) (\(scope) policy \(setBy)\(portLevel ? ", portLevelMtls" : ""))"
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
    /// entry for the port when it is not UNSET. keycard applies the documented per-port semantics
    /// on both data planes (Part 3 #5), except where ztunnel keeps an inherited STRICT on a
    /// DISABLE port (`ztunnelKeepsInheritedStrict`).
    public func mutualTLSMode(for pod: Pod, port: Int, plane: DataPlane) -> MutualTLSMode {
        let scopes = peerAuthenticationScopes(for: pod, plane: plane)
        var result = MutualTLSMode(mode: .permissive, setBy: nil, portLevel: false, scope: nil)
        for (policy, scope) in [(scopes.mesh, "mesh"), (scopes.namespace, "namespace"), (scopes.workload, "workload")] {
            guard let policy, policy.mode != .unset else { continue }
            result = MutualTLSMode(mode: policy.mode, setBy: policy.key, portLevel: false, scope: scope)
        }
        if let workload = scopes.workload, let portMode = workload.portLevelMtls[port], portMode != .unset,
            !(plane == .ambient && Self.ztunnelKeepsInheritedStrict(workload, inherited: result.mode, portMode: portMode))
        {
            result = MutualTLSMode(mode: portMode, setBy: workload.key, portLevel: true, scope: "workload")
        }
        return result
    }

    /// Whether ztunnel keeps an inherited STRICT on a port that `workload` sets to `portMode`:
    /// istiod's ambient conversion (`istio/istio` `pilot/pkg/serviceregistry/ambient/authorization.go`
    /// `convertedSelectorPeerAuthentications`, at 86c9f01f) sends a workload whose policy has no
    /// mode under a STRICT mesh or namespace policy the static STRICT policy, unless one of the
    /// policy's `portLevelMtls` entries is PERMISSIVE: DISABLE entries alone are not looked at, so
    /// such a port stays STRICT (istio.io ambient L4 policy: DISABLE "will be ignored"). With a
    /// PERMISSIVE entry too, the converted policy exempts PERMISSIVE and DISABLE ports alike
    /// (`convertPeerAuthentication`). A workload policy that is itself STRICT exempts DISABLE ports
    /// (its `foundPermissive` counts them). The spec's R10/R52 (a port's DISABLE beats every level,
    /// then behaves like PERMISSIVE for plaintext) would let plaintext in; keycard follows the code.
    static func ztunnelKeepsInheritedStrict(
        _ workload: PeerAuthentication, inherited: PeerAuthentication.Mode, portMode: PeerAuthentication.Mode
    )
        -> Bool
    {
        workload.mode == .unset && inherited == .strict && portMode == .disable
            && !workload.portLevelMtls.values.contains(.permissive)
    }
}
