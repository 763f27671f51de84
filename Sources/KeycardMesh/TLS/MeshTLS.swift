import Foundation
import NIOCore
import NIOSSL
import SwiftASN1
import X509

/// The TLS of proxy-to-proxy hops (spec mesh.md R17, 2.8): TLS 1.3 only, both sides present an
/// SVID, and each verifies the other's chain against the lab root *inside* the handshake, with a
/// swift-certificates `Verifier` (RFC 5280 policy checking expiry against the current time + `SPIFFEPolicy`). Checking
/// only after the handshake would let a TLS 1.3 client's early data through first.
public enum MeshTLS {
    /// The ALPN Istio's proxies offer between themselves (`istio`, as in Envoy's `istio-peer-exchange`).
    public static let alpn = "istio"

    /// A server context presenting `svid` that requires a client certificate (the verification
    /// itself is the handler's callback: `serverHandler`).
    public static func serverContext(presenting svid: SVID) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try svid.chain.map { .certificate(try nioCertificate($0)) },
            privateKey: .privateKey(try nioPrivateKey(svid)))
        configuration.minimumTLSVersion = .tlsv13
        configuration.maximumTLSVersion = .tlsv13
        // Anything but .none makes BoringSSL demand a client certificate (SSL_VERIFY_FAIL_IF_NO_PEER_CERT).
        configuration.certificateVerification = .noHostnameVerification
        configuration.applicationProtocols = [alpn]
        return try NIOSSLContext(configuration: configuration)
    }

    /// A client context presenting `svid` (own, stolen, rogue or expired: whatever the caller picks).
    public static func clientContext(presenting svid: SVID) throws -> NIOSSLContext {
        try NIOSSLContext(configuration: clientConfiguration(presenting: svid))
    }

    /// The configuration of `clientContext` (TLS 1.3 only, ALPN `istio`, `svid` as the client
    /// certificate), for callers that change it (tests turn server verification off).
    public static func clientConfiguration(presenting svid: SVID) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateChain = try svid.chain.map { .certificate(try nioCertificate($0)) }
        configuration.privateKey = .privateKey(try nioPrivateKey(svid))
        configuration.minimumTLSVersion = .tlsv13
        configuration.maximumTLSVersion = .tlsv13
        // SPIFFE: the peer is named by its URI SAN, not a host name.
        configuration.certificateVerification = .noHostnameVerification
        configuration.applicationProtocols = [alpn]
        return configuration
    }

    /// The server side of a hop: `context` plus the in-handshake verification against `trust`.
    public static func serverHandler(context: NIOSSLContext, trust: MeshTrust) -> NIOSSLServerHandler {
        NIOSSLServerHandler(context: context, customVerificationCallbackWithMetadata: verificationCallback(trust))
    }

    /// The client side of a hop, verifying the server's SVID against `trust` in the handshake.
    public static func clientHandler(context: NIOSSLContext, trust: MeshTrust) throws -> NIOSSLClientHandler {
        try NIOSSLClientHandler(context: context, serverHostname: nil, customVerificationCallbackWithMetadata: verificationCallback(trust))
    }

    /// Verifies the peer's certificates (leaf first) with a `Verifier`: RFC 5280 at the current time,
    /// chained to `trust.roots()`, and the SPIFFE policy of `trust.trustDomain`. The promise gets the
    /// validated chain (leaf … root), which `principal(of:)` reads after the handshake.
    public static func verificationCallback(_ trust: MeshTrust) -> NIOSSLCustomVerificationCallbackWithMetadata {
        { certificates, promise in
            guard let ders = try? certificates.map({ try $0.toDERBytes() }) else { return promise.succeed(.failed) }
            Task {
                promise.succeed(await verify(ders, trust: trust))
            }
        }
    }

    /// The verification of `verificationCallback`, usable without a handshake.
    public static func verify(_ ders: [[UInt8]], trust: MeshTrust) async -> NIOSSLVerificationResultWithMetadata {
        guard let leafDER = ders.first, let leaf = try? Certificate(derEncoded: leafDER) else { return .failed }
        let intermediates = ders.dropFirst().compactMap { try? Certificate(derEncoded: $0) }
        var verifier = Verifier(rootCertificates: CertificateStore(trust.roots())) {
            RFC5280Policy()
            SPIFFEPolicy(trustDomain: trust.trustDomain)
        }
        switch await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates)) {
        case .validCertificate(let chain):
            guard let converted = try? chain.map({ try nioCertificate($0) }), !converted.isEmpty else { return .failed }
            return .certificateVerified(VerificationMetadata(NIOSSL.ValidatedCertificateChain(converted)))
        case .couldNotValidate:
            return .failed
        }
    }

    /// The principal (URI without `spiffe://`, R16) of a validated chain's leaf.
    public static func principal(of chain: NIOSSL.ValidatedCertificateChain?) -> String? {
        guard let leaf = chain?.first, let der = try? leaf.toDERBytes(), let certificate = try? Certificate(derEncoded: der),
            let uri = SPIFFEPolicy.uri(of: certificate)
        else { return nil }
        return uri.hasPrefix("spiffe://") ? String(uri.dropFirst("spiffe://".count)) : uri
    }

    static func nioCertificate(_ certificate: Certificate) throws -> NIOSSLCertificate {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der)
    }

    static func nioPrivateKey(_ svid: SVID) throws -> NIOSSLPrivateKey {
        try NIOSSLPrivateKey(bytes: Array(svid.privateKey.pemRepresentation.utf8), format: .pem)
    }
}

/// What a hop trusts: the lab's current roots (read at every handshake, so a CA rotation takes
/// effect on the next one) and its trust domain.
public struct MeshTrust: Sendable {
    public let trustDomain: String
    public let roots: @Sendable () -> [Certificate]

    public init(trustDomain: String, roots: @escaping @Sendable () -> [Certificate]) {
        self.trustDomain = trustDomain
        self.roots = roots
    }

    /// The trust of `ca`: its current root.
    public init(_ ca: LabCA) {
        self.init(trustDomain: ca.trustDomain, roots: { [ca.root] })
    }
}
