import KeycardModel
import KeycardValues

/// A Service field its type does not allow (a node port on a ClusterIP Service, an
/// `externalTrafficPolicy` on one that is not externally accessible...), kept until the Service is
/// applied. On an update from a type that allowed it, the API server drops such a field when its
/// value is unchanged, before validation (pkg/registry/core/service/strategy.go
/// `dropTypeDependentFields`: `kubectl apply` of a Service whose `type:` alone was edited sends
/// the old node ports along); otherwise it is refused with validation's message.
public struct TypeDependentField: Hashable, Sendable {
    /// The field and the value it was written with.
    public enum Value: Hashable, Sendable {
        case nodePort(Int)
        case healthCheckNodePort(Int)
        case externalTrafficPolicy(ExternalTrafficPolicy)
        case allocateLoadBalancerNodePorts(Bool)
        case loadBalancerClass(String)
        /// On an ExternalName Service: `spec.clusterIP` as written, `ipFamilies`, `ipFamilyPolicy`.
        case clusterIP(String)
        case ipFamilies([String])
        case ipFamilyPolicy(String)
    }

    public var value: Value
    /// Where it was written.
    public var location: SourceLocation
    /// What the API server says when it is not dropped (`ValidateService`'s message).
    public var refusal: String

    /// Throws the first of `fields` the update of `previous` (nil: a create) does not drop:
    /// node ports when the old type had node ports and they are among its own (`sameNodePorts`),
    /// the others when the old type allowed them and their value is the old one
    /// (`sameHCNodePort`, `sameExternalTrafficPolicy`, the old LoadBalancer's
    /// `allocateLoadBalancerNodePorts` and `loadBalancerClass` (`sameLoadBalancerClass`), and on a
    /// change to ExternalName `sameClusterIPs`, `sameIPFamilies`, `sameIPFamilyPolicy`).
    static func settle(_ fields: [TypeDependentField], updating previous: Service?) throws(ScenarioError) {
        // `needsNodePort`: NodePort and LoadBalancer, whatever `allocateLoadBalancerNodePorts` says.
        let oldNodePorts = Set(previous.map { $0.isExternallyAccessible ? $0.ports.compactMap(\.nodePort) : [] } ?? [])
        let newNodePorts = fields.compactMap { field -> Int? in
            if case .nodePort(let number) = field.value { number } else { nil }
        }
        let nodePortsDropped = !newNodePorts.isEmpty && Set(newNodePorts).isSubset(of: oldNodePorts)
        for field in fields {
            let dropped: Bool
            switch field.value {
            case .nodePort: dropped = nodePortsDropped
            case .healthCheckNodePort(let number):
                dropped = previous?.needsHealthCheckNodePort == true && previous?.healthCheckNodePort == number
            case .externalTrafficPolicy(let policy):
                dropped = previous?.isExternallyAccessible == true && previous?.externalTrafficPolicy == policy
            case .allocateLoadBalancerNodePorts(let allocate):
                dropped = previous?.kind == .loadBalancer && previous?.allocateLoadBalancerNodePorts == allocate
            case .loadBalancerClass(let name):
                dropped = previous?.kind == .loadBalancer && previous?.loadBalancerClass == name
            // `needsClusterIP(old)`: the old Service had an address (or None). The lab is IPv4 only,
            // so the old families and policy were the defaults, [IPv4] and SingleStack.
            case .clusterIP(let text):
                switch previous?.address {
                case .ip(let ip)?: dropped = previous?.kind != .externalName && IPv4(text) == ip
                case .headless?: dropped = text == "None"
                default: dropped = false
                }
            case .ipFamilies(let families):
                dropped = previous.map { $0.kind != .externalName } == true && families == ["IPv4"]
            case .ipFamilyPolicy(let policy):
                dropped = previous.map { $0.kind != .externalName } == true && policy == "SingleStack"
            }
            if !dropped { throw ScenarioError(field.location, field.refusal) }
        }
    }
}
