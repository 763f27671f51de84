import Foundation
import KeycardModel
import KeycardValues

extension ObjectDecoder {
    /// The Service spec fields that do not shape the lab's datapath, validated as the API server's
    /// `ValidateService` (pkg/apis/core/validation) and its allocator for a single-stack IPv4
    /// cluster (pkg/registry/core/service/ipallocator, `initIPFamilyFields`) check them:
    /// `ipFamilyPolicy`, `ipFamilies`, `externalIPs`, `sessionAffinityConfig`,
    /// `loadBalancerClass`, `trafficDistribution`, `internalTrafficPolicy`,
    /// `publishNotReadyAddresses` (a boolean) and `loadBalancerSourceRanges` (the traffic policy and the ranges kept on `service`, the rest
    /// only checked). Errors point at the field. What the lab cannot honour is warned about
    /// (`warnings`).
    /// https://kubernetes.io/docs/reference/kubernetes-api/service-resources/service-v1/#ServiceSpec
    mutating func serviceSpecFields(_ spec: [String: YAMLValue], of service: inout Service) throws(ScenarioError) {
        try ipFamilies(spec, of: service)
        try externalIPs(spec)
        // A boolean (`*bool`): a not-ready pod (`Pod.notReady`) stays its endpoint.
        if let publishValue = spec["publishNotReadyAddresses"] {
            service.publishNotReadyAddresses = try publishValue.bool("spec.publishNotReadyAddresses")
        }
        try Self.sessionAffinityConfig(spec)
        service.prefersSameNode = try Self.trafficDistribution(spec) == "PreferSameNode"
        try internalTrafficPolicy(spec, of: &service)
        try loadBalancerFields(spec, of: &service)
    }

    /// `ipFamilyPolicy` (SingleStack, PreferDualStack, RequireDualStack) and `ipFamilies` (IPv4,
    /// IPv6, no duplicate), checked as the API server's allocator does for a single-stack IPv4
    /// cluster (`initIPFamilyFields`, pkg/registry/core/service/storage/alloc.go): an unset policy
    /// is SingleStack, RequireDualStack for a headless selector-less Service; SingleStack with two
    /// families or two clusterIPs is refused; a clusterIP beyond the families must be IPv4 ("IPv6
    /// is not configured on this cluster"); a headless selector-less Service may then name any
    /// families; any other refuses RequireDualStack and every IPv6 family. ExternalName Services
    /// may not name either field (refused in `service`).
    private func ipFamilies(_ spec: [String: YAMLValue], of service: Service) throws(ScenarioError) {
        let policyValue = spec["ipFamilyPolicy"]
        let written = try policyValue?.string("spec.ipFamilyPolicy")
        if let written, let policyValue, !["SingleStack", "PreferDualStack", "RequireDualStack"].contains(written) {
            throw policyValue.error(
                "spec.ipFamilyPolicy: Unsupported value: \"\(written)\": supported values: \"PreferDualStack\", \"RequireDualStack\", \"SingleStack\""
            )
        }
        let familiesValue = spec["ipFamilies"]
        let families = try familiesValue?.items("spec.ipFamilies") ?? []
        var seen: [String] = []
        for (index, item) in families.enumerated() {
            let family = try item.string("spec.ipFamilies[\(index)]")
            guard family == "IPv4" || family == "IPv6" else {
                throw item.error("spec.ipFamilies[\(index)]: Unsupported value: \"\(family)\": supported values: \"IPv4\", \"IPv6\"")
            }
            if seen.contains(family) { throw item.error("spec.ipFamilies[\(index)]: Duplicate value: \"\(family)\"") }
            seen.append(family)
        }
        // A pinned IPv4 clusterIP against an IPv6 first family (the decoder only takes IPv4 ones).
        if let first = seen.first, first == "IPv6", case .ip(let ip) = service.address, let ipValue = spec["clusterIP"] {
            throw ipValue.error("spec.clusterIPs[0]: Invalid value: \"\(ip)\": expected an IPv6 value as indicated by `ipFamilies[0]`")
        }
        guard service.kind != .externalName else { return }
        let selectorlessHeadless = service.address == .headless && service.selector == nil
        let policy = written ?? (selectorlessHeadless ? "RequireDualStack" : "SingleStack")
        let clusterIPsValue = spec["clusterIPs"]
        let clusterIPs = try clusterIPsValue?.strings("spec.clusterIPs", nullIsEmpty: true) ?? []
        if policy == "SingleStack", let spot = policyValue ?? clusterIPsValue ?? familiesValue {
            if clusterIPs.count == 2 {
                throw spot.error(
                    "spec.ipFamilyPolicy: Invalid value: \"SingleStack\": must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"
                )
            }
            if seen.count == 2 {
                throw spot.error(
                    "spec.ipFamilyPolicy: Invalid value: \"SingleStack\": must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"
                )
            }
        }
        // Families inferred from clusterIPs beyond those written must be configured (IPv4 only).
        for (index, ip) in clusterIPs.enumerated() where index >= seen.count {
            if ip == "None" { break }
            if ip.contains(":"), let clusterIPsValue {
                throw clusterIPsValue.error("spec.clusterIPs[\(index)]: Invalid value: \"\(ip)\": IPv6 is not configured on this cluster")
            }
        }
        // A headless selector-less Service is allowed any families, even on a single-stack cluster.
        guard !selectorlessHeadless else { return }
        if policy == "RequireDualStack", let policyValue {
            throw policyValue.error(
                "spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services (the lab is IPv4 only)"
            )
        }
        if let index = seen.firstIndex(of: "IPv6") {
            throw families[index].error(
                "spec.ipFamilies[\(index)]: Invalid value: \"IPv6\": not configured on this cluster (the lab is IPv4 only)")
        }
    }

