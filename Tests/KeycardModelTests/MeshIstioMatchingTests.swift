import KeycardModel
import Testing

/// How a sidecar's istiod turns `namespaces` values and principals into what Envoy matches
/// (keycard review D1, D2), checked on values whose answer Istio's code fixes.
@Suite("Istio matching for sidecars: namespace regex, trust domain aliases")
struct MeshIstioMatchingTests {
    static let web = "spiffe://cluster.local/ns/prod/sa/web"

    /// `srcNamespaceGenerator`: `.*/ns/<value, quoted, * as .*>/.*`, fully matched against the URI SAN.
    @Test(
        arguments: [
            // exact: the segment between /ns/ and the next /
            ("prod", web, true), ("prod", "spiffe://cluster.local/ns/production/sa/web", false),
            ("pro", web, false), ("sa", web, false),
            // exact, but the regex can meet a later /ns/ segment of an odd URI
            ("x", "spiffe://td/ns/a/sa/ns/x/y", true),
            // suffix: the * runs across / into the service account
            ("*a", web, true), ("*od", web, true), ("*eb", web, false), ("*sa", web, true),
            // prefix
            ("pro*", web, true), ("prod*", web, true), ("dev*", web, false), ("p*", web, true),
            // presence and inner *
            ("*", web, true), ("p*d", web, true), ("p*x", web, false), ("*", "spiffe://cluster.local/sa/web", false),
            // istiod quotes the parts between `*`s (`regexp.QuoteMeta`, istio/istio#59992): every
            // other character is literal
            ("pr.d", web, false), ("pr.d", "spiffe://td/ns/pr.d/sa/x", true), ("p[rx]od", web, false),
            ("[a-z]+", web, false), ("[a-z]+", "spiffe://td/ns/[a-z]+/sa/x", true), ("pr[od", web, false),
            ("pr[od", "spiffe://td/ns/pr[od/sa/x", true), (".*", web, false), ("p.*", web, false), ("p.*", "spiffe://td/ns/p.x/sa/y", true),
            ("*.d", web, false), ("p(r|x)od", "spiffe://td/ns/p(r|x)od/sa/x", true),
            // `.` stops at a newline
            ("*", "spiffe://td/ns/a\n/sa/x", false),
        ])
    func sidecarNamespaceRegex(_ pattern: String, _ uri: String, _ matches: Bool) {
        #expect(MeshValueMatch.sidecarNamespaceMatches(pattern, uri: uri) == matches, "\(pattern) vs \(uri)")
    }

    /// `ReplaceTrustDomainAliases` with the bundle `[example.org]`.
    @Test(
        arguments: [
            ("cluster.local/ns/prod/sa/web", "example.org/ns/prod/sa/web"),
            ("cluster.local/ns/prod/sa/*", "example.org/ns/prod/sa/*"),
            ("example.org/ns/prod/sa/web", "example.org/ns/prod/sa/web"),
            ("other.org/ns/prod/sa/web", "other.org/ns/prod/sa/web"),
            // the trust domain part is a pattern: kept when it is a suffix pattern of the mesh's
            ("*.org/ns/prod/sa/web", "*.org/ns/prod/sa/web"), ("*local/ns/prod/sa/web", "*local/ns/prod/sa/web"),
            // a prefix pattern of the mesh's trust domain is replaced by it
            ("exam*/ns/prod/sa/web", "example.org/ns/prod/sa/web"),
            // `*` alone, or not five parts: kept
            ("*/ns/prod/sa/web", "*/ns/prod/sa/web"), ("cluster.local/*", "cluster.local/*"), ("*", "*"),
            ("cluster.local/ns/prod/sa/web/x", "cluster.local/ns/prod/sa/web/x"),
        ])
    func trustDomainAliases(_ principal: String, _ replaced: String) {
        #expect(TrustDomainAliases.replaced(principal, trustDomain: "example.org") == replaced)
    }

    /// With the default trust domain the rewrite still applies: `clus*/...`, whose inner `*` Envoy
    /// reads literally, becomes the exact `cluster.local/...`.
    @Test func theDefaultTrustDomainRewritesPrefixPatterns() {
        #expect(TrustDomainAliases.replaced("clus*/ns/prod/sa/web", trustDomain: "cluster.local") == "cluster.local/ns/prod/sa/web")
        #expect(TrustDomainAliases.replaced("cluster.local/ns/prod/sa/web", trustDomain: "cluster.local") == "cluster.local/ns/prod/sa/web")
    }
}
