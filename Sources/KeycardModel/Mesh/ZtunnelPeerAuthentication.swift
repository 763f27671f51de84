/// What ztunnel enforces of PeerAuthentication: istiod does not send ztunnel the policies, but
/// L4 DENY authorizations it derives from them (istio/istio
/// `pilot/pkg/serviceregistry/ambient/authorization.go` and `policies.go`, at 86c9f01f), and
/// those can differ from the documented per-port semantics (R5–R11) that sidecars follow.
/// Every derived rule requires "no principal", so they only ever refuse plaintext.
extension Cluster {
    /// Whether ztunnel refuses plaintext on `pod`'s `port`: istiod's static STRICT policy is
    /// attached to the workload, or the workload's converted PeerAuthentication is attached and
    /// one of its rule groups matches a plaintext connection to `port`.
    ///
    /// `convertedSelectorPeerAuthentications` decides what is attached, from the oldest policy of
    /// each scope (`peerAuthenticationScopes`). A workload policy with `portLevelMtls` that makes
    /// the workload reference its converted form also withholds the static STRICT policy, on the
    /// assumption that the converted form repeats it; `convertPeerAuthentication` may then
    /// produce nothing (see `convertedPolicyRefusesPlaintext`), and plaintext is accepted on
    /// every port.
    public func ztunnelRefusesPlaintext(_ pod: Pod, port: Int) -> Bool {
        let scopes = peerAuthenticationScopes(for: pod, plane: .ambient)
        var strict = scopes.mesh?.mode == .strict
        if let namespace = scopes.namespace, namespace.mode != .unset { strict = namespace.mode == .strict }
        guard let workload = scopes.workload else { return strict }
        switch workload.mode {
        case .strict: strict = true
        case .permissive, .disable: strict = false
        case .unset: break
        }
        let portModes = Array(workload.portLevelMtls.values)
        var referencesConverted = false
        switch workload.mode {
        case .strict:
            if portModes.contains(where: { $0 == .permissive || $0 == .disable }) {
                referencesConverted = true
                strict = false
            }
        case .permissive, .disable:
            referencesConverted = portModes.contains(.strict)
        case .unset:
            // Under a STRICT parent only a PERMISSIVE entry counts (a DISABLE one is not looked
            // at, so the static STRICT policy stays); under a non-STRICT parent a STRICT entry.
            if strict {
                if portModes.contains(.permissive) {
                    referencesConverted = true
                    strict = false
                }
            } else {
                referencesConverted = portModes.contains(.strict)
            }
        }
        if strict { return true }
        return referencesConverted && convertedPolicyRefusesPlaintext(workload, namespace: pod.namespace, port: port)
    }

    /// `convertPeerAuthentication(rootNamespace, cfg, nsCfg, rootCfg)` evaluated for a plaintext
    /// connection to `port`. Its parent policies are looked up differently from
    /// `convertedSelectorPeerAuthentications`: `policies.go` indexes only policies whose
    /// `selector` is absent (`namespaceWithSelector`), so a namespace policy written with
    /// `selector: {}` is no parent here, and the oldest is taken by creation time alone.
    /// The conditions follow the Go code as written, including its operator precedence: a STRICT
    /// port entry is skipped ("enforced by the parent") whenever the namespace policy is absent
    /// or UNSET and the root one STRICT, whatever the workload's own mode.
    func convertedPolicyRefusesPlaintext(_ policy: PeerAuthentication, namespace: String, port: Int) -> Bool {
        let indexed = { (scope: String) in
            Self.oldest(self.peerAuthentications.values.filter { $0.namespace == scope && $0.selector == nil })
        }
        let nsMode = indexed(namespace)?.mode
        let rootMode = indexed(mesh.rootNamespace)?.mode
        let mode = policy.mode
        // A group refuses when all its rules match; the converted policy when one group does.
        var groups: [[(Int) -> Bool]] = []
        var rules: [(Int) -> Bool] = mode == .strict ? [{ _ in true }] : []
        var foundNonStrictPort = false
        for (entryPort, entryMode) in policy.portLevelMtls.sorted(by: { $0.key < $1.key }) {
            switch entryMode {
            case .strict:
                let parentEnforces =
                    mode == .strict || (mode == .unset && nsMode == .strict)
                    || ((nsMode == nil || nsMode == .unset) && rootMode == .strict)
                if parentEnforces { continue }
                groups.append([{ $0 == entryPort }])
            case .permissive, .disable:
                if mode == .permissive || mode == .disable { continue }
                if mode == .unset
                    && ((nsMode != nil && nsMode != .strict) || (nsMode == nil && rootMode != nil && rootMode != .strict)
                        || (nsMode == nil && rootMode == nil))
                {
                    continue
                }
                foundNonStrictPort = true
                rules.append({ $0 != entryPort })
            case .unset:
                continue
            }
        }
        if mode == .strict && !foundNonStrictPort { return false }
        let mergesStrict =
            (rootMode == .strict && (nsMode == nil || nsMode == .unset || nsMode == .strict)) || nsMode == .strict
        if mergesStrict && foundNonStrictPort { rules.append({ _ in true }) }
        if !rules.isEmpty { groups.append(rules) }
        return groups.contains { group in group.allSatisfy { $0(port) } }
    }
}
