import Foundation
import Glibc
import KeycardMesh
import NIOSSL
import Testing
import X509

/// A clock tests can move (seconds added to a fixed start).
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var offset: TimeInterval = 0
    let start = Date()
    var now: Date { lock.withLock { start.addingTimeInterval(offset) } }
    func advance(_ seconds: TimeInterval) { lock.withLock { offset += seconds } }
}

private func folder() -> String { "/tmp/keycard-ca-test-\(UInt32.random(in: 0...UInt32.max))/lab/mesh" }

private func mode(of path: String) -> mode_t? {
    var info = stat()
    return stat(path, &info) == 0 ? info.st_mode & 0o777 : nil
}

@Suite("Lab CA")
struct LabCATests {
    @Test("an SVID has one critical URI SAN, an empty subject, a 1 h life, and chains to the root")
    func svidShape() async throws {
        let path = folder()
        let ca = try LabCA(folder: path)
        defer { ca.remove() }
        let svid = try ca.issue(namespace: "prod", serviceAccount: "api")
        #expect(svid.uri == "spiffe://cluster.local/ns/prod/sa/api")
        #expect(svid.principal == "cluster.local/ns/prod/sa/api")
        let certificate = svid.certificate
        #expect(certificate.subject == DistinguishedName())
        #expect(certificate.issuer == ca.root.subject)
        let san = try #require(certificate.extensions[oid: .X509ExtensionID.subjectAlternativeName])
        #expect(san.critical)
        #expect(try certificate.extensions.subjectAlternativeNames == SubjectAlternativeNames([.uniformResourceIdentifier(svid.uri)]))
        #expect(try certificate.extensions.basicConstraints == .notCertificateAuthority)
        let lifetime = certificate.notValidAfter.timeIntervalSince(Date())
        #expect(lifetime > 3500 && lifetime <= 3601)
        #expect(certificate.signatureAlgorithm == .ecdsaWithSHA256)
        #expect(ca.root.publicKey.isValidSignature(certificate.signature, for: certificate))
        // Verified as the proxies verify it, with the principal recovered.
        let result = await MeshTLS.verify([try der(certificate)], trust: MeshTrust(ca))
        guard case .certificateVerified(let metadata) = result else { Issue.record("own SVID refused"); return }
        #expect(MeshTLS.principal(of: metadata.validatedCertificateChain) == "cluster.local/ns/prod/sa/api")
    }

    @Test("the key file is created 0600 in a 0700 folder, the certificate beside it; remove deletes both")
    func filesAndRemove() throws {
        let path = folder()
        let ca = try LabCA(folder: path)
        #expect(mode(of: ca.keyPath) == 0o600)
        #expect(mode(of: path) == 0o700)
        #expect(FileManager.default.fileExists(atPath: ca.certificatePath))
        let pem = try String(contentsOfFile: ca.keyPath, encoding: .utf8)
        #expect(pem.contains("PRIVATE KEY"))
        // Nothing else was written: workload keys stay in memory.
        _ = try ca.issue(namespace: "prod", serviceAccount: "api")
        #expect(try FileManager.default.contentsOfDirectory(atPath: path).sorted() == ["ca-cert.pem", "ca-key.pem"])
        ca.remove()
        #expect(!FileManager.default.fileExists(atPath: ca.keyPath))
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(throws: MeshIdentityError.self) { try ca.issue(namespace: "prod", serviceAccount: "api") }
        try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
    }

    @Test("an existing CA folder is loaded, not replaced")
    func reload() throws {
        let path = folder()
        let first = try LabCA(folder: path)
        defer { first.remove() }
        let second = try LabCA(folder: path)
        #expect(second.root == first.root)
    }