    /// `externalIPs`: each a valid IP address (`IsValidIPForLegacyField`: the legacy forms with a
    /// warning, `legacyIP`), not a special one (`ValidateNonSpecialIP`: unspecified, loopback,
    /// link-local).
    private mutating func externalIPs(_ spec: [String: YAMLValue]) throws(ScenarioError) {
        guard let ipsValue = spec["externalIPs"] else { return }
        for (index, item) in try ipsValue.items("spec.externalIPs").enumerated() {
            let text = try item.string("spec.externalIPs[\(index)]")
            let field = "spec.externalIPs[\(index)]: Invalid value: \"\(text)\""
            guard let address = Self.legacyIP(text) else {
                throw item.error("\(field): must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")
            }
            warnNonStandardIP(address, written: text, field: "spec.externalIPs[\(index)]", at: item)
            if address.family == .ipv4, case let v4 = address {
                let special: [(CIDR, String)] = [
                    (CIDR.ipv4(IPv4(0), 32), "may not be unspecified (0.0.0.0)"),
                    (CIDR.ipv4(IPv4(0x7F00_0000), 8), "may not be in the loopback range (127.0.0.0/8, ::1/128)"),
                    (CIDR.ipv4(IPv4(0xA9FE_0000), 16), "may not be in the link-local range (169.254.0.0/16, fe80::/10)"),
                    (CIDR.ipv4(IPv4(0xE000_0000), 24), "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"),
                ]
                if let (_, problem) = special.first(where: { $0.0.contains(IPv4(v4.network)) }) {
                    throw item.error("\(field): \(problem)")
                }
            }
        }
    }

    /// `sessionAffinityConfig`: with `sessionAffinity` None (also unset or "") the defaulting drops
    /// it before validation (`SetDefaults_Service`, pkg/apis/core/v1/defaults.go: "if
    /// SessionAffinity == None, SessionAffinityConfig = nil"), so any config is accepted and
    /// ignored; with ClientIP, `clientIP.timeoutSeconds` (defaulted to 10800) must be 1...86400
    /// (`validateAffinityTimeout`).
    private static func sessionAffinityConfig(_ spec: [String: YAMLValue]) throws(ScenarioError) {
        guard let configValue = spec["sessionAffinityConfig"], !configValue.isNull else { return }
        let affinity = try spec["sessionAffinity"]?.string("spec.sessionAffinity") ?? ""
        guard affinity == "ClientIP" else { return }
        try configValue.requireKnownFields("spec.sessionAffinityConfig", known: ["clientIP"])
        guard let clientIP = try configValue.entries("spec.sessionAffinityConfig").first(where: { $0.key == "clientIP" })?.value,
            !clientIP.isNull
        else { return }
        try clientIP.requireKnownFields("spec.sessionAffinityConfig.clientIP", known: ["timeoutSeconds"])
        guard let timeout = try clientIP.entries("clientIP").first(where: { $0.key == "timeoutSeconds" })?.value, !timeout.isNull else {
            return
        }
        let seconds = try timeout.int("spec.sessionAffinityConfig.clientIP.timeoutSeconds", in: -2_147_483_648...2_147_483_647)
        guard (1...86400).contains(seconds) else {
            throw timeout.error(
                "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: \(seconds): must be greater than 0 and less than 86400")
        }
    }

    /// `trafficDistribution`: PreferClose, or its current names PreferSameZone and PreferSameNode
    /// (core/v1 types.go); nil when unset. PreferClose and PreferSameZone prefer the client's
    /// zone, and the lab's nodes carry no zone label, so every endpoint stays reachable;
    /// PreferSameNode is kept on the Service (`Service.prefersSameNode`, `ClusterIPPath`).
    private static func trafficDistribution(_ spec: [String: YAMLValue]) throws(ScenarioError) -> String? {
        guard let value = spec["trafficDistribution"] else { return nil }
        let text = try value.string("spec.trafficDistribution")
        guard ["PreferClose", "PreferSameZone", "PreferSameNode"].contains(text) else {
            throw value.error(
                "spec.trafficDistribution: Unsupported value: \"\(text)\": supported values: \"PreferClose\", \"PreferSameNode\", \"PreferSameZone\""
            )
        }
        return text
    }

