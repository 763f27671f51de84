import CLinuxShim
import Foundation
import Glibc
import KeycardKernel
import KeycardLab
import KeycardModel
import KeycardProbe
import KeycardScenario
import KeycardTopology
import KeycardValues

// keycard-bench-mesh [requests] [connections] [pods] — root, release build. The mesh data plane's
// costs, each against a baseline measured in the same run and the same lab (issue 14, point 7):
// 1. latency of a request (64 bytes echoed on one kept-alive connection, `requests` times) from a
//    sidecar pod through both proxies (client side: capture, mTLS with its SVID; server side:
//    handshake verified against the lab CA, authorization, splice) vs the same request between
//    two pods outside the mesh: p50/p99 and the p50 added per proxy hop;
// 2. new connections per second through both proxies (each a TLS 1.3 handshake with client
//    certificates, authorization and the application's answer) vs direct, `connections` each;
// 3. resident memory per meshed pod: the process's RSS before the proxy attaches to `pods` meshed
//    pods and after it has served one connection to each (SVIDs issued, TLS contexts built).
// Istio's published figures for comparison: +2.76 ms p90 for two sidecar hops, ~60 MB per sidecar.

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let requests = arguments.count > 0 ? arguments[0] : 5000
let connections = arguments.count > 1 ? arguments[1] : 1000
let memoryPods = arguments.count > 2 ? arguments[2] : 200
let echoPort: UInt16 = 7000

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

func scenario(name: String, meshedPods: Int) -> String {
    var lines = [
        "apiVersion: keycard/v1", "kind: Scenario", "metadata: {name: \(name)}", "spec:", "  resources:",
        "    - {apiVersion: v1, kind: Namespace, metadata: {name: mesh, labels: {istio-injection: enabled}}}",
        "    - {apiVersion: v1, kind: Namespace, metadata: {name: plain}}",
    ]
    for index in 0..<meshedPods {
        lines.append(
            "    - {apiVersion: v1, kind: Pod, metadata: {name: m\(index), namespace: mesh}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}"
        )
    }
    for name in ["c", "d"] {
        lines.append(
            "    - {apiVersion: v1, kind: Pod, metadata: {name: \(name), namespace: plain}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}"
        )
    }
    return lines.joined(separator: "\n") + "\n"
}

/// A lab of the scenario with its servers, policies and mesh, as `keycard run` builds them.
final class MeshLab {
    let lab: LabInstance
    let timeline: Timeline
    let server: PortServer
    var mesh: LabMesh?
    let namespaces: [ObjectKey: String]

    init(meshedPods: Int, attachMesh: Bool = true) throws {
        let name = "kcm\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
        let path = NSTemporaryDirectory() + "\(name).yaml"
        try scenario(name: name, meshedPods: meshedPods).write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        timeline = try ScenarioLoader.timeline(path)
        lab = try Lab.up(spec: LabSpec(timeline, labName: name))
        server = try PortServer(endpoints: LabServing.endpoints(lab.plan), clientFirst: true)
        let policies = LabPolicies(
            plan: lab.plan, nodes: timeline.plan.nodes, enforcement: .pod, fresh: true, meshLayout: true)
        try policies.program(timeline.initial)
        namespaces = LabServing.podNamespaces(lab.plan)
        if attachMesh { try startMesh() }
    }

    func startMesh() throws {
        let mesh = try LabMesh(lab: lab, timeline: timeline, connectTimeout: .seconds(1))
        try mesh.program(timeline.initial)
        self.mesh = mesh
    }

    func address(_ namespace: String, _ name: String) -> IPv4 {
        guard let address = timeline.initial.addresses[ObjectKey(namespace, name)] else {
            fatalError("no address for \(namespace)/\(name)")
        }
        return address
    }

    func netns(_ namespace: String, _ name: String) -> String {
        guard let netns = namespaces[ObjectKey(namespace, name)] else { fatalError("no namespace for \(namespace)/\(name)") }
        return netns
    }

    func tearDown() {
        mesh?.tearDown()
        server.stop()
        _ = try? Lab.down(name: lab.plan.labName)
    }
}

/// A blocking TCP socket created in `namespace` and connected to `address:port`.
func connectSocket(in namespace: String, to address: IPv4, port: UInt16) throws -> Int32 {
    try NetworkNamespace.perform(in: namespace) { () throws -> Int32 in
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = address.value.bigEndian
        let result = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw KernelError("connect", subject: "\(address):\(port)", errno: code)
        }
        return fd
    }
}

/// An echo server on `port` in `namespace` (the benchmark's own application: kept-alive
/// connections, each echoed until the client closes), one thread per connection.
func startEcho(in namespace: String, port: UInt16) throws {
    let listener = try NetworkNamespace.perform(in: namespace) { () throws -> Int32 in
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(fd, 64)
        return fd
    }
    Thread.detachNewThread {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 { return }
            Thread.detachNewThread {
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let count = read(fd, &buffer, buffer.count)
                    if count <= 0 { break }
                    _ = write(fd, buffer, count)
                }
                close(fd)
            }
        }
    }
}

