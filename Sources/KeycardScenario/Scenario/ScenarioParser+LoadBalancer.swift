import KeycardModel
import KeycardValues

extension ScenarioParser {
    /// `spec.lab.loadBalancerCIDR`: an IPv4 CIDR from /16 to /32 without host bits, overlapping
    /// neither the pod CIDR, the service CIDR nor the lab's plumbing ranges. LoadBalancer Services
    /// get their address from it (`LoadBalancerAddresses`); the lab's router plays the cloud load
    /// balancer in front of the nodes (docs/scenario-format.md).
    func loadBalancerSettings(_ fields: Fields, into settings: inout LabSettings) throws(ScenarioError) {
        guard let cidrValue = fields["loadBalancerCIDR"] else { return }
        let cidr = try cidrValue.ipv4Network("spec.lab.loadBalancerCIDR", prefixes: 16...32, example: "203.0.113.0/28")
        if cidr.overlaps(settings.podCIDR) {
            throw cidrValue.error("spec.lab.loadBalancerCIDR \(cidr) overlaps the pod CIDR \(settings.podCIDR)")
        }
        if cidr.overlaps(settings.serviceCIDR) {
            throw cidrValue.error("spec.lab.loadBalancerCIDR \(cidr) overlaps the service CIDR \(settings.serviceCIDR)")
        }
        if let clash = LabNetwork.reserved.first(where: { $0.overlaps(cidr) }) {
            throw cidrValue.error("spec.lab.loadBalancerCIDR \(cidr) overlaps \(clash), which the lab reserves")
        }
        if let problem = LabAddresses.rangeProblem(cidr) { throw cidrValue.error("spec.lab.loadBalancerCIDR \(cidr) \(problem)") }
        settings.loadBalancerCIDR = cidr
    }

    /// An external may not take a load-balancer address: the router sends those to the nodes.
    func checkLoadBalancerCIDR(_ settings: LabSettings, externals: [External], _ lab: YAMLValue?) throws(ScenarioError) {
        guard let cidr = settings.loadBalancerCIDR, let lab else { return }
        if let external = externals.first(where: { cidr.contains($0.ip) }) {
            throw lab.error("spec.lab.loadBalancerCIDR \(cidr) holds external \(external.name)'s address \(external.ip)")
        }
    }
}
