import KeycardModel
import KeycardRuleset
import KeycardValues

/// Compiles the mesh's capture for one meshed pod (spec mesh.md 2.8): a table in the pod's own
/// namespace, in both placements, that sends the pod's inbound and outbound TCP to the lab proxy's
/// listeners (`MeshDataPath`), the way Istio's sidecar iptables rules (`istio-iptables`) and
/// istio-cni's ambient rules do, with nftables `redirect`:
///
/// ```
/// table ip kc-LAB-mesh {
///   chain mesh-inbound {
///     type nat hook prerouting priority -100; policy accept;
///     iifname "lo" accept                      # the pod itself, and what the outbound capture sent to the proxy
///     meta l4proto tcp th dport 15001 accept   # the proxy's own ports are never captured
///     meta l4proto tcp th dport 15006 accept
///     meta l4proto tcp th dport 15008 accept   # HBONE tunnels reach the proxy's 15008 listener as they are
///     meta l4proto tcp redirect to :15006      # TCP arriving at the pod
///   }
///   chain mesh-outbound {
///     type nat hook output priority -110; policy accept;
///     meta mark 0x00006b63 accept              # the proxy's own sockets (SO_MARK)
///     oifname "lo" accept                      # the pod reaching itself or 127.0.0.0/8
///     meta l4proto tcp redirect to :15001      # TCP the pod's own sockets open
///   }
/// }
/// ```
///
/// Family `ip`: the lab and the proxy are IPv4 only, and `redirect` then needs no `meta nfproto`.
/// UDP and SCTP are never captured (R56): only `meta l4proto tcp` reaches a `redirect`.
///
/// Priorities: nat chains of one hook run in priority order and the first that maps a connection
/// decides (`nf_nat_inet_fn` stops once the mapping is set). The outbound chain runs at
/// `outboundPriority` (-110), just before the Service proxy's output DNAT (-100, pod placement,
/// `ServiceProxyCompiler`): a meshed pod's connection to a ClusterIP reaches the proxy with the
/// ClusterIP as its original destination, and the proxy resolves the Service itself, as Envoy does;
/// its own upstream connection is marked, passes this chain and meets the Service DNAT as usual.
/// The inbound chain is at dstnat (-100); pod namespaces hold no other prerouting nat.
///
/// The loopback exemption follows Istio's `ISTIO_OUTPUT` (`-o lo ... -j RETURN` for the
/// application's own traffic): traffic routed to `lo` is the pod reaching itself, never judged
/// (R58), so it bypasses the proxy; inbound, `iifname "lo"` keeps the proxy's delivery to the
/// application and the outbound capture's hop to 127.0.0.1:15001 from being captured again.
public struct MeshRedirectCompiler: Sendable {
    public var labName: String

    public init(labName: String) { self.labName = labName }

    /// `kc-LAB-mesh`, next to the policy table `kc-LAB` and the Service table `kc-LAB-svc`.
    public var tableName: String { "kc-\(labName)-mesh" }

    /// The family of the table.
    public static let family: TableFamily = .ip
    /// dstnat: the inbound capture in the pod's prerouting.
    public static let inboundPriority: Int32 = -100
    /// Before the Service proxy's output DNAT at -100, so the mesh maps first.
    public static let outboundPriority: Int32 = -110

