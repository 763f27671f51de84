import Foundation
import KeycardCompiler
import KeycardLab
import KeycardRuleset
import KeycardTestSupport
import Testing

/// `ip netns exec NS nft -j list ruleset` (the independent witness), parsed into its objects.
func nftObjects(_ namespace: String) throws -> [[String: Any]] {
    let output = try runWitness(["ip", "netns", "exec", namespace, "nft", "-j", "list", "ruleset"])
    let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
    return json?["nftables"] as? [[String: Any]] ?? []
}

/// What the controller tests compare between a compiled table and the kernel's listing: chains with
/// their hooks, and per rule its comment, the sets it looks up, counter and verdict; sets with
/// their key types and elements as nft prints them.
struct TableView: Equatable, CustomStringConvertible {
    struct RuleView: Equatable, CustomStringConvertible {
        var comment: String
        var sets: [String]
        var counter: Bool
        var verdict: String
        var description: String { "[\(verdict)\(counter ? "+counter" : "") sets=\(sets) \"\(comment)\"]" }
    }

    var family: String
    var name: String
    var sets: [String: [String]]
    var setTypes: [String: String]
    var bases: [String: String]
    var chains: [String: [RuleView]]

    var description: String {
        var lines = ["table \(family) \(name)"]
        for set in sets.keys.sorted() { lines.append("  set \(set) (\(setTypes[set] ?? "?")): \(sets[set] ?? [])") }
        for chain in chains.keys.sorted() {
            lines.append("  chain \(chain) \(bases[chain] ?? "regular")")
            lines += (chains[chain] ?? []).map { "    \($0)" }
        }
        return lines.joined(separator: "\n")
    }

    /// The intent: the compiled table.
    init(_ table: Table) {
        family = table.family.rawValue
        name = table.name
        sets = Dictionary(uniqueKeysWithValues: table.sets.map { ($0.name, $0.normalizedElements.map(\.nftText).sorted()) })
        setTypes = Dictionary(
            uniqueKeysWithValues: table.sets.map {
                ($0.name, $0.key.map(\.nftType).joined(separator: " . ") + ($0.data == .verdict ? " : verdict" : ""))
            })
        bases = [:]
        chains = [:]
        for chain in table.chains {
            if let base = chain.base {
                bases[chain.name] = "\(base.type.rawValue)/\(base.hook.rawValue)/\(base.priority)/\(base.policy.rawValue)"
            }
            chains[chain.name] = chain.rules.map { rule in
                RuleView(
                    comment: rule.comment, sets: rule.matches.compactMap(\.setName), counter: rule.counter,
                    verdict: rule.verdict.witnessText)
            }
        }
    }

