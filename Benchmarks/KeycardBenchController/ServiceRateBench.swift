import Foundation
import KeycardCompiler
import KeycardKernel
import KeycardModel
import KeycardRuleset
import KeycardValues

/// (c) New TCP connections per second from A through a ClusterIP to B, with N Services in A's
/// proxy table (`ServiceProxyCompiler`, pod placement: A's nat output hook, kube-proxy's layout,
/// programmed through libnftnl). Every Service has its own ClusterIP in 10.98.0.0/16, three ports
/// and two endpoints (filler pods that do not exist); the measured Service, the last one, has one
/// endpoint, B. Each new connection meets one `service-ips` verdict-map lookup, the Service's hash
/// rule and the endpoint's DNAT, whatever N. Configurations are measured in interleaved rounds.
struct ServiceRateBench {
    let counts: [Int]
    let rounds: Int
    let duration: Double

    struct Setup {
        let count: Int
        let pair: RatePair
        let programmer: NftablesProgrammer
        let table: Table
        let clusterIP: UInt32
    }

    static let servicePort: UInt16 = 80

    /// N Services; the last one's only endpoint is B (10.99.0.2:8080).
    static func cluster(services count: Int) -> (Cluster, clusterIP: UInt32) {
        var cluster = Cluster()
        let server = Pod(namespace: "bench", name: "server", labels: ["app": "server"])
        cluster.pods[server.key] = server
        cluster.addresses[server.key] = RatePair.serverAddress
        for index in 0..<(2 * count) {
            let filler = Pod(namespace: "bench", name: "filler-\(index)", labels: ["svc": "s\(index / 2)"])
            cluster.pods[filler.key] = filler
            cluster.addresses[filler.key] = IPv4(0x0AF4_0000 + UInt32(index) + 2)
        }
        var measured: UInt32 = 0
        for index in 0..<count {
            let last = index == count - 1
            let address = RatePair.serviceNetwork.value + 11 + UInt32(index)
            if last { measured = address }
            let service = Service(
                namespace: "bench", name: "s\(index)", selector: last ? ["app": "server"] : ["svc": "s\(index)"],
                address: .ip(IPv4(address)),
                ports: [
                    ServicePort(name: "http", port: Int(servicePort), target: .number(BenchClusters.port)),
                    ServicePort(name: "admin", port: 9000, target: .number(9090)),
                    ServicePort(name: "dns", proto: .udp, port: 53),
                ])
            cluster.services[service.key] = service
        }
        return (cluster, measured)
    }

    func run() throws -> [(count: Int, chains: Int, rate: Double, failures: Int)] {
        var setups: [Setup] = []
        defer {
            for setup in setups {
                _ = try? setup.programmer.remove(setup.table)
                setup.pair.close()
            }
        }
        for count in counts {
            let lab = "\(benchLab)-svc\(count)"
            let pair = try RatePair(lab: lab)
            try pair.addServiceRoute()
            let (cluster, clusterIP) = Self.cluster(services: count)
            let (compiled, compile) = timed { ServiceProxyCompiler(labName: lab, placement: .pod).compile(cluster) }
            guard let table = compiled else { throw BenchError("no proxy table for \(count) Services") }
            let programmer = try NftablesProgrammer(namespace: pair.client)
            let (report, program) = try timed { try programmer.apply(old: nil, new: table) }
            setups.append(Setup(count: count, pair: pair, programmer: programmer, table: table, clusterIP: clusterIP))
            say(
                "    \(count) Services (\(table.chains.count) chains, \(table.sets.first?.elements.count ?? 0) map elements):",
                "compiled in \(ms(compile)), programmed in \(ms(program)) (\(report?.messages.count ?? 0) messages)")
        }
        for setup in setups {
            let warm = try setup.pair.rate(for: 0.3, to: (setup.clusterIP, Self.servicePort))
            guard warm.rate > 0 else {
                throw BenchError("\(setup.count) Services: no connection got through the ClusterIP (\(warm.failures) failed)")
            }
        }
        var rates: [Int: [Double]] = [:]
        var failures: [Int: Int] = [:]
        for _ in 0..<rounds {
            for setup in setups {
                let measured = try setup.pair.rate(for: duration, to: (setup.clusterIP, Self.servicePort))
                rates[setup.count, default: []].append(measured.rate)
                failures[setup.count, default: 0] += measured.failures
            }
        }
        return setups.map { ($0.count, $0.table.chains.count, median(rates[$0.count] ?? []), failures[$0.count] ?? 0) }
    }
}
