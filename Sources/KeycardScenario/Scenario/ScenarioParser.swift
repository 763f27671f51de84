import Foundation
import KeycardModel
import KeycardValues

/// Reads a `keycard/v1` scenario file, the manifests it names, and validates the whole timeline.
public enum ScenarioLoader {
    /// Loads and validates `path`. Throws the first problem found as `file:line:col: message`.
    public static func load(_ path: String) throws(ScenarioError) -> Scenario {
        try timeline(path).scenario
    }

    /// Loads `path` and plays it on the model: the validated scenario with its state at every step.
    /// `cellLimit`: whether a probe step over `ResolvedProbe.maximumCells` is refused or warned about.
    public static func timeline(_ path: String, cellLimit: CellLimit = .refuse) throws(ScenarioError) -> Timeline {
        let text = try readText(path, at: SourceLocation.start(of: path))
        return try parseTimeline(text, file: path, cellLimit: cellLimit)
    }

    /// True when a document's `kind` and `apiVersion` make it a keycard scenario, wrongly written
    /// or not: `apiVersion: keycard/v1`, or a kind `Scenario` in any case whose apiVersion's group
    /// is `keycard` or `keycard.*` in any case (`keycard/v2`, `Keycard/v1`, `keycard.io/v1`). Such a
    /// document is never a Kubernetes object to skip: kubectl refuses a kind its server does not
    /// serve (`no matches for kind "Scenario" in version "keycard/v2"`, the RESTMapper's
    /// NoKindMatchError), so a misspelt version is an error, not a scenario with no steps.
    public static func isScenario(kind: String?, apiVersion: String?) -> Bool {
        guard let apiVersion else { return false }
        if apiVersion == "keycard/v1" { return true }
        guard kind?.lowercased() == "scenario" else { return false }
        let group = apiVersion.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)[0].lowercased()
        return group == "keycard" || group.hasPrefix("keycard.")
    }

    /// Parses scenario text; `file` names it in errors and anchors relative `file:` items.
    public static func parse(_ text: String, file: String) throws(ScenarioError) -> Scenario {
        try parseTimeline(text, file: file).scenario
    }

    /// Parses scenario text and plays it on the model.
    public static func parseTimeline(_ text: String, file: String, cellLimit: CellLimit = .refuse) throws(ScenarioError) -> Timeline {
        try Timeline(read(text, file: file), cellLimit: cellLimit)
    }

    /// Parses scenario text without playing it: every object decoded and validated on its own,
    /// nothing applied to a cluster (a live verb's file, which the lab's own cluster judges).
    public static func read(_ text: String, file: String) throws(ScenarioError) -> Scenario {
        var ignored: [ScenarioWarning] = []
        let documents = try YAMLDocuments.parse(text, file: file, warnings: &ignored)
        guard let document = documents.first, documents.contains(where: { !$0.isNull }) else {
            throw ScenarioError(
                SourceLocation.start(of: file),
                "the file holds no YAML content (only empty documents): expected a keycard/v1 Scenario or Kubernetes objects")
        }
        if documents.count > 1 {
            throw documents[1].error(
                "a scenario file holds one YAML document; put Kubernetes objects in resources or in files named by `file:`")
        }
        var parser = ScenarioParser(file: file)
        var scenario = try parser.scenario(document)
        scenario.warnings = ignored + scenario.warnings
        scenario.inputFiles = [file] + parser.manifestFiles
        return scenario
    }

    /// Standard input's bytes while a command reads `-` (kubectl's `-f -`): the path
    /// `standardInputPath` reads them instead of a file. Bound by the command that read them.
    @TaskLocal public static var standardInput: Data?

    /// The name standard input goes by in messages, kubectl's (cli-runtime `constSTDINstr`:
    /// "error parsing STDIN: ..."). Relative `file:` entries of a scenario read from it are
    /// relative to the working folder.
    public static let standardInputPath = "STDIN"

    /// Whether `path` stands for standard input now (`standardInput`).
    static func readsStandardInput(_ path: String) -> Bool { path == standardInputPath && standardInput != nil }

    static func readText(_ path: String, at location: SourceLocation) throws(ScenarioError) -> String {
        try readTextNoting(path, at: location).text
    }

    /// `readText`, and a warning at the first byte (or UTF-16 unit) that was not a character and
    /// reads as U+FFFD, as kubectl's FileVisitor reads it (`TextEncoding.decode`); `display` names
    /// the file in it.
    static func readTextNoting(_ path: String, at location: SourceLocation, display: String? = nil) throws(ScenarioError) -> (
        text: String, warning: ScenarioWarning?
    ) {
        if readsStandardInput(path), let data = standardInput {
            guard data.count <= YAMLDocuments.maximumBytes else {
                throw ScenarioError(location, "standard input is larger than \(YAMLDocuments.maximumBytes >> 20) MiB")
            }
            return noting(data, display: display ?? path)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            if (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil {
                throw ScenarioError(location, "\(path) is a symbolic link to nothing that can be read (dangling, a loop, or no permission)")
            }
            throw ScenarioError(location, "no such file: \(path)")
        }
        if isDirectory.boolValue {
            if ManifestLoader.isLink(path) {
                throw ScenarioError(
                    location,
                    "\(path) is a link to a folder, not a file: kubectl -f reads a link as a file (filepath.Walk does not follow links) and fails on it (is a directory); name the folder itself, or end the path in /"
                )
            }
            throw ScenarioError(location, "\(path) is a folder, not a file")
        }
        // attributesOfItem does not follow a link: read the file a link leads to.
        let attributes = try? FileManager.default.attributesOfItem(atPath: URL(fileURLWithPath: path).resolvingSymlinksInPath().path)
        if let type = attributes?[.type] as? FileAttributeType, type != .typeRegular {
            // A FIFO would block the read, a device never end it.
            let what: String =
                switch type {
                case .typeCharacterSpecial: "a character device"
                case .typeBlockSpecial: "a block device"
                case .typeSocket: "a socket"
                default: "a FIFO or other special file"
                }
            // `<(command)` is a pipe: keycard reads a file more than once (what it holds, then
            // the whole), which a pipe cannot give; `-` takes standard input once, into memory.
            let hint =
                type == .typeCharacterSpecial || type == .typeBlockSpecial || type == .typeSocket
                ? "" : "; to read a pipe, give - and pipe it to standard input"
            throw ScenarioError(location, "\(path) is \(what), not a regular file\(hint)")
        }
        if let size = attributes?[.size] as? Int, size > YAMLDocuments.maximumBytes {
            throw ScenarioError(location, "\(path) is larger than \(YAMLDocuments.maximumBytes >> 20) MiB")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch CocoaError.fileReadNoPermission {
            throw ScenarioError(location, "cannot read \(path): permission denied")
        } catch {
            throw ScenarioError(location, "cannot read \(path): \(error.localizedDescription)")
        }
        return noting(data, display: display ?? path)
    }

    /// `data` as text, and a warning at its first byte that is not a character (`readTextNoting`).
    private static func noting(_ data: Data, display: String) -> (text: String, warning: ScenarioWarning?) {
        let (text, replaced) = TextEncoding.decodeNoting(data)
        let warning = replaced.map { spot in
            ScenarioWarning(
                location: SourceLocation(file: display, line: spot.line, column: spot.column),
                message:
                    "not valid UTF-8 (or a lone UTF-16 surrogate): read as U+FFFD, as kubectl reads it (this is the first such byte)")
        }
        return (text, warning)
    }
}

/// The parsing half of the loader: syntax and per-field validation, no cross-step checks.
struct ScenarioParser {
    let file: String
    var objects = ObjectDecoder()
    /// `spec.mesh`, read before the steps (a `stolen` identity must be in its trust domain).
    var mesh = MeshSettings()
    /// Manifests already read, by resolved path.
    private var manifests: [String: [LoadedObject]] = [:]
    /// The manifests `file:` items named, as absolute paths, each once, in reading order.
    private(set) var manifestFiles: [String] = []

    init(file: String) { self.file = file }

    mutating func scenario(_ root: YAMLValue) throws(ScenarioError) -> Scenario {
        let top = try root.fields("the scenario", allowed: ["apiVersion", "kind", "metadata", "spec"])
        let apiVersion = try top.required("apiVersion")
        guard try apiVersion.string("apiVersion") == "keycard/v1" else {
            throw apiVersion.error("apiVersion must be keycard/v1, found \(try apiVersion.string("apiVersion"))")
        }
        let kind = try top.required("kind")
        guard try kind.string("kind") == "Scenario" else { throw kind.error("kind must be Scenario, found \(try kind.string("kind"))") }
        let metadata = try top.required("metadata").fields("metadata", allowed: ["name", "description"])
        let nameValue = try metadata.required("name")
        let name = try nameValue.string("metadata.name")
        if let problem = Self.labNameProblem(name) { throw nameValue.error("metadata.name \"\(name)\" \(problem)") }
        let description = try metadata["description"]?.string("metadata.description")

        let specValue = try top.required("spec")
        let spec = try specValue.fields("spec", allowed: ["lab", "externals", "resources", "probe", "steps", "mesh"])
        let lab = try labSettings(spec["lab"])
        objects.labNodes = lab.nodes
        mesh = try meshSettings(spec["mesh"])
        let externals = try self.externals(spec["externals"], podCIDR: lab.podCIDR, serviceCIDR: lab.serviceCIDR)
        try checkLoadBalancerCIDR(lab, externals: externals, spec["lab"])
        let resources = try objectItems(spec["resources"], "resources")
        let probe = try probeSettings(spec["probe"])
        var steps: [Step] = []
        for (index, item) in (try spec["steps"]?.items("steps") ?? []).enumerated() {
            steps.append(try step(item, index: index + 1))
        }
        var scenario = Scenario(
            file: file, name: name, description: description, lab: lab, externals: externals,
            resources: resources, probeDefaults: probe, steps: steps, warnings: objects.warnings, mesh: mesh,
            mentionsMesh: spec["mesh"] != nil || objects.sawMeshObject)
        scenario.foreignPolicies = objects.foreignPolicies
        scenario.handWrittenEndpoints = objects.handWrittenEndpoints
        return scenario
    }

    /// Lab names become namespace and table names: lower-case letters, digits, '-', at most 24
    /// (`LabName.problem`, the rule every verb that takes a lab name applies).
    public static func labNameProblem(_ name: String) -> String? { LabName.problem(name) }

    private func labSettings(_ value: YAMLValue?) throws(ScenarioError) -> LabSettings {
        let defaultCIDR = LabSettings.defaultPodCIDR
        guard let value else { return LabSettings(podCIDR: defaultCIDR) }
        let fields = try value.fields(
            "spec.lab",
            allowed: [
                "nodes", "podCIDR", "enforcement", "dns", "serviceCIDR", "serviceEnforcement", "mode", "nodeIngress", "loadBalancerCIDR",
            ])
        var settings = LabSettings(podCIDR: defaultCIDR)
        if let nodes = fields["nodes"] { settings.nodes = try nodes.int("spec.lab.nodes", in: 1...64) }
        if let cidrValue = fields["podCIDR"] {
            let text = try cidrValue.string("spec.lab.podCIDR")
            guard let cidr = CIDR.parse(text), cidr.family == .ipv4 else {
                throw cidrValue.error("spec.lab.podCIDR \"\(text)\" is not an IPv4 CIDR like 10.244.0.0/16")
            }
            guard (8...24).contains(cidr.prefixLength) else {
                throw cidrValue.error("spec.lab.podCIDR must have a prefix length from /8 to /24, found /\(cidr.prefixLength)")
            }
            guard !cidr.hasHostBits else {
                throw cidrValue.error(
                    "spec.lab.podCIDR \"\(text)\" has host bits set; did you mean \(IPv4(cidr.network))/\(cidr.prefixLength)?")
            }
            if let clash = LabNetwork.reserved.first(where: { $0.contains(cidr) || cidr.contains($0) }) {
                throw cidrValue.error("spec.lab.podCIDR \(text) overlaps \(clash), which the lab reserves")
            }
            if let problem = LabAddresses.rangeProblem(cidr) { throw cidrValue.error("spec.lab.podCIDR \(text) \(problem)") }
            settings.podCIDR = cidr
        }
        if let enforcement = fields["enforcement"] {
            settings.enforcement = try enforcement.choice("spec.lab.enforcement", expected: "pod or node")
        }
        if let dns = fields["dns"], try dns.bool("spec.lab.dns") { settings.dnsLocation = dns.location }
        try serviceSettings(fields, into: &settings)
        try labMode(fields, into: &settings)
        try nodeIngress(fields, into: &settings)
        return settings
    }

    private func externals(_ value: YAMLValue?, podCIDR: CIDR, serviceCIDR: CIDR) throws(ScenarioError) -> [External] {
        var result: [External] = []
        for item in try value?.items("spec.externals") ?? [] {
            let fields = try item.fields("an external", allowed: ["name", "ip", "ports"])
            let nameValue = try fields.required("name")
            let name = try nameValue.string("external name")
            if let problem = NameRules.dns1123LabelProblem(name) { throw nameValue.error("external name \"\(name)\" \(problem)") }
            if result.contains(where: { $0.name == name }) { throw nameValue.error("external \"\(name)\" is declared twice") }
            let ipValue = try fields.required("ip")
            let text = try ipValue.string("external ip")
            guard let ip = IPv4(text) else { throw ipValue.error("external ip \"\(text)\" is not an IPv4 address") }
            if let problem = LabAddresses.externalProblem(ip) { throw ipValue.error("external ip \(ip) \(problem)") }
            if podCIDR.contains(ip) {
                throw ipValue.error("external ip \(ip) lies inside the pod CIDR \(podCIDR); externals live outside the pod network")
            }
            // The Service proxy translates every ClusterIP it holds: an external there is unreachable.
            if serviceCIDR.contains(ip) {
                throw ipValue.error("external ip \(ip) lies inside the service CIDR \(serviceCIDR), where ClusterIPs live")
            }
            if result.contains(where: { $0.ip == ip }) { throw ipValue.error("external ip \(ip) is used twice") }
            var ports: [ProtocolPort] = []
            var seen: Set<ProtocolPort> = []
            for portValue in try fields["ports"]?.items("external ports") ?? [] {
                let port = try Self.protocolPort(portValue)
                if port.proto == .icmp { throw portValue.error("an external answers ICMP echo anyway: list only TCP, UDP or SCTP ports") }
                if !seen.insert(port).inserted { throw portValue.error("\(port) is listed twice") }
                ports.append(port)
            }
            result.append(External(name: name, ip: ip, ports: ports))
        }
        return result
    }

    private func probeSettings(_ value: YAMLValue?) throws(ScenarioError) -> ProbeSettings {
        var settings = ProbeSettings()
        guard let value else { return settings }
        let fields = try value.fields("spec.probe", allowed: ["timeout", "retries"])
        if let timeout = fields["timeout"] {
            // A bare number has no unit: say so, rather than "quote it", which leads to a second error.
            if case .scalar(let scalar) = timeout.node, scalar.style == .plain, timeout.tagName == .int || timeout.tagName == .float {
                throw timeout.error(
                    "spec.probe.timeout \(scalar.string) has no unit: write a duration from 1ms to 60s, like 250ms or 1s")
            }
            let text = try timeout.string("spec.probe.timeout")
            guard let milliseconds = Self.milliseconds(text), (1...60_000).contains(milliseconds) else {
                throw timeout.error("spec.probe.timeout \"\(text)\" must be a duration from 1ms to 60s, like 250ms or 1s")
            }
            settings.timeoutMilliseconds = milliseconds
        }
        if let retries = fields["retries"] { settings.retries = try retries.int("spec.probe.retries", in: 0...10) }
        return settings
    }

    /// `250ms`, `1s`, `1.5s`: whole milliseconds, or seconds with at most three decimals (no sign,
    /// exponent or rounding); nil for anything else.
    static func milliseconds(_ text: String) -> Int? {
        func digits(_ part: Substring) -> Bool { !part.isEmpty && part.count <= 9 && part.allSatisfy { $0.isASCII && $0.isNumber } }
        if text.hasSuffix("ms") {
            let number = text.dropLast(2)
            return digits(number) ? Int(number) : nil
        }
        guard text.hasSuffix("s") else { return nil }
        let parts = text.dropLast().split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, digits(whole), let seconds = Int(whole) else { return nil }
        guard parts.count == 2 else { return seconds * 1000 }
        let fraction = parts[1]
        guard digits(fraction), fraction.count <= 3, let thousandths = Int(fraction.padding(toLength: 3, withPad: "0", startingAt: 0))
        else { return nil }
        return seconds * 1000 + thousandths
    }

    static func protocolPort(_ value: YAMLValue) throws(ScenarioError) -> ProtocolPort {
        // A bare number (`6379`) names no protocol: say how to write it, not "quote it".
        if case .scalar(let scalar) = value.node, scalar.style == .plain, let number = Int(scalar.string), value.tagName == .int {
            throw value.error("port \(number) must name its protocol: write TCP/\(number) (or UDP/\(number), SCTP/\(number))")
        }
        let text = try value.string("a port")
        guard let port = ProtocolPort.parse(text) else {
            throw value.error(
                "port \"\(text)\" must be PROTOCOL/NUMBER with protocol TCP, UDP or SCTP and number 1-65535, like TCP/80, or ICMP"
                    + (Int(text) != nil ? ": write TCP/\(text)" : ""))
        }
        return port
    }

    /// Items of `resources` or `apply`: `{file: path}` or an inline object.
    mutating func objectItems(_ value: YAMLValue?, _ what: String) throws(ScenarioError) -> [LoadedObject] {
        var result: [LoadedObject] = []
        for item in try value?.items(what) ?? [] {
            let entries = try item.entries("an entry of \(what)")
            if entries.contains(where: { $0.key == "file" }) {
                let fields = try item.fields("a file entry", allowed: ["file", "namespace"])
                let pathValue = try fields.required("file")
                var namespace: String?
                if let namespaceValue = fields["namespace"] {
                    let text = try namespaceValue.string("namespace")
                    if let problem = NameRules.dns1123LabelProblem(text) { throw namespaceValue.error("namespace \"\(text)\" \(problem)") }
                    namespace = text
                }
                result += try manifest(pathValue, namespace: namespace)
            } else {
                result += try objects.decode(item)
            }
        }
        return result
    }

    /// Loads a manifest named relative to the scenario; it must stay inside the scenario's folder.
    /// With `namespace`, its objects that name none go there (and one naming another is an
    /// error), as `kubectl apply -n NAMESPACE -f FILE`.
    private mutating func manifest(_ value: YAMLValue, namespace: String?) throws(ScenarioError) -> [LoadedObject] {
        let relative = try value.string("file")
        if relative.isEmpty { throw value.error("file must name a manifest: the path is empty") }
        let base = URL(fileURLWithPath: file).deletingLastPathComponent().standardizedFileURL.resolvingSymlinksInPath()
        if relative.hasPrefix("/") { throw value.error("file \"\(relative)\" must be a path relative to the scenario's folder") }
        let target = base.appendingPathComponent(relative).standardizedFileURL.resolvingSymlinksInPath()
        guard target.path.hasPrefix(base.path.hasSuffix("/") ? base.path : base.path + "/") else {
            throw value.error("file \"\(relative)\" escapes the scenario's folder \(base.path)")
        }
        // A manifest named by several steps is read once: its objects are the same each time.
        let cacheKey = target.path + "\u{0}" + (namespace ?? "")
        if let known = manifests[cacheKey] { return known }
        let folder = (file as NSString).deletingLastPathComponent
        let displayPath = folder.isEmpty ? relative : "\(folder)/\(relative)"
        let (text, replaced) = try ScenarioLoader.readTextNoting(target.path, at: value.location, display: displayPath)
        if let replaced { objects.warnings.append(replaced) }
        if !manifestFiles.contains(target.path) { manifestFiles.append(target.path) }
        var loaded: [LoadedObject] = []
        let outer = objects.namespace
        objects.namespace = namespace
        defer { objects.namespace = outer }
        for document in try YAMLDocuments.parse(text, file: displayPath, warnings: &objects.warnings) {
            loaded += try objects.decode(document)
        }
        manifests[cacheKey] = loaded
        return loaded
    }
}
