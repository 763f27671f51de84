import ArgumentParser
import KeycardLab

/// `keycard apply LAB -f FILE`: create or replace objects in a live lab and reprogram its policies.
struct ApplyCommand: LiveVerb {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Create or replace Namespaces, Pods (labels of the lab's pods) and NetworkPolicies in a live lab."
    )

    @OptionGroup var options: LabOptions
    @Option(name: .customShort("f"), help: "A manifest (several YAML documents or a kind: List are fine).") var file: String

    func run() throws {
        try perform { try LiveChangeRunner.manifest(.apply, lab: lab, file: file) }
    }
}

/// `keycard delete LAB -f FILE`: delete the objects a manifest names from a live lab.
struct DeleteCommand: LiveVerb {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete the Namespaces, Pods and NetworkPolicies a manifest names from a live lab (kubectl delete -f)."
    )

    @OptionGroup var options: LabOptions
    @Option(name: .customShort("f"), help: "A manifest naming the objects to delete.") var file: String

    func run() throws {
        try perform { try LiveChangeRunner.manifest(.delete, lab: lab, file: file) }
    }
}

/// `keycard label LAB pod ns/name k=v...` or `keycard label LAB namespace NAME k=v...`.
struct LabelCommand: LiveVerb {
    static let configuration = CommandConfiguration(
        commandName: "label",
        abstract: "Replace the labels of a pod (ns/name) or a namespace of a live lab with exactly the ones given."
    )

    @OptionGroup var options: LabOptions
    @Argument(help: "pod or namespace (also po, pods, ns, namespaces).") var kind: LabelKind
    @Argument(help: "ns/name for a pod, the name for a namespace.") var name: String
    @Argument(help: "key=value labels; none removes every label (a namespace keeps kubernetes.io/metadata.name).")
    var labels: [String] = []

    func run() throws {
        try perform { try LiveChangeRunner.label(lab: lab, kind: kind, name: name, pairs: labels) }
    }
}

/// What `keycard label` can label, with kubectl's short names.
enum LabelKind: String, ExpressibleByArgument, CaseIterable {
    case pod
    case namespace

    init?(argument: String) {
        switch argument {
        case "pod", "pods", "po": self = .pod
        case "namespace", "namespaces", "ns": self = .namespace
        default: return nil
        }
    }
}
