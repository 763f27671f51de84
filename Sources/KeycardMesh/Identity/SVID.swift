import Crypto
import Foundation
import X509

/// A SPIFFE X.509 SVID (https://github.com/spiffe/spiffe/blob/main/standards/X509-SVID.md): a
/// workload certificate whose only URI SAN is `spiffe://<trustDomain>/ns/<ns>/sa/<sa>`, its private
/// key (held in memory only, never written), and the chain it presents.
public struct SVID: Sendable {
    /// `spiffe://cluster.local/ns/prod/sa/api`.
    public let uri: String
    /// The leaf certificate.
    public let certificate: Certificate
    /// What a TLS peer sends: the leaf only (the root is the trust bundle, never sent).
    public var chain: [Certificate] { [certificate] }
    /// P-256 key of the leaf.
    public let privateKey: P256.Signing.PrivateKey

    /// The principal AuthorizationPolicy sees: the URI without `spiffe://` (spec mesh.md R16).
    public var principal: String { uri.hasPrefix("spiffe://") ? String(uri.dropFirst("spiffe://".count)) : uri }
    public var notValidBefore: Date { certificate.notValidBefore }
    public var notValidAfter: Date { certificate.notValidAfter }
}

/// Builds certificates for the lab CA and the rogue CA (one place for the extension profile).
enum CertificateFactory {
    /// A self-signed P-256 CA certificate, valid from `now - 1 min` (clock skew) for `lifetime` seconds.
    static func selfSignedRoot(name: String, key: P256.Signing.PrivateKey, now: Date, lifetime: TimeInterval) throws -> Certificate {
        let subject = try DistinguishedName {
            OrganizationName("keycard")
            CommonName(name)
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
        }
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-60), notValidAfter: now.addingTimeInterval(lifetime),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
            issuerPrivateKey: Certificate.PrivateKey(key))
    }

    /// A workload certificate as Istio issues them: empty subject, the SPIFFE URI as the only SAN,
    /// marked critical (RFC 5280 4.2.1.6 requires it when the subject is empty), client and server
    /// auth, valid `notBefore..<notAfter`.
    static func workload(
        uri: String, issuer: Certificate, issuerKey: P256.Signing.PrivateKey, notBefore: Date, notAfter: Date
    ) throws -> SVID {
        let key = P256.Signing.PrivateKey()
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
            try ExtendedKeyUsage([.serverAuth, .clientAuth])
            AuthorityKeyIdentifier(keyIdentifier: try issuer.extensions.subjectKeyIdentifier?.keyIdentifier)
            Critical(SubjectAlternativeNames([.uniformResourceIdentifier(uri)]))
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: issuer.subject, subject: DistinguishedName(),
            signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: Certificate.PrivateKey(key: issuerKey))
        return SVID(uri: uri, certificate: certificate, privateKey: key)
    }
}

extension Certificate.PrivateKey {
    init(key: P256.Signing.PrivateKey) { self.init(key) }
}
