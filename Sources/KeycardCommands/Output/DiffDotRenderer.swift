import KeycardScenario

/// `keycard diff -o dot`: np-guard netpol-analyzer's diff graph (`diff_formatter_dot.go`,
/// `formatting/dot_output_formatting.go`), line for line: one `subgraph "cluster_<ns>[namespace]"`
/// per namespace (`-` in the subgraph's name written `_`) holding its peers, labelled `name[Kind]`;
/// externals after them, labelled with their whole name; every edge (unchanged grey, changed
/// magenta labelled `new (dir1: old)`, added `#008000`, removed `red2`) with `weight=0.5` when the
/// source's name sorts at or before the destination's, else `weight=1`; peers blue, new `#008000`,
/// lost `red`; then `newrank=true` (`newRank`, keycard's one addition) and np-guard's legend. Lines
/// of each part sorted as Go's `sort.Strings` sorts them.
/// An empty diff is no output at all, as np-guard's CLI prints nothing.
enum DiffDotRenderer {
    /// `dir1Name`: the old side's name in a changed edge's label; np-guard's CLI passes its flag's
    /// name, `dir1`.
    static func render(_ diff: DiffResult, dir1Name: String = "dir1") -> String {
        guard !diff.rows.isEmpty else { return "" }
        var namespaces: [String: [String]] = [:]
        var externals: [String] = []
        var edges: [String] = []
        var seen: Set<String> = []
        func addPeer(_ name: String) {
            guard seen.insert(name).inserted else { return }
            let colour = diff.addedPeers.contains(name) ? "#008000" : diff.removedPeers.contains(name) ? "red" : "blue"
            guard ExternalBlocks.range(ofPeer: name) == nil, let slash = name.firstIndex(of: "/") else {
                externals.append("\t\(quote(name)) [label=\(quote(name)) color=\(quote(colour)) fontcolor=\(quote(colour))]")
                return
            }
            let label = String(name[name.index(after: slash)...])
            namespaces[String(name[..<slash]) + "[namespace]", default: []].append(
                "\t\t\(quote(name)) [label=\(quote(label)) color=\(quote(colour)) fontcolor=\(quote(colour))]")
        }
        func addEdge(_ source: String, _ destination: String, _ label: String, _ colour: String) {
            addPeer(source)
            addPeer(destination)
            let weight = precedesOrEqual(source, destination) ? "0.5" : "1"
            edges.append(
                "\t\(quote(source)) -> \(quote(destination)) [label=\(quote(label)) color=\(quote(colour)) fontcolor=\(quote(colour)) weight=\(weight)]"
            )
        }
        for pair in diff.unchanged { addEdge(pair.source, pair.destination, pair.connections, "grey") }
        for type in [DiffRow.DiffType.changed, .added, .removed] {
            for row in diff.rows where row.diffType == type {
                switch type {
                case .changed: addEdge(row.source, row.destination, "\(row.dir2) (\(dir1Name): \(row.dir1))", "magenta")
                case .added: addEdge(row.source, row.destination, row.dir2, "#008000")
                case .removed: addEdge(row.source, row.destination, row.dir1, "red2")
                }
            }
        }
        var lines = ["digraph {"]
        for namespace in namespaces.keys.sorted(by: goLess) {
            lines.append("\tsubgraph \"cluster_\(namespace.replacingOccurrences(of: "-", with: "_"))\" {")
            lines += ["\t\tcolor=\"black\"", "\t\tfontcolor=\"black\""]
            lines += (namespaces[namespace] ?? []).sorted(by: goLess)
            lines += ["\t\tlabel=\(quote(namespace))", "\t}"]
        }
        lines += externals.sorted(by: goLess)
        lines += edges.sorted(by: goLess)
        lines.append(newRank)
        lines += legend
        lines.append("}")
        return lines.joined(separator: "\n")
    }

    /// The one line np-guard does not write: Graphviz's `newrank` ranking. np-guard's legend ranks
    /// nodes inside a cluster (`rank=source`, `rank=sink`), and Graphviz's default ranking (Debian's
    /// 2.43) refuses some graphs with edges between clusters beside such a legend ("trouble in
    /// init_rank"); `newrank=true` ranks the whole graph at once and lays them out.
    static let newRank = "\tnewrank=true"

    /// np-guard's legend (`addLegend`), constant.
    static let legend: [String] = {
        var lines = ["\tnodesep=0.5", "\tsubgraph cluster_legend {", "\t\tlabel=\"Legend\"", "\t\tfontsize = 10", "\t\tmargin=0"]
        let invisible = ["a", "b", "c", "d", "e", "f", "g", "h"]
        lines += invisible.map { "\t\t\($0) [style=invis height=0 width=0]" }
        lines.append("\t\t{rank=source a b c d}")
        lines.append("\t\t{rank=same e f g h}")
        for (from, to, label, colour) in [
            ("a", "b", "added connection", "#008000"), ("c", "d", "removed connection", "red2"),
            ("e", "f", "changed connection", "magenta"), ("g", "h", "unchanged connection", "grey"),
        ] {
            lines.append(
                "\t\t\(from) -> \(to) [label=\"\(label)\", color=\"\(colour)\" fontcolor=\"\(colour)\" fontsize = 10 arrowsize=0.2]")
        }
        for (node, label, colour) in [("np", "new peer", "#008000"), ("lp", "lost peer", "red"), ("pp", "persistent peer", "blue")] {
            lines.append("\t\t\(node) [label=\"\(label)\" color=\"\(colour)\" fontcolor=\"\(colour)\" fontsize = 10]")
        }
        lines += ["\t\t{rank=sink np lp pp}", "\t\tnp->lp [style=invis]", "\t\tlp->pp [style=invis]", "\t}"]
        return lines
    }()

    /// Go's string order (bytes), which `sort.Strings` and `<=` on strings use.
    static func goLess(_ lhs: String, _ rhs: String) -> Bool { lhs.utf8.lexicographicallyPrecedes(rhs.utf8) }
    static func precedesOrEqual(_ lhs: String, _ rhs: String) -> Bool { !goLess(rhs, lhs) }

    /// A DOT string as Go's `%q` writes a printable one: quotes and backslashes escaped.
    static func quote(_ text: String) -> String {
        let escaped = TextEscaping.escaped(text) { character in
            switch character {
            case "\"": "\\\""
            case "\\": "\\\\"
            case "\n": "\\n"
            case "\t": "\\t"
            default: nil
            }
        }
        return "\"" + escaped + "\""
    }
}
