/// The fixed numbers of the lab's mesh data path (spec mesh.md 2.8), one home for the proxy, the
/// redirection rules and the prober.
///
/// Ports follow Istio's sidecar layout (https://istio.io/latest/docs/ops/deployment/application-requirements/#ports-used-by-istio):
/// 15001 receives a meshed pod's redirected outbound TCP, 15006 its redirected inbound TCP, 15008 the
/// HBONE tunnels of other meshed pods. The lab proxy listens on all three inside every meshed pod's
/// namespace.
public enum MeshDataPath {
    /// Envoy's outbound capture port: where a meshed pod's own outbound TCP is redirected.
    public static let outboundPort: UInt16 = 15001
    /// Envoy's inbound capture port: where TCP arriving at a meshed pod is redirected.
    public static let inboundPort: UInt16 = 15006
    /// The socket mark (SO_MARK) of every socket the proxy opens (and of a probe that escapes the
    /// capture, identity `none`): the redirection rules let marked packets pass, as Istio exempts its
    /// proxy's UID 1337. "kc" in ASCII.
    public static let bypassMark: UInt32 = 0x6B63
    /// ztunnel's (and, in the ambient profile, a sidecar's) HBONE port: a hop between meshed pods
    /// where either is ambient is a TCP connection to the destination pod's 15008, so NetworkPolicy
    /// judges TCP/15008 (https://istio.io/latest/docs/ambient/usage/networkpolicy/: "the following
    /// NetworkPolicy will block incoming HBONE traffic to my-app on port 15008").
    public static let hbonePort: UInt16 = 15008
    /// The ports the redirection never captures: the proxy's own listeners.
    public static var proxyPorts: [UInt16] { [outboundPort, inboundPort, hbonePort] }

    /// Whether the proxy of the pod at `podAddress`, following an outbound connection to
    /// `address:port`, would reach its own listeners (one of `proxyPorts` at the pod's own address or
    /// in 127.0.0.0/8) and so connect to itself without end. Only such a connection is refused: one
    /// to port 15001, 15006 or 15008 of another address leaves the pod like any other, as Envoy's
    /// outbound passthrough and ztunnel dial the original destination, and NetworkPolicy and the
    /// destination's mesh decide (istio/istio `tools/istio-iptables` captures outbound TCP to every
    /// port; only the proxy's own traffic and loopback return).
    public static func reachesOwnProxy(address: IPv4, port: UInt16, podAddress: IPv4) -> Bool {
        proxyPorts.contains(port) && (address == podAddress || address.value >> 24 == 127)
    }
}
