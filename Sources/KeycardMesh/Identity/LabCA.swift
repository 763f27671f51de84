import Crypto
import Foundation
import Glibc
import NIOConcurrencyHelpers
import X509

/// The lab's certificate authority: a P-256 root whose key lives in one file of the lab's state
/// folder (mode 0600, created so, never widened), and the SVIDs it issues to meshed workloads.
///
/// Files (in `folder`, e.g. `<labState>/mesh/`): `ca-key.pem` (PKCS#8 PEM, 0600) and `ca-cert.pem`
/// (the trust bundle). Workload keys are never written: they live in memory, as ztunnel's do.
/// An existing pair in `folder` is loaded (a lab process restarted over the same state).
///
/// Lifetimes: SVIDs live `svidLifetime` (1 h by default; Istio's default is 24 h) and `issue`
/// re-issues one when less than half of it remains (Istio rotates at 50 %, `SECRET_GRACE_PERIOD_RATIO`).
///
/// Rotation (`rotate()`): a new root key and certificate replace the old ones at once, every
/// cached SVID is dropped (the next `issue` signs under the new root) and the trust bundle becomes
/// the new root alone. Connections already established keep running (TLS checks certificates only
/// in the handshake); a new handshake presenting an SVID of the old root fails. Istio instead keeps
/// both roots in the bundle while workloads move over; keycard's `rotate` is the abrupt case.
public final class LabCA: Sendable {
    public static let keyFileName = "ca-key.pem"
    public static let certificateFileName = "ca-cert.pem"

    public let folder: String
    /// The SPIFFE trust domain (`spec.mesh.trustDomain`, default `cluster.local`).
    public let trustDomain: String
    /// Seconds an SVID is valid.
    public let svidLifetime: TimeInterval
    private let now: @Sendable () -> Date
    private let state: NIOLockedValueBox<State>

    private struct State {
        var key: P256.Signing.PrivateKey
        var root: Certificate
        var svids: [String: SVID] = [:]
        var removed = false
    }

    public var keyPath: String { "\(folder)/\(Self.keyFileName)" }
    public var certificatePath: String { "\(folder)/\(Self.certificateFileName)" }