/// `count` round trips of 64 bytes on one connection; each round trip's milliseconds.
func roundTrips(_ fd: Int32, count: Int) -> [Double] {
    let message = [UInt8](repeating: 0x6b, count: 64)
    var buffer = [UInt8](repeating: 0, count: 64)
    let clock = ContinuousClock()
    var samples: [Double] = []
    samples.reserveCapacity(count)
    for _ in 0..<count {
        let start = clock.now
        _ = write(fd, message, message.count)
        var received = 0
        while received < message.count {
            let got = buffer[received...].withUnsafeMutableBytes { read(fd, $0.baseAddress, message.count - received) }
            if got <= 0 { return samples }
            received += got
        }
        samples.append(milliseconds(clock.now - start))
    }
    return samples
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

/// New connections from `namespace` to `address:80` (the lab's client-first line server), each
/// sending the probe line and reading the pod's answer; connections per second.
func connectionRate(from namespace: String, to address: IPv4, count: Int, expect line: String) throws -> (perSecond: Double, failed: Int) {
    let clock = ContinuousClock()
    let start = clock.now
    var failed = 0
    for _ in 0..<count {
        let fd = try connectSocket(in: namespace, to: address, port: 80)
        let probe = Array("keycard-probe\n".utf8)
        _ = write(fd, probe, probe.count)
        var buffer = [UInt8](repeating: 0, count: 256)
        var received: [UInt8] = []
        while !received.contains(10) {
            let got = read(fd, &buffer, buffer.count)
            if got <= 0 { break }
            received += buffer.prefix(got)
        }
        if String(decoding: received, as: UTF8.self) != line + "\n" { failed += 1 }
        close(fd)
    }
    return (Double(count) / (milliseconds(clock.now - start) / 1000), failed)
}

/// Bytes the process's heap holds in use (glibc `mallinfo2`): unlike RSS, not hidden by pages freed
/// earlier and reused.
func heapInUse() -> Int { Int(kc_heap_in_use()) }

func residentKiB() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
    return 0
}

var status: Int32 = 0

// 1 and 2: two meshed pods (m0 -> m1) and two outside the mesh (c -> d) in one lab.
do {
    let lab = try MeshLab(meshedPods: 2)
    defer { lab.tearDown() }
    try startEcho(in: lab.netns("mesh", "m1"), port: echoPort)
    try startEcho(in: lab.netns("plain", "d"), port: echoPort)
    usleep(100_000)
    var results: [String: [Double]] = [:]
    for (label, from, to) in [
        ("direct", lab.netns("plain", "c"), lab.address("plain", "d")), ("mesh", lab.netns("mesh", "m0"), lab.address("mesh", "m1")),
    ] {
        let fd = try connectSocket(in: from, to: to, port: echoPort)
        _ = roundTrips(fd, count: 200)  // warm-up
        results[label] = roundTrips(fd, count: requests)
        close(fd)
    }
    let direct = results["direct"] ?? []
    let mesh = results["mesh"] ?? []
    if direct.count < requests || mesh.count < requests {
        print("FAILED: echo round trips cut short (direct \(direct.count), mesh \(mesh.count) of \(requests))")
        status = 1
    }
    let added = percentile(mesh, 0.5) - percentile(direct, 0.5)
    print("request latency, \(requests) round trips of 64 bytes on one kept-alive connection:")
    print(String(format: "  direct (no mesh)       p50 %.3f ms  p99 %.3f ms", percentile(direct, 0.5), percentile(direct, 0.99)))
    print(String(format: "  through two proxies    p50 %.3f ms  p99 %.3f ms", percentile(mesh, 0.5), percentile(mesh, 0.99)))
    print(
        String(
            format: "  added: p50 %.3f ms for two hops, %.3f ms per hop (goal <= 0.2 ms; Istio: +2.76 ms p90 for two hops)", added,
            added / 2))
    print(String(format: "  added p99: %.3f ms for two hops", percentile(mesh, 0.99) - percentile(direct, 0.99)))

    let directRate = try connectionRate(from: lab.netns("plain", "c"), to: lab.address("plain", "d"), count: connections, expect: "plain/d")
    let meshRate = try connectionRate(from: lab.netns("mesh", "m0"), to: lab.address("mesh", "m1"), count: connections, expect: "mesh/m1")
    print("new connections, \(connections) sequential, each answered by the application:")
    print(String(format: "  direct (no mesh)                 %8.0f /s", directRate.perSecond))
    print(
        String(
            format: "  mTLS handshakes through proxies  %8.0f /s  (%.1f %% of direct)", meshRate.perSecond,
            100 * meshRate.perSecond / directRate.perSecond))
    if directRate.failed + meshRate.failed > 0 {
        print("FAILED: \(directRate.failed) direct and \(meshRate.failed) mesh connections got no answer")
        status = 1
    }
} catch {
    print("FAILED latency/handshakes: \(error)")
    status = 1
}

// 3: memory per meshed pod.
do {
    let lab = try MeshLab(meshedPods: memoryPods, attachMesh: false)
    defer { lab.tearDown() }
    let before = residentKiB()
    let heapBefore = heapInUse()
    try lab.startMesh()
    var failed = 0
    for index in 0..<memoryPods {
        // One connection into each pod from its neighbour: its SVID and server context exist.
        let from = lab.netns("mesh", "m\((index + 1) % memoryPods)")
        let rate = try connectionRate(from: from, to: lab.address("mesh", "m\(index)"), count: 1, expect: "mesh/m\(index)")
        failed += rate.failed
    }
    let after = residentKiB()
    let heapAfter = heapInUse()
    let perPod = Double(after - before) / Double(memoryPods) / 1024
    let heapPerPod = Double(heapAfter - heapBefore) / Double(memoryPods) / 1024 / 1024
    print("resident memory of the proxy: \(before / 1024) MiB before, \(after / 1024) MiB after serving \(memoryPods) meshed pods")
    print(String(format: "  %.3f MiB resident per meshed pod (goal <= 1 MiB; Istio: ~60 MB per sidecar)", perPod))
    print(String(format: "  %.3f MiB of heap in use per meshed pod (listeners, SVID, TLS context, one served connection)", heapPerPod))
    if failed > 0 {
        print("FAILED: \(failed) pods did not answer through the mesh")
        status = 1
    }
} catch {
    print("FAILED memory: \(error)")
    status = 1
}
exit(status)
