import ArgumentParser
import Foundation
import KeycardLab
import KeycardScenario

/// `keycard apply LAB -f FILE` and `keycard delete LAB -f FILE`: the objects a manifest names,
/// created or replaced, or deleted, in a live lab; the two verbs differ only in `Verb`.
struct ManifestCommand<Verb: ManifestVerb>: LiveVerb {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: Verb.kind.rawValue, abstract: Verb.abstract)
    }

    @OptionGroup var options: LabOptions
    @Option(name: [.customShort("f"), .customLong("filename")], help: ArgumentHelp(Verb.fileHelp + " " + Self.forms)) var file: String

    /// What `-f` takes besides a file, as kubectl's `-f` does (`run()`).
    static var forms: String { "Also a folder of them (file by file in name order; a refused file stops there) or - for standard input." }

    /// As `kubectl apply -f`: a file, a folder (its manifests in name order, one change each), or
    /// `-` for standard input (kept in a temporary file while the change is made). Each file is
    /// all or nothing; a file refused stops the command, and the files before it stay applied
    /// (kubectl too applies a folder file by file).
    func run() throws {
        try perform {
            guard file == "-" else {
                for path in try ManifestLoader.files([file]) { try LiveChangeRunner.manifest(Verb.kind, lab: lab, file: path) }
                return
            }
            let folder = NSTemporaryDirectory() + "keycard-stdin-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let path = folder + "/stdin.yaml"
            try FileHandle.standardInput.readDataToEndOfFile().write(to: URL(fileURLWithPath: path))
            try LiveChangeRunner.manifest(Verb.kind, lab: lab, file: path)
        }
    }
}

/// What sets `keycard apply` and `keycard delete` apart: the change (its raw value is the verb)
/// and the help they print.
protocol ManifestVerb {
    static var kind: LiveChange.Kind { get }
    static var abstract: String { get }
    static var fileHelp: String { get }
}

/// `keycard apply LAB -f FILE`: create or replace objects in a live lab and reprogram its policies.
typealias ApplyCommand = ManifestCommand<ApplyManifest>

enum ApplyManifest: ManifestVerb {
    static let kind = LiveChange.Kind.apply
    static let abstract = "Create or replace Namespaces, Pods (labels of the lab's pods), Services and policies in a live lab."
    static let fileHelp = "A manifest (several YAML documents or a kind: List are fine)."
}

/// `keycard delete LAB -f FILE`: delete the objects a manifest names from a live lab.
typealias DeleteCommand = ManifestCommand<DeleteManifest>

enum DeleteManifest: ManifestVerb {
    static let kind = LiveChange.Kind.delete
    static let abstract = "Delete the Namespaces, Pods, Services and policies a manifest names from a live lab (kubectl delete -f)."
    static let fileHelp = "A manifest naming the objects to delete (as kubectl delete -f, only kind, name and namespace are read)."
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
