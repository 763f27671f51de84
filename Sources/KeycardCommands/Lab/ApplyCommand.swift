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
    static var forms: String {
        "Also a folder of them (in name order, as one change: one refused file and nothing is applied) or - for standard input."
    }

    /// As `kubectl apply -f`: a file, a folder (its manifests in name order), or `-` for standard
    /// input (kept in a temporary folder as a file named `STDIN`, read from there, so that messages
    /// and the journal name it `STDIN` as kubectl's do). The whole command is one change:
    /// every file is checked before the lab is reprogrammed, and a refused file leaves the lab as it
    /// was (kubectl goes on past a refused object; keycard's rule is that bad input applies nothing).
    func run() throws {
        try perform {
            guard file == "-" else {
                try LiveChangeRunner.manifests(Verb.kind, lab: lab, files: try ManifestLoader.files([file]))
                return
            }
            let folder = NSTemporaryDirectory() + "keycard-stdin-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try FileHandle.standardInput.readDataToEndOfFile().write(to: URL(fileURLWithPath: folder + "/STDIN"))
            let here = FileManager.default.currentDirectoryPath
            guard FileManager.default.changeCurrentDirectoryPath(folder) else { throw LiveError("cannot enter \(folder)") }
            defer { _ = FileManager.default.changeCurrentDirectoryPath(here) }
            try LiveChangeRunner.manifests(Verb.kind, lab: lab, files: ["STDIN"])
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