    /// The capture table of one meshed pod (the same for every pod of the lab but for a sidecar's
    /// capture annotations: redirect maps to the namespace's own address, so nothing in it names
    /// the pod). `inbound: false` leaves the
    /// inbound chain out: the capture of a pod outside the mesh whose probes present a forged or
    /// stolen certificate (spec mesh.md 2.4), where the lab proxy stands for the attacker's TLS
    /// client and nothing inbound is proxied.
    ///
    /// `capture`: a sidecar pod's `SidecarCapture` (its `traffic.sidecar.istio.io` annotations),
    /// applied as `istio-iptables` applies them: excluded outbound ports and IP ranges are accepted
    /// before the outbound redirect; with an `includeOutboundIPRanges` list only the included
    /// ports and ranges are redirected (an empty list and `interceptionMode: NONE` redirect
    /// nothing); inbound, with every port included the excluded ports are accepted before the
    /// redirect, with a list only its ports are redirected. An ambient pod in ingress mode
    /// (`ambient.istio.io/bypass-inbound-capture`) gets a capture that includes no inbound port.
    public func table(inbound captureInbound: Bool = true, capture: SidecarCapture = SidecarCapture()) -> Table {
        let tcp: Match = .l4proto(TransportProtocol.tcp.number)
        let exemptPorts = MeshDataPath.proxyPorts.sorted().map { port in
            Rule([tcp, .dport(port)], verdict: .accept, comment: "the proxy's own port \(port) is never captured")
        }
        let redirectInbound: [Rule]
        if let included = capture.includedInboundPorts {
            redirectInbound = included.sorted().map { port in
                Rule(
                    [tcp, .dport(UInt16(port))], verdict: .redirect(port: MeshDataPath.inboundPort),
                    comment: "inbound TCP/\(port) to the mesh proxy (includeInboundPorts)")
            }
        } else {
            redirectInbound =
                capture.excludedInboundPorts.sorted().map { port in
                    Rule([tcp, .dport(UInt16(port))], verdict: .accept, comment: "TCP/\(port) not captured (excludeInboundPorts)")
                } + [Rule([tcp], verdict: .redirect(port: MeshDataPath.inboundPort), comment: "inbound TCP to the mesh proxy")]
        }
        let inbound = Chain(
            name: "mesh-inbound", base: BaseChain(type: .nat, hook: .prerouting, priority: Self.inboundPriority),
            rules: [Rule([.iifname("lo")], verdict: .accept, comment: "loopback: the pod itself and the proxy's own hops")]
                + exemptPorts + redirectInbound)
        let excludedOutbound =
            capture.excludedOutboundPorts.sorted().map { port in
                Rule([tcp, .dport(UInt16(port))], verdict: .accept, comment: "TCP/\(port) not captured (excludeOutboundPorts)")
            }
            + capture.excludedOutboundRanges.map { block in
                Rule(
                    [.daddr(prefix: block.network, length: UInt8(block.prefixLength))], verdict: .accept,
                    comment: "\(block) not captured (excludeOutboundIPRanges)")
            }
        let redirectOutbound: [Rule]
        if let includedRanges = capture.includedOutboundRanges {
            // istio-iptables' `handleOutboundPortsInclude`, then `handleOutboundIncludeRules` with
            // a list: only the included ports and ranges reach the proxy; the rest passes.
            redirectOutbound =
                capture.includedOutboundPorts.sorted().map { port in
                    Rule(
                        [tcp, .dport(UInt16(port))], verdict: .redirect(port: MeshDataPath.outboundPort),
                        comment: "outbound TCP/\(port) to the mesh proxy (includeOutboundPorts)")
                }
                + includedRanges.map { block in
                    Rule(
                        [tcp, .daddr(prefix: block.network, length: UInt8(block.prefixLength))],
                        verdict: .redirect(port: MeshDataPath.outboundPort),
                        comment: "outbound TCP to \(block) to the mesh proxy (includeOutboundIPRanges)")
                }
        } else {
            redirectOutbound = [Rule([tcp], verdict: .redirect(port: MeshDataPath.outboundPort), comment: "outbound TCP to the mesh proxy")]
        }
        let outbound = Chain(
            name: "mesh-outbound", base: BaseChain(type: .nat, hook: .output, priority: Self.outboundPriority),
            rules: [
                Rule([.mark(MeshDataPath.bypassMark)], verdict: .accept, comment: "the mesh proxy's own sockets"),
                Rule([.oifname("lo")], verdict: .accept, comment: "the pod reaching itself"),
            ] + excludedOutbound + redirectOutbound)
        return Table(name: tableName, family: Self.family, chains: captureInbound ? [inbound, outbound] : [outbound])
    }

    /// The capture table of every pod of `cluster` that is in the mesh now
    /// (`Cluster.dataPlane(of:) != .none`): sidecar pods from their creation, ambient pods while
    /// their or their namespace's label enrols them. Pods outside the mesh get no table.
    /// `attackers`: pods outside the mesh that get the outbound capture only (`table(inbound:)`).
    public func compile(_ cluster: Cluster, attackers: Set<ObjectKey> = []) -> [ObjectKey: Table] {
        let table = table()
        let outboundOnly = self.table(inbound: false)
        var tables: [ObjectKey: Table] = [:]
        for (key, pod) in cluster.pods {
            let plane = cluster.dataPlane(of: key)
            if plane == .sidecar, !pod.sidecarCapture.isDefault {
                tables[key] = self.table(capture: pod.sidecarCapture)
            } else if plane == .ambient, pod.bypassesAmbientInboundCapture {
                var ingressMode = SidecarCapture()
                ingressMode.includedInboundPorts = []
                tables[key] = self.table(capture: ingressMode)
            } else if plane != .none {
                tables[key] = table
            } else if attackers.contains(key) {
                tables[key] = outboundOnly
            }
        }
        return tables
    }
}