    /// Opens the CA in `folder` (created with mode 0700 if missing), loading an existing key and
    /// certificate or creating them.
    /// - Parameters:
    ///   - svidLifetime: seconds an SVID is valid (default 3,600).
    ///   - now: the clock (tests move it).
    /// - Throws: `MeshIdentityError` for unreadable files, POSIX failures, or a malformed trust domain.
    public init(
        folder: String, trustDomain: String = "cluster.local", svidLifetime: TimeInterval = 3600,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        guard !trustDomain.isEmpty, !trustDomain.contains("/"), !trustDomain.contains(":") else {
            throw MeshIdentityError.invalid("trust domain \(trustDomain.debugDescription)")
        }
        self.folder = folder
        self.trustDomain = trustDomain
        self.svidLifetime = svidLifetime
        self.now = now
        try FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let keyPath = "\(folder)/\(Self.keyFileName)"
        let certificatePath = "\(folder)/\(Self.certificateFileName)"
        if FileManager.default.fileExists(atPath: keyPath), FileManager.default.fileExists(atPath: certificatePath) {
            let key = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: keyPath, encoding: .utf8))
            let root = try Certificate(pemEncoded: String(contentsOfFile: certificatePath, encoding: .utf8))
            state = NIOLockedValueBox(State(key: key, root: root))
        } else {
            let (key, root) = try Self.makeRoot(trustDomain: trustDomain, now: now())
            try Self.writeFiles(folder: folder, key: key, root: root)
            state = NIOLockedValueBox(State(key: key, root: root))
        }
    }

    /// The trust bundle: the current root.
    public var root: Certificate { state.withLockedValue { $0.root } }

    /// The SPIFFE URI of a service account: `spiffe://<trustDomain>/ns/<namespace>/sa/<account>` (R16).
    public func uri(namespace: String, serviceAccount: String) -> String {
        "spiffe://\(trustDomain)/ns/\(namespace)/sa/\(serviceAccount)"
    }

    /// The SVID of `namespace`/`serviceAccount`: the cached one while more than half of its lifetime
    /// remains, else a fresh one.
    public func issue(namespace: String, serviceAccount: String) throws -> SVID {
        try issue(uri: uri(namespace: namespace, serviceAccount: serviceAccount))
    }

    /// The SVID carrying `uri`, which must be `spiffe://<trustDomain>/...` (a `stolen` identity of
    /// the spec names one this way).
    /// - Throws: `MeshIdentityError.invalid` for a URI outside the trust domain.
    public func issue(uri: String) throws -> SVID {
        guard uri.hasPrefix("spiffe://\(trustDomain)/") else {
            throw MeshIdentityError.invalid("\(uri) is not in trust domain \(trustDomain)")
        }
        let now = now()
        let lifetime = svidLifetime
        return try state.withLockedValue { state in
            if state.removed { throw MeshIdentityError.removed }
            if let cached = state.svids[uri], cached.notValidAfter.timeIntervalSince(now) > lifetime / 2 { return cached }
            let svid = try CertificateFactory.workload(
                uri: uri, issuer: state.root, issuerKey: state.key, notBefore: now.addingTimeInterval(-60),
                notAfter: now.addingTimeInterval(lifetime))
            state.svids[uri] = svid
            return svid
        }
    }

    /// Rotates the CA: a new key and root replace the files (key written to a new 0600 file, then
    /// renamed over the old one), and every SVID is re-issued on next use. See the type's doc for
    /// connections in flight.
    public func rotate() throws {
        let (key, root) = try Self.makeRoot(trustDomain: trustDomain, now: now())
        try state.withLockedValue { state in
            if state.removed { throw MeshIdentityError.removed }
            try Self.writeFiles(folder: folder, key: key, root: root)
            state = State(key: key, root: root)
        }
    }

    /// Rotates one workload certificate: a new key and certificate, whatever time is left.
    public func rotate(namespace: String, serviceAccount: String) throws -> SVID {
        let uri = uri(namespace: namespace, serviceAccount: serviceAccount)
        state.withLockedValue { _ = $0.svids.removeValue(forKey: uri) }
        return try issue(uri: uri)
    }

    /// A lab-CA certificate that expired an hour ago (for security tests: refused in the handshake).
    public func issueExpired(namespace: String, serviceAccount: String) throws -> SVID {
        let now = now()
        return try state.withLockedValue { state in
            try CertificateFactory.workload(
                uri: uri(namespace: namespace, serviceAccount: serviceAccount), issuer: state.root, issuerKey: state.key,
                notBefore: now.addingTimeInterval(-2 * 3600), notAfter: now.addingTimeInterval(-3600))
        }
    }

    /// A genuine lab-CA signature over a URI of another trust domain (refused by the SPIFFE policy).
    public func issueForeign(trustDomain other: String, namespace: String, serviceAccount: String) throws -> SVID {
        let now = now()
        let lifetime = svidLifetime
        return try state.withLockedValue { state in
            try CertificateFactory.workload(
                uri: "spiffe://\(other)/ns/\(namespace)/sa/\(serviceAccount)", issuer: state.root, issuerKey: state.key,
                notBefore: now.addingTimeInterval(-60), notAfter: now.addingTimeInterval(lifetime))
        }
    }

    /// Deletes the key and certificate files and the folder when it is left empty (lab tear-down).
    /// Later calls to `issue` or `rotate` throw `MeshIdentityError.removed`. Idempotent.
    public func remove() {
        state.withLockedValue {
            $0.removed = true; $0.svids = [:]
        }
        unlink(keyPath)
        unlink(certificatePath)
        rmdir(folder)
    }

    private static func makeRoot(trustDomain: String, now: Date) throws -> (P256.Signing.PrivateKey, Certificate) {
        let key = P256.Signing.PrivateKey()
        // Ten years: the root outlives any lab; rotation is explicit.
        let root = try CertificateFactory.selfSignedRoot(
            name: "keycard lab CA \(trustDomain)", key: key, now: now, lifetime: 10 * 365 * 86400)
        return (key, root)
    }

    /// Writes the key to `ca-key.pem.new` created with mode 0600 (O_EXCL: never an existing file),
    /// renames it over `ca-key.pem`, then writes the certificate the same way (mode 0644).
    private static func writeFiles(folder: String, key: P256.Signing.PrivateKey, root: Certificate) throws {
        try writeAtomically("\(folder)/\(keyFileName)", Array(key.pemRepresentation.utf8), mode: 0o600)
        try writeAtomically("\(folder)/\(certificateFileName)", Array(root.serializeAsPEM().pemString.utf8), mode: 0o644)
    }

    private static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t) throws {
        let temporary = path + ".new"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw MeshIdentityError.posix("open \(temporary)", errno) }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                let code = errno
                close(fd)
                unlink(temporary)
                throw MeshIdentityError.posix("write \(temporary)", code)
            }
            written += n
        }
        fsync(fd)
        close(fd)
        guard rename(temporary, path) == 0 else { throw MeshIdentityError.posix("rename \(temporary)", errno) }
    }
}

/// A CA the lab never trusts, in memory only: what an attacker signs a `spoofed` identity with (R17).
public final class RogueCA: Sendable {
    private let key: P256.Signing.PrivateKey
    public let root: Certificate

    public init() throws {
        key = P256.Signing.PrivateKey()
        root = try CertificateFactory.selfSignedRoot(name: "rogue CA", key: key, now: Date(), lifetime: 86400)
    }

    /// A certificate carrying `uri` as its URI SAN, valid for an hour, signed by this rogue root.
    public func issue(uri: String) throws -> SVID {
        let now = Date()
        return try CertificateFactory.workload(
            uri: uri, issuer: root, issuerKey: key, notBefore: now.addingTimeInterval(-60), notAfter: now.addingTimeInterval(3600))
    }
}

/// Failures of the lab CA.
public enum MeshIdentityError: Error, CustomStringConvertible {
    case invalid(String)
    case posix(String, Int32)
    /// The CA was removed (tear-down); it issues nothing more.
    case removed

    public var description: String {
        switch self {
        case .invalid(let what): "invalid identity: \(what)"
        case .posix(let call, let code): "\(call): \(String(cString: strerror(code)))"
        case .removed: "the lab CA was removed"
        }
    }
}
