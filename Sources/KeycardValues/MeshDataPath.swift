/// The fixed numbers of the lab's mesh data path (spec mesh.md 2.8), one home for the proxy, the
/// redirection rules and the prober.
///
/// Ports follow Istio's sidecar layout (https://istio.io/latest/docs/ops/deployment/application-requirements/#ports-used-by-istio):
/// 15001 receives a meshed pod's redirected outbound TCP, 15006 its redirected inbound TCP. The lab
/// proxy listens on both inside every meshed pod's namespace.
public enum MeshDataPath {
    /// Envoy's outbound capture port: where a meshed pod's own outbound TCP is redirected.
    public static let outboundPort: UInt16 = 15001
    /// Envoy's inbound capture port: where TCP arriving at a meshed pod is redirected.
    public static let inboundPort: UInt16 = 15006
    /// The socket mark (SO_MARK) of every socket the proxy opens (and of a probe that escapes the
    /// capture, identity `none`): the redirection rules let marked packets pass, as Istio exempts its
    /// proxy's UID 1337. "kc" in ASCII.
    public static let bypassMark: UInt32 = 0x6B63
    /// The ports the redirection never captures: the proxy's own listeners.
    public static var proxyPorts: [UInt16] { [outboundPort, inboundPort] }
}
