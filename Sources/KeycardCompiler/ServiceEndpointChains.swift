import KeycardModel
import KeycardRuleset

/// The chains that spread one Service port over its endpoints, as kube-proxy's nftables proxier
/// builds them for both a ClusterIP (`service-` chain) and a node port (`external-` chain)
/// (kubernetes/kubernetes pkg/proxy/nftables/proxier.go): the dispatch chain picks an endpoint
/// and goes to its `endpoint-` chain, which DNATs to it.
enum ServiceEndpointChains {
    /// `chain` picks endpoint `index` of `endpoints` by the source-port hash (`ServiceHash`, so a
    /// prober can aim) and goes to that endpoint's chain, which runs `prelude` (the node ports'
    /// masquerade mark) and DNATs to the endpoint's address and target port. Without endpoints
    /// `chain` counts and drops, its comment ending in `why`. Returns the endpoint chains, then `chain`.
    static func chains(
        _ chain: String, _ service: Service, _ port: ServicePort, endpoints: [ServiceBackend], none why: String,
        prelude: (ServiceBackend) -> [Rule] = { _ in [] }
    ) -> [Chain] {
        var rules: [Rule] = []
        if endpoints.isEmpty {
            rules.append(Rule(counter: true, verdict: .drop, comment: "\(service.key) \(port.protocolPort) \(why)"))
        }
        var chains: [Chain] = []
        for (index, backend) in endpoints.enumerated() {
            let endpointChain = ServiceProxyCompiler.endpointChainName(service, port, backend)
            rules.append(
                Rule(
                    [.sportHash(modulus: UInt32(endpoints.count), seed: ServiceHash.seed, value: UInt32(index))],
                    verdict: .goto(endpointChain)))
            // `meta l4proto tcp dnat ip to A:P`, as kube-proxy writes it: nft accepts a port
            // mapping only after a transport protocol match, so the printed rules load as written.
            let dnat = Rule(
                [.l4proto(port.proto.number)],
                verdict: .dnat(address: backend.address.value, port: UInt16(backend.target.port)),
                comment: "\(service.key) -> \(backend.pod)")
            chains.append(Chain(name: endpointChain, rules: prelude(backend) + [dnat]))
        }
        return chains + [Chain(name: chain, rules: rules)]
    }
}
