import SwiftASN1
import X509

/// A swift-certificates verifier policy for SPIFFE X.509 SVIDs
/// (https://github.com/spiffe/spiffe/blob/main/standards/X509-SVID.md §4, §5): the leaf carries
/// exactly one URI SAN, `spiffe://<trustDomain>/<path>` with a non-empty path, and is not a CA.
/// It handles the SAN extension, which SVIDs mark critical (their subject is empty).
public struct SPIFFEPolicy: VerifierPolicy, Sendable {
    public let trustDomain: String
    public let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = [.X509ExtensionID.subjectAlternativeName]

    public init(trustDomain: String) { self.trustDomain = trustDomain }

    public mutating func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        let leaf = chain.leaf
        guard let uri = Self.uri(of: leaf) else {
            return .failsToMeetPolicy(reason: "SPIFFE: the leaf must carry exactly one URI SAN")
        }
        let domain = trustDomain
        let prefix = "spiffe://\(domain)/"
        guard uri.hasPrefix(prefix), uri.count > prefix.count else {
            return .failsToMeetPolicy(reason: "SPIFFE: \(uri) is not in trust domain \(domain)")
        }
        if case .isCertificateAuthority = try? leaf.extensions.basicConstraints {
            return .failsToMeetPolicy(reason: "SPIFFE: a leaf SVID must not be a CA")
        }
        return .meetsPolicy
    }

    /// The only URI SAN of `certificate`; nil when it has none or several.
    public static func uri(of certificate: Certificate) -> String? {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return nil }
        let uris = names.compactMap { name -> String? in
            if case .uniformResourceIdentifier(let uri) = name { return uri }
            return nil
        }
        return uris.count == 1 ? uris[0] : nil
    }
}
