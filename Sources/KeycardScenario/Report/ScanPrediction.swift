import KeycardModel
import KeycardValues

extension Cluster {
    /// The endpoints a TCP connect scan from `source` covers, with the model's prediction for each
    /// port: `filtered` where nothing answers (an address with no endpoint, or a policy denies),
    /// `refused` where the mesh refuses, else `open` or `closed` as the endpoint serves the port.
    /// One model for a scan step of a scenario (`Timeline.scanTargets`) and `keycard scan` on a
    /// live lab.
    /// - Parameters:
    ///   - targets: every pod but the source, or every address of a CIDR but the source's.
    ///   - ports: TCP port numbers, scanned in this order for each address.
    ///   - meshIdentity: what the scanner presents to meshed destinations; nil judges no mesh.
    /// - Returns: one target per address and port, addresses in `targets` order.
    public func scanTargets(from source: ObjectKey, _ targets: ScanStep.Targets, ports: [Int], meshIdentity: ProbeIdentity?)
        -> [(endpoint: Endpoint, ip: IPv4, port: Int, model: ScanState)]
    {
        let engine = PolicyEngine(self)
        let mesh = meshIdentity.map { (engine: MeshEngine(self), request: MeshRequest(identity: $0)) }
        func meshVerdict(_ endpoint: Endpoint, _ port: ProtocolPort) -> MeshVerdict? {
            mesh.map { $0.engine.evaluate(from: source, to: endpoint, port: port, request: $0.request) }
        }
        let ownIP = addresses[source]
        var scanned: [IPv4] = []
        switch targets {
        case .pods:
            scanned = sortedPods.filter { $0.key != source }.compactMap { addresses[$0.key] }
        case .cidr(let cidr):
            var value = cidr.network
            while true {
                if IPv4(value) != ownIP { scanned.append(IPv4(value)) }
                if value == cidr.last { break }
                value += 1
            }
        }
        var result: [(Endpoint, IPv4, Int, ScanState)] = []
        for ip in scanned {
            let endpoint = endpoint(at: ip)
            for port in ports {
                let tcp = ProtocolPort(.tcp, port)
                let state: ScanState
                if case .address = endpoint {
                    state = .filtered
                } else if engine.evaluate(fromSource: source, to: endpoint, port: tcp, mesh: meshVerdict(endpoint, tcp)).decision == .deny {
                    state = .filtered
                } else if let verdict = meshVerdict(endpoint, tcp), verdict.outcome != .allow {
                    state = .refused
                } else {
                    state = servedPorts(of: endpoint).contains(tcp) ? .open : .closed
                }
                result.append((endpoint, ip, port, state))
            }
        }
        return result
    }
}
