import KeycardModel
import KeycardRuleset

/// Flattens one ingress or egress rule of one policy into allow tuples of one protected pod.
///
/// Pod peers go to the exact set (`peer . proto . port`) or, without ports, to the peers set;
/// address ranges (ipBlock minus except, every address when the rule names no peer), `endPort`
/// ranges and protocol-only ports become boxes. Named ports resolve on the destination: for
/// ingress the protected pod, for egress each peer pod.
struct RuleFlattener {
    let cluster: Cluster
    /// What the rule's peers stand for (`CompileCache.peers`, or the incremental compiler's copy).
    let peers: CompileCache.Peers
    let policy: NetworkPolicy
    let direction: NetworkPolicy.PolicyType
    let index: Int
    let rule: NetworkPolicy.Rule

    /// `ns/policy#ingress[i]`: the contribution's name, shown as the element's source.
    var contribution: String { "\(policy.key)#\(direction.rawValue.lowercased())[\(index)]" }

    /// Adds what the rule allows for `protected` to `tuples`.
    func contribute(to tuples: inout AllowTuples, protected: Pod) {
        let source = contribution
        let podAddresses = peers.all ? [] : peers.podAddresses
        guard let ports = rule.ports, !ports.isEmpty else {
            for address in podAddresses { tuples.addAny(peer: address, by: source) }
            for range in peers.ranges {
                tuples.addBox(TupleBox(addresses: range, protocols: TupleBox.anyProtocol, ports: TupleBox.anyPort), by: source)
            }
            return
        }
        for port in ports {
            let proto = port.proto.number
            let protocols = UInt32(proto)...UInt32(proto)
            /// One port range for every peer of the rule.
            func allow(_ ports: ClosedRange<UInt32>) {
                for address in podAddresses {
                    if ports.count == 1 {
                        tuples.addExact(peer: address, proto: proto, port: UInt16(ports.lowerBound), by: source)
                    } else {
                        tuples.addBox(TupleBox(addresses: address...address, protocols: protocols, ports: ports), by: source)
                    }
                }
                for range in peers.ranges { tuples.addBox(TupleBox(addresses: range, protocols: protocols, ports: ports), by: source) }
            }
            switch port.port {
            case nil:
                allow(TupleBox.anyPort)
            case .number(let first):
                let end = port.endPort ?? first
                allow(UInt32(min(first, end))...UInt32(max(first, end)))
            case .name(let name):
                if direction == .ingress {
                    for number in Set(protected.resolve(portName: name, proto: port.proto)).sorted() {
                        allow(UInt32(number)...UInt32(number))
                    }
                } else {
                    // Only pods declare named ports: each peer pod with its own numbers.
                    for pod in peers.pods {
                        guard let address = cluster.addresses[pod.key]?.value else { continue }
                        for number in Set(pod.resolve(portName: name, proto: port.proto)).sorted() {
                            tuples.addExact(peer: address, proto: proto, port: UInt16(number), by: source)
                        }
                    }
                }
            }
        }
    }
}
