import Foundation
import Glibc
import KeycardKernel
import KeycardMesh
import KeycardModel
import KeycardTestSupport
import KeycardValues
import NIOCore
import NIOPosix
import NIOSSL
import Testing

/// Issue 14, item 8: under STRICT, 10,000 attempts with plaintext, spoofed (rogue CA), expired and
/// wrong-trust-domain certificates: not one reaches the application (counted at the application).
@Suite("Mesh proxy: security", .serialized)
struct MeshSecurityTests {
    @Test("10,000 plaintext, spoofed, expired and wrong-trust-domain attempts on a STRICT port: 0 reach the application")
    func tenThousandAttempts() throws {
        let world = try ProxyWorld(cluster: MeshFixtures.cluster(), originalPort: 8080)
        defer { world.tearDown() }
        try world.serve(8080, .line)
        func context(_ svid: SVID) throws -> NIOSSLContext {
            var configuration = try MeshTLS.clientConfiguration(presenting: svid)
            configuration.certificateVerification = .none
            return try NIOSSLContext(configuration: configuration)
        }
        let kinds: [(name: String, context: NIOSSLContext?)] = [
            ("plaintext", nil),
            ("spoofed", try context(RogueCA().issue(uri: "spiffe://cluster.local/ns/prod/sa/client"))),
            ("expired", try context(world.ca.issueExpired(namespace: "prod", serviceAccount: "client"))),
            ("foreign", try context(world.ca.issueForeign(trustDomain: "evil.example", namespace: "prod", serviceAccount: "client"))),
        ]
        let attempts = 10_000
        let inFlight = 200
        var answered = 0
        var bytesBack = 0
        let clock = ContinuousClock()
        let start = clock.now
        var next = 0
        while next < attempts {
            let batch = (next..<min(attempts, next + inFlight)).map { index in
                let kind = kinds[index % kinds.count]
                return Result {
                    try TLSClient.exchange(
                        group: world.group, in: world.clientNamespace, to: MeshFixtures.apiAddress, port: MeshDataPath.inboundPort,
                        context: kind.context, trust: nil, payload: "hello\n")
                }
            }
            for attempt in batch {
                let result = try attempt.get().wait()
                answered += 1
                bytesBack += result.bytes.count
            }
            next += inFlight
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("mesh security: \(attempts) attempts in \(String(format: "%.2f", seconds)) s (\(Int(Double(attempts) / seconds))/s)")
        #expect(answered == attempts)
        #expect(bytesBack == 0)
        #expect(world.app(8080).accepted.current == 0)
        #expect(world.app(8080).received.current == 0)
        let records = world.flows.records.values
        #expect(records.allSatisfy { $0.outcome == .denyMTLS })
        #expect(records.contains { $0.detail == "plaintext-refused" })
        #expect(records.contains { $0.detail == "bad-certificate" })
    }
}

/// Resident memory per attached pod (issue 14 goal: ≤ 1 MiB per meshed pod).
@Suite("Mesh proxy: memory", .serialized)
struct MeshMemoryTests {
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Resident set growth can hide in pages the process freed earlier (run this suite alone for
    /// the figure: `swift test --filter MeshMemoryTests`); the bound holds either way.
    @Test("attaching 100 pods costs under 1 MiB of resident memory each")
    func perPod() throws {
        let world = MeshTestWorld()
        let ca = try LabCA(folder: world.stateFolder)
        let proxy = try MeshProxy(
            labName: world.tag, ca: ca, cluster: { MeshFixtures.cluster() }, intents: MeshIntents(), flows: MeshFlowLog())
        defer {
            proxy.shutdown()
            ca.remove()
            world.tearDown()
        }
        var namespaces: [String] = []
        for index in 0..<101 {
            let name = "kc-\(world.tag).m\(index)"
            try NetworkNamespace.create(name)
            namespaces.append(name)
        }
        defer { for name in namespaces { try? NetworkNamespace.delete(name) } }
        // One attachment first: the event loops and code pages are then warm.
        try proxy.attach(pod: ObjectKey("m", "p0"), namespace: namespaces[0], address: IPv4(UInt32(0x0A7F_0000)))
        let before = Self.residentBytes()
        for index in 1..<101 {
            try proxy.attach(pod: ObjectKey("m", "p\(index)"), namespace: namespaces[index], address: IPv4(UInt32(0x0A7F_0000 + index)))
        }
        let after = Self.residentBytes()
        let residentPerPod = Double(after - before) / 100
        print("mesh memory: \(String(format: "%.1f", residentPerPod / 1024)) KiB resident per attached pod")
        #expect(proxy.attachedPods.count == 101)
        #expect(residentPerPod < 1024 * 1024)
    }
}
