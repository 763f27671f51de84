import Foundation
import Glibc
import KeycardKernel
import KeycardTestSupport
import KeycardValues

/// N pod namespaces routed through one router namespace (pod i: 10.78.i.2/24, gateway 10.78.i.1),
/// built with `ip` (the tests' witness tool; product code never spawns it).
struct NflogPods {
    let world = SocketsTestWorld()
    let pods: [String]

    static func address(_ index: Int) -> IPv4 { IPv4(10 << 24 | 78 << 16 | UInt32(index) << 8 | 2) }

    init(count: Int) throws {
        let world = self.world
        let router = try world.namespace("router")
        let pods = try (0..<count).map { try world.namespace("pod.nflog.p\($0)") }
        self.pods = pods
        var routerBatch = ""
        for (index, pod) in pods.enumerated() {
            routerBatch += "link add r\(index) type veth peer name eth0 netns \(pod)\n"
            routerBatch += "addr add 10.78.\(index).1/24 dev r\(index)\nlink set r\(index) up\n"
        }
        try SocketsTestWorld.ip(["-n", router, "-b", "-"], stdin: routerBatch)
        for (index, pod) in pods.enumerated() {
            try SocketsTestWorld.ip(
                ["-n", pod, "-b", "-"],
                stdin: """
                    addr add \(Self.address(index))/24 dev eth0
                    link set eth0 up
                    route add default via 10.78.\(index).1

                    """)
        }
        try SocketsTestWorld.run("/usr/sbin/ip", ["netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
    }

    func endpoints(_ ports: [(TransportProtocol, UInt16)]) -> [ServedEndpoint] {
        pods.enumerated().flatMap { index, pod in
            ports.map { ServedEndpoint(namespace: pod, address: Self.address(index), proto: $0.0, port: $0.1, line: "nflog/p\(index)") }
        }
    }

    struct MeshProbe {
        let request: ProbeRequest
        let source: Int
        let target: Int
    }

    /// Every pod to every pod (itself included) on every port.
    func meshRequests(_ ports: [(TransportProtocol, UInt16)]) -> [MeshProbe] {
        var probes: [MeshProbe] = []
        for source in pods.indices {
            for target in pods.indices {
                for (proto, port) in ports {
                    let request = ProbeRequest(sourceNamespace: pods[source], destination: Self.address(target), proto: proto, port: port)
                    probes.append(MeshProbe(request: request, source: source, target: target))
                }
            }
        }
        return probes
    }

    /// Replaces table `inet kc-nflog` in every pod with an input chain that drops everything arriving on
    /// eth0 (loopback and replies pass), logging to group 7 with prefix `prefix(i)` when asked.
    func dropAllIngress(logging: Bool) throws {
        for (index, pod) in pods.enumerated() {
            let log = logging ? "log prefix \"\(Self.prefix(index))\" group 7 " : ""
            try world.nft(
                in: pod,
                """
                table inet kc-nflog {}
                delete table inet kc-nflog
                table inet kc-nflog {
                  chain input { type filter hook input priority 0; policy accept;
                    ct state established,related accept
                    iifname "lo" accept
                    iifname "eth0" \(log)counter drop
                  }
                }
                """)
        }
    }

    /// Removes table `inet kc-nflog` from every pod (everything allowed again).
    func allowAll() throws {
        for pod in pods {
            try world.nft(in: pod, "table inet kc-nflog {}\ndelete table inet kc-nflog\n")
        }
    }

    static func prefix(_ index: Int) -> String { "kc deny ingress nflog/p\(index)" }
}

/// A socket made inside a lab namespace (checked: never the host's) and bound to a chosen address and
/// port, so the test knows the whole 4-tuple of what it sends.
final class BoundTestSocket: Sendable {
    let fd: Int32
    let isStream: Bool

    init(namespace: String, proto: TransportProtocol, address: IPv4, port: UInt16) throws {
        isStream = proto != .udp
        let type = isStream ? SOCK_STREAM : SOCK_DGRAM
        fd = try NetworkNamespace.perform(in: namespace) {
            socket(AF_INET, Int32(type.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        }
        guard fd >= 0 else { throw WitnessError("socket: errno \(errno)") }
        let inode = try NetworkNamespace.inode(ofSocket: fd)
        guard inode == NetworkNamespace.inode(of: namespace), inode != NetworkNamespace.hostInode() else {
            close(fd)
            throw WitnessError("socket not in \(namespace)")
        }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var local = Self.address(address, port)
        let rc = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw WitnessError("bind \(address):\(port): errno \(errno)") }
    }

    deinit { close(fd) }

    /// UDP: one datagram; TCP: a non-blocking connect (its SYN).
    func send(to address: IPv4, port: UInt16) throws {
        var remote = Self.address(address, port)
        let payload: [UInt8] = Array("nflog-test\n".utf8)
        let size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc: Int = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { target -> Int in
                if isStream { return Int(connect(fd, target, size)) }
                return payload.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), target, size) }
            }
        }
        // EINPROGRESS: the SYN is on its way.
        if rc < 0 && errno != EINPROGRESS { throw WitnessError("send to \(address):\(port): errno \(errno)") }
    }

    static func address(_ address: IPv4, _ port: UInt16) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = address.value.bigEndian
        return addr
    }
}
