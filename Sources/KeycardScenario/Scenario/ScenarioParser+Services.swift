import KeycardModel
import KeycardValues

extension ScenarioParser {
    /// `spec.lab.serviceCIDR` (an IPv4 CIDR from /8 to /24 without host bits, overlapping neither
    /// the pod CIDR nor the lab's plumbing ranges) and `spec.lab.serviceEnforcement`
    /// (`post-dnat`, the default, or `pre-dnat`).
    func serviceSettings(_ fields: Fields, into settings: inout LabSettings) throws(ScenarioError) {
        if let cidrValue = fields["serviceCIDR"] {
            let text = try cidrValue.string("spec.lab.serviceCIDR")
            guard let cidr = CIDR.parse(text), cidr.family == .ipv4, (8...24).contains(cidr.prefixLength) else {
                throw cidrValue.error("spec.lab.serviceCIDR \"\(text)\" is not an IPv4 CIDR from /8 to /24 like 10.96.0.0/16")
            }
            guard !cidr.hasHostBits else {
                throw cidrValue.error(
                    "spec.lab.serviceCIDR \"\(text)\" has host bits set; did you mean \(IPv4(cidr.network))/\(cidr.prefixLength)?")
            }
            settings.serviceCIDR = cidr
        }
        let cidr = settings.serviceCIDR
        let location = fields["serviceCIDR"] ?? fields.owner
        if cidr.overlaps(settings.podCIDR) {
            throw location.error("spec.lab.serviceCIDR \(cidr) overlaps the pod CIDR \(settings.podCIDR)")
        }
        if let clash = LabNetwork.reserved.first(where: { $0.overlaps(cidr) }) {
            throw location.error("spec.lab.serviceCIDR \(cidr) overlaps \(clash), which the lab reserves")
        }
        try loadBalancerSettings(fields, into: &settings)
        if let modeValue = fields["serviceEnforcement"] {
            let text = try modeValue.string("spec.lab.serviceEnforcement")
            guard let mode = ServiceEnforcement(rawValue: text) else {
                throw modeValue.error("spec.lab.serviceEnforcement must be post-dnat or pre-dnat, found \(text)")
            }
            settings.serviceEnforcement = mode
        }
    }
}

extension ScenarioParser {
    /// `spec.lab.nodeIngress`: `allow` (the default: the NetworkPolicy API's local-node rule) or
    /// `policy` (the node is judged like any other source, by `ipBlock`).
    func nodeIngress(_ fields: Fields, into settings: inout LabSettings) throws(ScenarioError) {
        guard let value = fields["nodeIngress"] else { return }
        let text = try value.string("spec.lab.nodeIngress")
        guard let mode = NodeIngress(rawValue: text) else {
            throw value.error("spec.lab.nodeIngress must be allow or policy, found \(text)")
        }
        settings.nodeIngress = mode
    }
}
