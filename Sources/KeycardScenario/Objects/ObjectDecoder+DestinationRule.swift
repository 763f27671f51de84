extension ObjectDecoder {
    /// The TLS modes an Istio DestinationRule sets for its clients (`spec.trafficPolicy.tls.mode`,
    /// per port in `portLevelSettings`, per subset), other than `ISTIO_MUTUAL`: keycard does not
    /// model DestinationRules, and its sidecars use Istio's auto mutual TLS, which a DR's explicit
    /// `tls` replaces ("Understanding TLS Configuration": auto mTLS applies only "if TLS settings
    /// are not explicitly configured in a DestinationRule"). Read leniently: the object is skipped.
    static func destinationRuleTLSModes(_ header: [(key: String, keyLocation: SourceLocation, value: YAMLValue)]) -> [String] {
        func fields(_ value: YAMLValue?) -> [String: YAMLValue] {
            guard let value, let entries = try? value.entries("a mapping") else { return [:] }
            return Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        }
        // A `tls` without `mode` is DISABLE, the enum's zero value (istio/api ClientTLSSettings).
        func mode(ofTLS tls: YAMLValue?) -> String? {
            guard let tls, !tls.isNull else { return nil }
            return fields(tls)["mode"].flatMap { try? $0.string("mode") } ?? "DISABLE"
        }
        func modes(ofPolicy policy: YAMLValue?) -> [String] {
            let policy = fields(policy)
            var found = [mode(ofTLS: policy["tls"])]
            for setting in (try? policy["portLevelSettings"]?.items("portLevelSettings")) ?? [] {
                found.append(mode(ofTLS: fields(setting)["tls"]))
            }
            return found.compactMap { $0 }
        }
        let spec = fields(header.first { $0.key == "spec" }?.value)
        var found = modes(ofPolicy: spec["trafficPolicy"])
        for subset in (try? spec["subsets"]?.items("subsets")) ?? [] { found += modes(ofPolicy: fields(subset)["trafficPolicy"]) }
        var seen: Set<String> = []
        return found.filter { $0 != "ISTIO_MUTUAL" && seen.insert($0).inserted }
    }
}
