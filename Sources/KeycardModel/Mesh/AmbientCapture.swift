/// istio-cni's per-pod capture overrides for ambient pods (istio/istio
/// `cni/pkg/nodeagent/net.go` `getPodLevelTrafficOverrides`).
extension Pod {
    /// `ambient.istio.io/bypass-inbound-capture` (istio/api `annotation/annotations.gen.go`
    /// `AmbientBypassInboundCapture`).
    public static let ambientBypassInboundCapture = "ambient.istio.io/bypass-inbound-capture"

    /// Whether istio-cni runs this ambient pod in "ingress mode": the annotation
    /// `ambient.istio.io/bypass-inbound-capture` reads true to Go's `strconv.ParseBool` (`true`,
    /// `True`, `TRUE`, `t`, `T`, `1`; istio-cni's `CheckBooleanAnnotation`, which ignores any other
    /// value with a log line). istio-cni then leaves out the inbound `REDIRECT` to ztunnel's
    /// plaintext port (`cni/pkg/iptables/iptables.go` and `cni/pkg/nftables/nftables.go`, `if
    /// !podOverrides.IngressMode`): plaintext arriving at an application port reaches the
    /// application with no mutual TLS check and no authorization, while HBONE to port 15008, which
    /// was never redirected, still meets ztunnel, and the outbound capture is unchanged. keycard
    /// reads the annotation as the pod has it now (istio-cni reads it when it enrols the pod).
    /// Not in the spec (mesh.md is silent).
    public var bypassesAmbientInboundCapture: Bool {
        switch annotations[Self.ambientBypassInboundCapture] {
        case "1", "t", "T", "TRUE", "true", "True": true
        default: false
        }
    }
}
