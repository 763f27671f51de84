import Foundation
import KeycardKernel
import KeycardRuleset
import Testing

/// Helpers for the nftables kernel tests: throwaway namespaces, `nft` as a witness, normalisation.
enum NftTestSupport {
    static var isRoot: Bool { geteuid() == 0 }

    /// A namespace name of a lab that cannot collide with anything: `kc-nft<random>.node<i>`.
    static func uniqueNamespace(_ index: Int = 0, lab: String = randomLab()) -> String { "kc-\(lab).node\(index)" }

    static func randomLab() -> String { "nft" + String(UInt32.random(in: 0...UInt32.max), radix: 16) }

    /// Creates namespaces, runs `body`, deletes them whatever happens.
    static func withNamespaces<T>(_ count: Int = 1, _ body: ([String]) throws -> T) throws -> T {
        let lab = randomLab()
        var names: [String] = []
        defer { for name in names { try? NetworkNamespace.delete(name) } }
        for index in 0..<count {
            let name = uniqueNamespace(index, lab: lab)
            try NetworkNamespace.create(name)
            names.append(name)
        }
        return try body(names)
    }

    /// Runs a program (ip or nft: the witness, never product code); returns status and stdout.
    @discardableResult
    static func run(_ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let inPipe = Pipe()
        if input != nil { process.standardInput = inPipe }
        try process.run()
        if let input {
            inPipe.fileHandleForWriting.write(Data(input.utf8))
            try inPipe.fileHandleForWriting.close()
        }
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
    }

    /// `ip netns exec NS nft -j list ruleset`, parsed.
    static func listRuleset(_ namespace: String) throws -> [[String: Any]] {
        let result = try run(["ip", "netns", "exec", namespace, "nft", "-j", "list", "ruleset"])
        guard result.status == 0 else { throw WitnessError("nft -j list ruleset failed: \(result.error)") }
        let json = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        return json?["nftables"] as? [[String: Any]] ?? []
    }

    /// `nft -f` of text inside a namespace (the reference programming path).
    static func nftLoad(_ namespace: String, _ text: String, check: Bool = false) throws -> (status: Int32, error: String) {
        let result = try run(["ip", "netns", "exec", namespace, "nft"] + (check ? ["-c"] : []) + ["-f", "-"], input: text)
        return (result.status, result.error)
    }
}

struct WitnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What the tests compare between intent and kernel: chains (hook, policy, rule comments and
/// verdicts), and set elements as nft prints them.
struct NormalizedTable: Equatable, CustomStringConvertible {
    struct ChainView: Equatable {
        var base: String?
        var comments: [String]
        var verdicts: [String]
    }

    var name: String
    var family: String
    var sets: [String: [String]]
    var chains: [String: ChainView]

    var description: String {
        var lines = ["table \(family) \(name)"]
        for (set, elements) in sets.sorted(by: { $0.key < $1.key }) { lines.append("  set \(set): \(elements)") }
        for (chain, view) in chains.sorted(by: { $0.key < $1.key }) {
            lines.append("  chain \(chain) \(view.base ?? "-") comments=\(view.comments) verdicts=\(view.verdicts)")
        }
        return lines.joined(separator: "\n")
    }

    /// The intent.
    init(_ table: Table) {
        name = table.name
        family = table.family.rawValue
        sets = Dictionary(uniqueKeysWithValues: table.sets.map { ($0.name, $0.normalizedElements.map(\.nftText).sorted()) })
        chains = Dictionary(
            uniqueKeysWithValues: table.chains.map { chain in
                (
                    chain.name,
                    ChainView(
                        base: chain.base.map { "\($0.type.rawValue)/\($0.hook.rawValue)/\($0.priority)/\($0.policy.rawValue)" },
                        comments: chain.rules.map(\.comment),
                        verdicts: chain.rules.map { $0.verdict.witnessName ?? ($0.counter ? "counter" : "log") })
                )
            })
    }

    /// The kernel's state of table `name`, from `nft -j list ruleset`.
    init?(witness objects: [[String: Any]], name: String) {
        guard let table = objects.compactMap({ $0["table"] as? [String: Any] }).first(where: { $0["name"] as? String == name })
        else { return nil }
        self.name = name
        family = table["family"] as? String ?? "?"
        sets = [:]
        chains = [:]
        for object in objects {
            if let set = object["set"] as? [String: Any], set["table"] as? String == name, let setName = set["name"] as? String {
                sets[setName] = ((set["elem"] as? [Any]) ?? []).map(Self.elementText).sorted()
            }
            if let chain = object["chain"] as? [String: Any], chain["table"] as? String == name, let chainName = chain["name"] as? String {
                var base: String?
                if let type = chain["type"] as? String, let hook = chain["hook"] as? String {
                    base = "\(type)/\(hook)/\(chain["prio"] as? Int ?? -999)/\(chain["policy"] as? String ?? "?")"
                }
                chains[chainName, default: ChainView(base: nil, comments: [], verdicts: [])].base = base
            }
            if let rule = object["rule"] as? [String: Any], rule["table"] as? String == name, let chainName = rule["chain"] as? String {
                let exprs = rule["expr"] as? [[String: Any]] ?? []
                let verdict = exprs.last?.keys.first ?? "?"
                chains[chainName, default: ChainView(base: nil, comments: [], verdicts: [])].comments.append(
                    rule["comment"] as? String ?? "")
                chains[chainName, default: ChainView(base: nil, comments: [], verdicts: [])].verdicts.append(verdict)
            }
        }
    }

    /// nft JSON element → the text `SetElement.nftText` produces.
    static func elementText(_ element: Any) -> String {
        if let text = element as? String { return text }
        // A map element: [key, {"goto": {"target": "c"}}].
        if let pair = element as? [Any], pair.count == 2, let data = pair[1] as? [String: Any], let kind = data.keys.first,
            let target = (data[kind] as? [String: Any])?["target"] as? String
        {
            return "\(elementText(pair[0])) : \(kind) \(target)"
        }
        if let number = element as? Int { return String(number) }
        guard let object = element as? [String: Any] else { return "\(element)" }
        if let prefix = object["prefix"] as? [String: Any] { return "\(prefix["addr"] ?? "?")/\(prefix["len"] ?? "?")" }
        if let range = object["range"] as? [Any], range.count == 2 { return "\(elementText(range[0]))-\(elementText(range[1]))" }
        if let concat = object["concat"] as? [Any] { return concat.map(elementText).joined(separator: " . ") }
        if let elem = object["elem"] as? [String: Any], let value = elem["val"] { return elementText(value) }
        return "\(object)"
    }
}

extension Verdict {
    /// The key nft -j uses for the verdict statement.
    var witnessName: String? {
        switch self {
        case .accept: "accept"
        case .drop: "drop"
        case .return: "return"
        case .jump: "jump"
        case .goto: "goto"
        case .vmap: "vmap"
        case .dnat: "dnat"
        case .redirect: "redirect"
        case .setMark: "mangle"
        case .snat: "snat"
        case .none: nil
        }
    }
}

/// Rule handles per chain, in order, from the witness.
func ruleHandles(_ objects: [[String: Any]], table: String) -> [String: [Int]] {
    var handles: [String: [Int]] = [:]
    for object in objects {
        if let rule = object["rule"] as? [String: Any], rule["table"] as? String == table,
            let chain = rule["chain"] as? String, let handle = rule["handle"] as? Int
        {
            handles[chain, default: []].append(handle)
        }
    }
    return handles
}
