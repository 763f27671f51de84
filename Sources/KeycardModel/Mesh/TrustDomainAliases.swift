/// What a sidecar's istiod does to the principals of an AuthorizationPolicy before it builds
/// Envoy's RBAC filter (`istio/istio` `pilot/pkg/security/authz/builder/builder.go` calls
/// `Model.MigrateTrustDomain` for every rule; `pilot/pkg/security/trustdomain/bundle.go`
/// `ReplaceTrustDomainAliases`, with the bundle `NewBundle(mesh trustDomain, trustDomainAliases)`
/// of `pilot/pkg/networking/plugin/authz/authorization.go`). It rewrites the values of
/// `principals`, `notPrincipals` and the `source.principal` condition (values and notValues);
/// `namespaces`, `serviceAccounts` and the rest are untouched. keycard's mesh has one trust domain
/// and no aliases (spec mesh.md 2.1), so the bundle is that trust domain alone. ztunnel gets the
/// principals as written (`pilot/pkg/serviceregistry/ambient/authorization.go` `stringToMatch`):
/// this applies to sidecars only.
public enum TrustDomainAliases {
    /// `ReplaceTrustDomainAliases` with the bundle `[trustDomain]`, on one principal value.
    ///
    /// A value not of the form `<td>/<a>/<b>/<c>/<d>` (five `/`-separated parts), or whose trust
    /// domain part is exactly `*`, is kept. Otherwise, when its trust domain part matches
    /// `trustDomain` in istiod's loose `stringMatch` (equal, or either side a `*` prefix or suffix
    /// pattern of the other) or is `cluster.local` ("a pointer to the local trust domain"), the
    /// trust domain part is replaced by `trustDomain`, unless it is a `*`-suffix pattern that
    /// `trustDomain` ends with (then it is kept, as istiod keeps `*local/...`). Any other value is
    /// kept.
    /// - Parameters:
    ///   - principal: a policy value, e.g. `cluster.local/ns/prod/sa/web`.
    ///   - trustDomain: the mesh's trust domain (`spec.mesh.trustDomain`).
    /// - Returns: the value Envoy is given, e.g. `example.org/ns/prod/sa/web`.
    public static func replaced(_ principal: String, trustDomain: String) -> String {
        let parts = principal.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] != "*" else { return principal }
        let domain = String(parts[0])
        guard looseMatch(domain, trustDomain) || domain == "cluster.local" else { return principal }
        if suffixMatch(trustDomain, pattern: domain) { return principal }
        return ([trustDomain] + parts.dropFirst().map(String.init)).joined(separator: "/")
    }

    /// istiod's `stringMatch(a, [s])` (`trustdomain/util.go`): `a == s`, `s == "*"`, or either is a
    /// prefix or suffix pattern the other satisfies.
    static func looseMatch(_ a: String, _ s: String) -> Bool {
        a == s || s == "*" || prefixMatch(a, pattern: s) || prefixMatch(s, pattern: a) || suffixMatch(a, pattern: s)
            || suffixMatch(s, pattern: a)
    }

    /// `pattern` ends with `*` and `a` starts with the rest.
    static func prefixMatch(_ a: String, pattern: String) -> Bool {
        pattern.hasSuffix("*") && a.hasPrefix(pattern.dropLast())
    }

    /// `pattern` starts with `*` and `a` ends with the rest.
    static func suffixMatch(_ a: String, pattern: String) -> Bool {
        pattern.hasPrefix("*") && a.hasSuffix(pattern.dropFirst())
    }
}
