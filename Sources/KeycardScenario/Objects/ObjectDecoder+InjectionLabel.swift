import KeycardModel

extension ObjectDecoder {
    /// A Namespace's `istio-injection` label with a value other than `enabled` or `disabled`
    /// (`"true"`, `Enabled`, ...) is a warning at the value: Istio's injector webhooks select on
    /// `istio-injection In [enabled]` or `DoesNotExist` (`istio/istio`
    /// `manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml`), so such a
    /// namespace meshes none of its pods, not even those labelled `sidecar.istio.io/inject: "true"`
    /// or `istio.io/rev` (`Pod.injectsSidecar`).
    mutating func warnOddInjectionLabel(_ name: String, _ labels: Labels, _ value: YAMLValue) {
        let key = Pod.MeshLabel.injection
        guard let written = labels[key], written != "enabled", written != "disabled" else { return }
        let at = Self.field(value, ["metadata", "labels", key]) ?? value
        warnings.append(
            ScenarioWarning(
                location: at.location,
                message:
                    "Namespace \(name)'s label \(key): \"\(written)\" is neither enabled nor disabled: no Istio injector webhook selects its pods (they need \(key)=enabled, or no \(key) label), so none of them gets a sidecar, whatever their own sidecar.istio.io/inject or istio.io/rev labels"
            ))
    }
}