    /// The kernel's table `name`, or nil when the listing has no such table.
    init?(witness objects: [[String: Any]], family: String, name: String) {
        func mine(_ object: [String: Any]) -> Bool { object["table"] as? String == name && object["family"] as? String == family }
        guard
            objects.contains(where: {
                ($0["table"] as? [String: Any]).map { $0["name"] as? String == name && $0["family"] as? String == family } ?? false
            })
        else { return nil }
        self.family = family
        self.name = name
        sets = [:]
        setTypes = [:]
        bases = [:]
        chains = [:]
        for object in objects {
            if let set = (object["set"] ?? object["map"]) as? [String: Any], mine(set), let setName = set["name"] as? String {
                sets[setName] = ((set["elem"] as? [Any]) ?? []).map(Self.elementText).sorted()
                let type = set["type"]
                setTypes[setName] =
                    ((type as? String) ?? ((type as? [String])?.joined(separator: " . ") ?? "?"))
                    + ((set["map"] as? String).map { " : \($0)" } ?? "")
            }
            if let chain = object["chain"] as? [String: Any], mine(chain), let chainName = chain["name"] as? String {
                if let type = chain["type"] as? String, let hook = chain["hook"] as? String {
                    bases[chainName] = "\(type)/\(hook)/\(chain["prio"] as? Int ?? -999)/\(chain["policy"] as? String ?? "?")"
                }
                chains[chainName, default: []] = chains[chainName] ?? []
            }
            if let rule = object["rule"] as? [String: Any], mine(rule), let chainName = rule["chain"] as? String {
                let exprs = rule["expr"] as? [[String: Any]] ?? []
                let sets = exprs.compactMap { expr -> String? in
                    guard let match = expr["match"] as? [String: Any], let right = match["right"] as? String, right.hasPrefix("@") else {
                        return nil
                    }
                    return String(right.dropFirst())
                }
                let verdict: String
                if let last = exprs.last, let key = last.keys.first, ["accept", "drop", "return", "jump", "goto"].contains(key) {
                    if let target = (last[key] as? [String: Any])?["target"] as? String {
                        verdict = "\(key) \(target)"
                    } else {
                        verdict = key
                    }
                } else if let last = exprs.last, let vmap = last["vmap"] as? [String: Any], let data = vmap["data"] as? String {
                    verdict = "vmap \(data)"
                } else {
                    verdict = "none"
                }
                chains[chainName, default: []].append(
                    RuleView(
                        comment: rule["comment"] as? String ?? "", sets: sets,
                        counter: exprs.contains { $0["counter"] != nil }, verdict: verdict))
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

/// Rule handles per chain, in order, of table `name` in the witness listing.
func ruleHandles(_ objects: [[String: Any]], table name: String) -> [String: [Int]] {
    var handles: [String: [Int]] = [:]
    for object in objects {
        if let rule = object["rule"] as? [String: Any], rule["table"] as? String == name,
            let chain = rule["chain"] as? String, let handle = rule["handle"] as? Int
        {
            handles[chain, default: []].append(handle)
        }
    }
    return handles
}

/// Every `kc-` table the witness lists.
func keycardTables(_ objects: [[String: Any]]) -> [String] {
    objects.compactMap { ($0["table"] as? [String: Any])?["name"] as? String }.filter { $0.hasPrefix("kc-") }
}

extension Match {
    /// The named set this match looks up, if any.
    var setName: String? {
        switch self {
        case .saddrInSet(let name, _), .daddrInSet(let name, _), .concatInSet(_, let name): name
        default: nil
        }
    }
}

extension KeycardRuleset.Verdict {
    /// The verdict as the witness view writes it (`accept`, `jump policy-ingress`, `none`).
    var witnessText: String {
        switch self {
        case .accept: "accept"
        case .drop: "drop"
        case .return: "return"
        case .jump(let chain): "jump \(chain)"
        case .goto(let chain): "goto \(chain)"
        case .vmap(_, let map): "vmap @\(map)"
        case .dnat(let address, let port): "dnat \(address):\(port)"
        case .redirect(let port): "redirect :\(port)"
        case .setMark(let mark): "mark set \(mark)"
        case .snat(let address): "snat \(address)"
        case .none: "none"
        }
    }
}

/// After a change the controller programmed: it sent element messages only (no table, chain or
/// rule), every namespace kept its rule handles, and the kernel holds `tables`; when `comment` is
/// given, `commentIn`'s listing shows it on an element. Returns the element messages sent.
func expectElementsOnly(
    _ controller: PolicyController, _ lab: ControllerLab, _ tables: [RulesetTarget: Table], handles: [String: [String: [Int]]],
    step: String, comment: (String, in: String)? = nil
) throws -> Int {
    if let (text, namespace) = comment {
        let listing = try runWitness(["ip", "netns", "exec", namespace, "nft", "list", "ruleset"])
        #expect(listing.contains("comment \"\(text)\""), "\(listing)")
    }
    var sent = 0
    for report in controller.lastReports.values {
        #expect(report.count(.newRule) == 0 && report.count(.newChain) == 0 && report.count(.newTable) == 0, "\(step)")
        sent += report.count(.newSetElements) + report.count(.deleteSetElements)
    }
    for (target, namespace) in lab.namespaces {
        let objects = try nftObjects(namespace)
        #expect(ruleHandles(objects, table: "kc-\(lab.lab)") == handles[namespace], "\(step): rule handles changed in \(namespace)")
        let table = try #require(tables[target])
        #expect(TableView(witness: objects, family: "inet", name: table.name) == TableView(table), "\(step) \(namespace)")
    }
    return sent
}
