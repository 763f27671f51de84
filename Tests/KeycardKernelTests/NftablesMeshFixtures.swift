import KeycardRuleset
import KeycardValues

extension NftFixtures {
    /// The mesh's capture table as `MeshRedirectCompiler` emits it (written out here: the kernel
    /// tests do not depend on the compiler): inbound TCP to 15006, outbound TCP to 15001, the
    /// proxy's ports, marked sockets and loopback exempt.
    static func meshRedirect(name: String = "kc-test-mesh") -> Table {
        let tcp: Match = .l4proto(6)
        return Table(
            name: name, family: .ip,
            chains: [
                Chain(
                    name: "mesh-inbound", base: BaseChain(type: .nat, hook: .prerouting, priority: -100),
                    rules: [
                        Rule([.iifname("lo")], verdict: .accept, comment: "loopback"),
                        Rule([tcp, .dport(MeshDataPath.outboundPort)], verdict: .accept, comment: "proxy port"),
                        Rule([tcp, .dport(MeshDataPath.inboundPort)], verdict: .accept, comment: "proxy port"),
                        Rule([tcp], verdict: .redirect(port: MeshDataPath.inboundPort), comment: "inbound"),
                    ]),
                Chain(
                    name: "mesh-outbound", base: BaseChain(type: .nat, hook: .output, priority: -110),
                    rules: [
                        Rule([.mark(MeshDataPath.bypassMark)], verdict: .accept, comment: "proxy sockets"),
                        Rule([.mark(0x2A, negated: true), .oifname("lo")], verdict: .accept, comment: "loopback"),
                        Rule([tcp], verdict: .redirect(port: MeshDataPath.outboundPort), comment: "outbound"),
                    ]),
            ])
    }
}