    /// `internalTrafficPolicy`: Cluster or Local (`validateServiceInternalTrafficFieldsValue`),
    /// defaulted to Cluster for every type but ExternalName (`SetDefaults_Service`); kept on
    /// `service` (`ClusterIPPath` honours Local).
    private func internalTrafficPolicy(_ spec: [String: YAMLValue], of service: inout Service) throws(ScenarioError) {
        guard let value = spec["internalTrafficPolicy"] else {
            if service.kind != .externalName { service.internalTrafficPolicy = .cluster }
            return
        }
        let text = try value.string("spec.internalTrafficPolicy")
        guard let policy = InternalTrafficPolicy(rawValue: text) else {
            throw value.error("spec.internalTrafficPolicy: Unsupported value: \"\(text)\": supported values: \"Cluster\", \"Local\"")
        }
        service.internalTrafficPolicy = policy
    }

    /// `loadBalancerClass` and `loadBalancerSourceRanges`: only when `type` is LoadBalancer
    /// (`validateLoadBalancerClassField`, `ValidateService`); a class is a qualified name, a range a
    /// CIDR (space-padding allowed, `IsValidCIDRForLegacyField`). Both are kept on `service`; a
    /// class on another type waits for the apply, where an update from a LoadBalancer of that class
    /// drops it (`TypeDependentField`). The lab's load balancer serves every class and admits only
    /// sources inside the ranges (`LoadBalancerCompiler`).
    private mutating func loadBalancerFields(_ spec: [String: YAMLValue], of service: inout Service) throws(ScenarioError) {
        if let classValue = spec["loadBalancerClass"] {
            let text = try classValue.string("spec.loadBalancerClass")
            if service.kind != .loadBalancer {
                keepUntilApplied(
                    .loadBalancerClass(text), classValue,
                    "spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'")
            } else if let problem = NameRules.labelKeyProblem(text) {
                throw classValue.error(
                    "spec.loadBalancerClass: Invalid value: \"\(text)\": \(problem.replacingOccurrences(of: "label key ", with: ""))")
            } else {
                service.loadBalancerClass = text
            }
        }
        try sourceRanges(spec, of: &service)
    }

    /// `loadBalancerSourceRanges` (see `loadBalancerFields`), kept on `service`.
    private mutating func sourceRanges(_ spec: [String: YAMLValue], of service: inout Service) throws(ScenarioError) {
        guard let rangesValue = spec["loadBalancerSourceRanges"] else { return }
        let ranges = try rangesValue.items("spec.loadBalancerSourceRanges")
        guard !ranges.isEmpty else { return }
        guard service.kind == .loadBalancer else {
            throw rangesValue.error("spec.loadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'")
        }
        var parsed: [CIDR] = []
        for (index, item) in ranges.enumerated() {
            let text = try item.string("spec.loadBalancerSourceRanges[\(index)]")
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            guard let cidr = CIDR.parseLegacy(trimmed) else {
                throw item.error(
                    "spec.loadBalancerSourceRanges[\(index)]: Invalid value: \"\(text)\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
                )
            }
            // GetWarningsForService warns about the legacy forms, as for an ipBlock (NP-59).
            warnNonStandard(cidr, written: trimmed, at: item)
            parsed.append(cidr)
        }
        service.loadBalancerSourceRanges = parsed
    }

    /// The annotation cloud load balancers read for their allowed sources when
    /// `spec.loadBalancerSourceRanges` is empty (k8s.io/cloud-provider servicehelpers
    /// `GetLoadBalancerSourceRanges`; the field's older form).
    static let sourceRangesAnnotation = "service.beta.kubernetes.io/load-balancer-source-ranges"

    /// `sourceRangesAnnotation` when `spec.loadBalancerSourceRanges` is empty, validated as
    /// `ValidateService` does (only then): only on a LoadBalancer ("may only be used when `type` is
    /// 'LoadBalancer'"), a comma-separated list of CIDRs, each space-trimmed and valid
    /// (`IsValidCIDRForLegacyField`; blank is none). Its ranges become the Service's
    /// `loadBalancerSourceRanges`, which the lab's load balancer enforces as a cloud one does.
    mutating func sourceRangesAnnotation(_ annotations: [String: String], metadata: YAMLValue, of service: inout Service)
        throws(ScenarioError)
    {
        guard service.loadBalancerSourceRanges.isEmpty, let text = annotations[Self.sourceRangesAnnotation] else { return }
        let entries = try? metadata.entries("metadata").first(where: { $0.key == "annotations" })?.value.entries("metadata.annotations")
        let written = entries?.first(where: { $0.key == Self.sourceRangesAnnotation })?.value ?? metadata
        let path = "metadata.annotations[\(Self.sourceRangesAnnotation)]"
        guard service.kind == .loadBalancer else {
            throw written.error("\(path): Forbidden: may only be used when `type` is 'LoadBalancer'")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return }
        var parsed: [CIDR] = []
        for item in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let range = item.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let cidr = CIDR.parseLegacy(range) else {
                throw written.error("\(path): Invalid value: \"\(range)\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")
            }
            warnNonStandard(cidr, written: range, at: written)
            parsed.append(cidr)
        }
        service.loadBalancerSourceRanges = parsed
        service.sourceRangesFromAnnotation = !parsed.isEmpty
    }
}
