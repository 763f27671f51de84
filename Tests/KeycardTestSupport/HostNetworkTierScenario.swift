/// A node-placement scenario where one node runs two host-network pods beside a pod of the pod
/// network, with a Baseline ClusterNetworkPolicy over every namespace: the host-network pods share
/// the node's address and are no policy's subject (network-policy-api: host-networked pods are not
/// included in subject selection), so the node's tables must hold none of them.
public enum HostNetworkTierScenario {
    /// The scenario named `name` (its lab's name).
    public static func text(name: String) -> String {
        """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: \(name)}
        spec:
          lab: {enforcement: node}
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: a}}
            - {apiVersion: v1, kind: Pod, metadata: {name: h1, namespace: a}, spec: {hostNetwork: true, containers: [{name: c, image: i, ports: [{containerPort: 9100}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: h2, namespace: a}, spec: {hostNetwork: true, containers: [{name: c, image: i, ports: [{containerPort: 9200}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: a}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
            - apiVersion: policy.networking.k8s.io/v1alpha2
              kind: ClusterNetworkPolicy
              metadata: {name: c}
              spec: {tier: Baseline, priority: 1, subject: {namespaces: {}}, ingress: [{action: Accept, from: [{namespaces: {}}]}]}
        """
    }
}
