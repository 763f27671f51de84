import KeycardModel
import KeycardValues

extension ScenarioParser {
    /// `spec.lab.serviceCIDR` (an IPv4 CIDR from /8 to /24 without host bits, overlapping neither
    /// the pod CIDR nor the lab's plumbing ranges) and `spec.lab.serviceEnforcement`
    /// (`post-dnat`, the default, or `pre-dnat`).
    func serviceSettings(_ fields: Fields, into settings: inout LabSettings) throws(ScenarioError) {
        if let cidrValue = fields["serviceCIDR"] {
            settings.serviceCIDR = try cidrValue.ipv4Network("spec.lab.serviceCIDR", prefixes: 8...24, example: "10.96.0.0/16")
        }
        let cidr = settings.serviceCIDR
        let location = fields["serviceCIDR"] ?? fields.owner
        if cidr.overlaps(settings.podCIDR) {
            throw location.error("spec.lab.serviceCIDR \(cidr) overlaps the pod CIDR \(settings.podCIDR)")
        }
        if let clash = LabNetwork.reserved.first(where: { $0.overlaps(cidr) }) {
            throw location.error("spec.lab.serviceCIDR \(cidr) overlaps \(clash), which the lab reserves")
        }
        if let problem = LabAddresses.rangeProblem(cidr) { throw location.error("spec.lab.serviceCIDR \(cidr) \(problem)") }
        try loadBalancerSettings(fields, into: &settings)
        if let modeValue = fields["serviceEnforcement"] {
            settings.serviceEnforcement = try modeValue.choice("spec.lab.serviceEnforcement", expected: "post-dnat or pre-dnat")
        }
    }
}

extension ScenarioParser {
    /// `spec.lab.nodeIngress`: `allow` (the default: the NetworkPolicy API's local-node rule) or
    /// `policy` (the node is judged like any other source, by `ipBlock`).
    func nodeIngress(_ fields: Fields, into settings: inout LabSettings) throws(ScenarioError) {
        guard let value = fields["nodeIngress"] else { return }
        settings.nodeIngress = try value.choice("spec.lab.nodeIngress", expected: "allow or policy")
    }
}
