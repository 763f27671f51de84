import Foundation
import KeycardScenario

/// The upstream e2e model: namespaces x, y, z; pods a, b, c in each; TCP and UDP on 80 and 81.
enum NinePodModel {
    static let pods = ["x", "y", "z"].flatMap { ns in ["a", "b", "c"].map { "\(ns)/\($0)" } }

    /// A scenario over the nine pods with the given policies (YAML list items, indented for
    /// `resources:`) and steps.
    static func scenario(name: String, policies: String = "", steps: String, nodes: Int = 1) -> String {
        var text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: \(name)}
            spec:
              lab: {nodes: \(nodes)}
              resources:

            """
        for ns in ["x", "y", "z"] {
            text += "    - {apiVersion: v1, kind: Namespace, metadata: {name: \(ns), labels: {ns: \(ns)}}}\n"
            for pod in ["a", "b", "c"] {
                text += """
                        - apiVersion: v1
                          kind: Pod
                          metadata: {name: \(pod), namespace: \(ns), labels: {pod: \(pod)}}
                          spec:
                            containers:
                              - name: c
                                ports:
                                  - {containerPort: 80, name: serve-80-tcp}
                                  - {containerPort: 81, name: serve-81-tcp}
                                  - {containerPort: 80, protocol: UDP, name: serve-80-udp}
                                  - {containerPort: 81, protocol: UDP, name: serve-81-udp}

                    """
            }
        }
        text += policies
        text += "  steps:\n" + steps
        return text
    }

    /// A unique lab name (tests run in parallel and must never meet).
    static func labName(_ prefix: String) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return prefix + "-" + String((0..<8).map { _ in alphabet.randomElement() ?? "x" })
    }

    static func timeline(_ text: String) throws -> Timeline {
        try ScenarioLoader.parseTimeline(text, file: "nine-pods.yaml")
    }
}
