import KeycardModel

extension ObjectDecoder {
    /// The labels every lab node carries, as the kubelet sets them
    /// (https://kubernetes.io/docs/reference/labels-annotations-taints/): its hostname (`node-N`,
    /// checked where the node is placed), the OS and the architecture of this machine's lab.
    static let labNodeLabels: [String: String] = Cluster.labNodeLabels

    /// `spec.nodeSelector` and required node affinity, as far as the lab's nodes can honour them.
    /// A bare pod's `kubernetes.io/hostname: node-N` places it there, as the scheduler would (a
    /// `nodeName` given too wins: it skips the scheduler); labels every lab node carries change
    /// nothing. Anything else (a label no lab node carries, required node affinity, a workload
    /// template's hostname) keycard does not schedule by: said in a warning, and the pods are
    /// placed round-robin as usual.
    mutating func readNodeSelection(_ spec: [String: YAMLValue], into pod: inout Pod, owner: String?) throws(ScenarioError) {
        let who = owner.map { "\(pod.namespace)/\($0)" } ?? "pod \(pod.key)"
        if let selectorValue = spec["nodeSelector"] {
            let selector = try selectorValue.stringMap("spec.nodeSelector")
            for (key, value) in selector {
                if let problem = NameRules.labelKeyProblem(key) { throw selectorValue.error("spec.nodeSelector: \(problem)") }
                if let problem = NameRules.labelValueProblem(value) { throw selectorValue.error("spec.nodeSelector.\(key): \(problem)") }
            }
            var unhonoured = selector.filter { Self.labNodeLabels[$0.key] != $0.value }
            if let hostname = selector["kubernetes.io/hostname"], owner == nil {
                unhonoured["kubernetes.io/hostname"] = nil
                if pod.nodeName == nil { pod.nodeName = hostname }
            }
            if !unhonoured.isEmpty {
                let text = unhonoured.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
                warnings.append(
                    ScenarioWarning(
                        location: selectorValue.location,
                        message:
                            "\(who): spec.nodeSelector \(text) is not scheduled by: lab nodes carry kubernetes.io/hostname=node-N, kubernetes.io/os=linux and kubernetes.io/arch=amd64\(owner == nil ? "" : " (a template's hostname is not honoured)"); keycard places the pods as usual"
                    ))
            }
        }
        if let affinity = spec["affinity"], !affinity.isNull,
            try affinity.entries("spec.affinity").contains(where: { $0.key == "nodeAffinity" && !$0.value.isNull })
        {
            warnings.append(
                ScenarioWarning(
                    location: affinity.location,
                    message:
                        "\(who): spec.affinity.nodeAffinity is not scheduled by: keycard places the pods as usual (nodeName, or round-robin)"
                ))
        }
    }
}