    @Test("SVIDs are cached and re-issued once less than half of their life remains")
    func reissue() throws {
        let clock = TestClock()
        let ca = try LabCA(folder: folder(), svidLifetime: 3600, now: { clock.now })
        defer { ca.remove() }
        let first = try ca.issue(namespace: "prod", serviceAccount: "api")
        clock.advance(1700)
        #expect(try ca.issue(namespace: "prod", serviceAccount: "api").certificate == first.certificate)
        clock.advance(200)  // 1,900 s: 1,700 s left, under half of 3,600
        let second = try ca.issue(namespace: "prod", serviceAccount: "api")
        #expect(second.certificate.serialNumber != first.certificate.serialNumber)
        #expect(second.notValidAfter > first.notValidAfter)
    }

    @Test("rotate() replaces key and root (still 0600) and re-issues every SVID; old SVIDs stop verifying")
    func rotateCA() async throws {
        let path = folder()
        let ca = try LabCA(folder: path)
        defer { ca.remove() }
        let oldRoot = ca.root
        let oldKey = try String(contentsOfFile: ca.keyPath, encoding: .utf8)
        let old = try ca.issue(namespace: "prod", serviceAccount: "api")
        try ca.rotate()
        #expect(ca.root != oldRoot)
        #expect(try String(contentsOfFile: ca.keyPath, encoding: .utf8) != oldKey)
        #expect(mode(of: ca.keyPath) == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: path).sorted() == ["ca-cert.pem", "ca-key.pem"])
        let new = try ca.issue(namespace: "prod", serviceAccount: "api")
        #expect(new.certificate.serialNumber != old.certificate.serialNumber)
        #expect(ca.root.publicKey.isValidSignature(new.certificate.signature, for: new.certificate))
        #expect(isVerified(await MeshTLS.verify([try der(new.certificate)], trust: MeshTrust(ca))))
        #expect(!isVerified(await MeshTLS.verify([try der(old.certificate)], trust: MeshTrust(ca))))
    }

    @Test("rotate(namespace:serviceAccount:) gives that workload a new key and certificate")
    func rotateWorkload() throws {
        let ca = try LabCA(folder: folder())
        defer { ca.remove() }
        let old = try ca.issue(namespace: "prod", serviceAccount: "api")
        let other = try ca.issue(namespace: "prod", serviceAccount: "web")
        let new = try ca.rotate(namespace: "prod", serviceAccount: "api")
        #expect(new.certificate.serialNumber != old.certificate.serialNumber)
        #expect(new.privateKey.publicKey.rawRepresentation != old.privateKey.publicKey.rawRepresentation)
        #expect(try ca.issue(namespace: "prod", serviceAccount: "api").certificate == new.certificate)
        #expect(try ca.issue(namespace: "prod", serviceAccount: "web").certificate == other.certificate)
    }

    @Test("rogue, expired and wrong-trust-domain certificates fail verification; a URI outside the domain is not issued")
    func refusals() async throws {
        let ca = try LabCA(folder: folder())
        defer { ca.remove() }
        let trust = MeshTrust(ca)
        let rogue = try RogueCA().issue(uri: "spiffe://cluster.local/ns/prod/sa/api")
        let expired = try ca.issueExpired(namespace: "prod", serviceAccount: "api")
        let foreign = try ca.issueForeign(trustDomain: "evil.example", namespace: "prod", serviceAccount: "api")
        #expect(expired.notValidAfter < Date())
        #expect(ca.root.publicKey.isValidSignature(foreign.certificate.signature, for: foreign.certificate))
        for svid in [rogue, expired, foreign] {
            #expect(!isVerified(await MeshTLS.verify([try der(svid.certificate)], trust: trust)), "\(svid.uri)")
        }
        #expect(throws: MeshIdentityError.self) { try ca.issue(uri: "spiffe://evil.example/ns/prod/sa/api") }
    }
}

func der(_ certificate: Certificate) throws -> [UInt8] {
    try NIOSSLCertificate(bytes: Array(certificate.serializeAsPEM().pemString.utf8), format: .pem).toDERBytes()
}

func isVerified(_ result: NIOSSLVerificationResultWithMetadata) -> Bool {
    if case .certificateVerified = result { return true }
    return false
}
