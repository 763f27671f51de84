import ArgumentParser
import Foundation
import KeycardLab
import KeycardModel
import KeycardScenario

/// `keycard apply LAB -f FILE` and `keycard delete LAB -f FILE`: the objects a manifest names,
/// created or replaced, or deleted, in a live lab; the two verbs differ only in `Verb`.
struct ManifestCommand<Verb: ManifestVerb>: LiveVerb {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: Verb.kind.rawValue, abstract: Verb.abstract)
    }

    @OptionGroup var options: LabOptions
    @Option(name: [.customShort("f"), .customLong("filename")], help: ArgumentHelp(Verb.fileHelp + " " + Self.forms))
    var file: [String]
    @Option(
        name: .shortAndLong,
        help: "The namespace of objects that name none (as kubectl -n; default: default); one naming another is refused.")
    var namespace: String?

    /// What `-f` takes besides a file, as kubectl's `-f` does (`run()`).
    static var forms: String {
        "Also a folder of them (in name order) or - for standard input; repeat -f or separate paths with commas for several, all one change (one refused file and nothing is applied)."
    }

    /// As `kubectl apply -f`: a file, a folder (its manifests in name order), or `-` for standard
    /// input (kept in the lab's folder, `LabPaths.standardInputFolder`, as a file named `STDIN`, read
    /// from there, so that messages
    /// and the journal name it `STDIN` as kubectl's do). `-f` repeats, and each value is split at
    /// commas, as kubectl's `-f` is a pflag string slice (read as CSV): `-f a -f b,c` is a, b, c in
    /// that order. The whole command is one change: every file is checked before the lab is
    /// reprogrammed, and a refused file leaves the lab as it was (kubectl goes on past a refused
    /// object; keycard's rule is that bad input applies nothing).
    /// Errors: `-` given twice ("standard input cannot be used for multiple arguments", as
    /// cli-runtime's builder says), a path that is not there, any refused file.
    func run() throws {
        try perform {
            let paths = Self.paths(file)
            if let namespace, let problem = NameRules.dns1123LabelProblem(namespace) {
                throw LiveError("--namespace \"\(namespace)\" \(problem)")
            }
            guard paths.contains("-") else {
                try LiveChangeRunner.manifests(Verb.kind, lab: lab, files: try ManifestLoader.files(paths), namespace: namespace)
                return
            }
            guard paths.count(where: { $0 == "-" }) == 1 else {
                throw LiveError("standard input cannot be used for multiple arguments (-f - is given more than once)")
            }
            let here = FileManager.default.currentDirectoryPath
            // Paths are expanded here, before the verb moves to the folder holding STDIN; relative
            // ones are then read from where the verb was started.
            var files: [String] = []
            for path in paths {
                if path == "-" {
                    files.append("STDIN")
                    continue
                }
                files += try ManifestLoader.files([path]).map { $0.hasPrefix("/") ? $0 : (here as NSString).appendingPathComponent($0) }
            }
            // In the lab's folder (a lab that is not up has none: the change is refused as usual).
            let inLab = FileManager.default.fileExists(atPath: LabPaths.directory(lab))
            let folder =
                inLab
                ? LabPaths.standardInputFolder(lab, pid: getpid()) : NSTemporaryDirectory() + "kc-\(lab)-stdin-\(UUID().uuidString)"
            try? FileManager.default.removeItem(atPath: folder)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: !inLab)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            // A read that fails (stdin a folder, or closed) is refused; the defer removes the folder.
            let input: Data
            do {
                input = try StandardInput.readAll()
            } catch {
                throw LiveError("\(error)")
            }
            try input.write(to: URL(fileURLWithPath: folder + "/STDIN"))
            guard FileManager.default.changeCurrentDirectoryPath(folder) else { throw LiveError("cannot enter \(folder)") }
            defer { _ = FileManager.default.changeCurrentDirectoryPath(here) }
            try LiveChangeRunner.manifests(Verb.kind, lab: lab, files: files, namespace: namespace)
        }
    }

    /// The paths `-f` names, in order: each value split at commas, as pflag's `StringSlice` reads
    /// a value (CSV: `-f a,b` is a and b; an empty field stays, and is then no such file).
    static func paths(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
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
