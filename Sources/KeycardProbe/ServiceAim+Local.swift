import KeycardModel
import KeycardRuleset
import KeycardValues

extension ServiceAim {
    /// The endpoints the proxy of `source`'s node spreads `port` of Service `key` over, in its
    /// order (`ClusterIPPath`: all of them, or under internalTrafficPolicy Local or
    /// PreferSameNode that node's own).
    func endpoints(from source: ObjectKey, _ key: ObjectKey, _ port: ProtocolPort) -> [ServiceBackend]? {
        guard let all = routes[key]?[port] else { return nil }
        guard let service = cluster.services[key], service.internalTrafficPolicy == .local || service.prefersSameNode,
            let servicePort = service.ports.first(where: { $0.protocolPort == port })
        else { return all }
        return ClusterIPPath.endpoints(cluster, service, servicePort, node: cluster.clientNode(of: cluster.source(source)))
    }

    /// For a cell from `source` to `.service(key, backend)` whose backend the proxy of the source's
    /// node never reaches (internalTrafficPolicy Local, the backend on another node): the source
    /// port that would send it there if that proxy held every endpoint, so a datapath ignoring
    /// Local is caught reaching it; nil for any other cell. The model expects the cell lost: the
    /// node drops it (no local endpoint) or sends it to one of its own endpoints instead.
    public func strayPort(from source: ObjectKey, _ destination: Endpoint, _ port: ProtocolPort, used: inout Set<UInt16>) -> UInt16? {
        guard case .service(let key, let pod?) = destination, let all = routes[key]?[port],
            let index = all.firstIndex(where: { $0.pod == pod }),
            endpoints(from: source, key, port)?.contains(all[index]) == false
        else { return nil }
        return freeSourcePort(landingOn: index, of: all.count, used: &used)
    }
}
