import KeycardScenario

/// The connectivity graph as Graphviz DOT: a cluster per namespace, externals as ellipses,
/// allowed edges solid green labelled with their ports, denied-but-probed edges dashed light red
/// (their ports in the tooltip). Ranked with `newrank=true`: Graphviz's default ranking (Debian's
/// 2.43) fails on some graphs of clusters ("trouble in init_rank"), which `newrank` lays out.
/// Bounded: a probe step denies most pairs of a large cluster, and `dot` needs minutes and
/// gigabytes for a few hundred edges (20 pods, 410 edges: 13 s), so past `deniedEdgeLimit` edges
/// the denied ones are left out, with a note in the graph's label.
enum GraphDotRenderer {
    /// Past this many edges the denied (dashed) ones are not drawn.
    static let deniedEdgeLimit = 150
    /// Past this many drawn edges `run -o html` leaves the graph out of the page (`pageGraph`).
    static let pageEdgeLimit = 600

    /// The edges drawn: every one, or only the allowed ones when there are more than `deniedLimit`.
    static func drawn(_ graph: ConnectivityGraph, deniedLimit: Int = deniedEdgeLimit) -> [ConnectivityGraph.Edge] {
        graph.edges.count > deniedLimit ? graph.edges.filter(\.allowed) : graph.edges
    }

    static func render(_ graph: ConnectivityGraph, title: String, deniedLimit: Int = deniedEdgeLimit) -> String {
        let edges = drawn(graph, deniedLimit: deniedLimit)
        let left = graph.edges.count - edges.count
        let label =
            left == 0
            ? title
            : "\(title)\n(\(left) denied flows not drawn: the graph has more than \(deniedLimit) edges; the truth tables list them)"
        var lines = [
            "digraph keycard {",
            "\tgraph [rankdir=LR fontname=\"DejaVu Sans\" label=\(quote(label)) labelloc=t fontsize=16 nodesep=0.4 ranksep=1.2 newrank=true]",
            "\tnode [shape=box style=\"rounded,filled\" fillcolor=\"#eef3fb\" color=\"#4a6fa5\" fontname=\"DejaVu Sans\" fontsize=11]",
            "\tedge [fontname=\"DejaVu Sans\" fontsize=9]",
        ]
        for (index, namespace) in graph.namespaces.enumerated() {
            lines.append("\tsubgraph cluster_\(index) {")
            lines.append("\t\tlabel=\(quote("namespace \(namespace.name)")) style=\"rounded,dashed\" color=\"#888888\" fontsize=12")
            for peer in namespace.peers { lines.append("\t\t\(quote(peer.name)) [label=\(quote(shortName(peer)))]") }
            lines.append("\t}")
        }
        for peer in graph.peers where peer.namespace == nil {
            lines.append(
                "\t\(quote(peer.name)) [label=\(quote("\(peer.endpoint)\n\(peer.name)")) shape=ellipse fillcolor=\"#fff4e5\" color=\"#b26b00\"]"
            )
        }
        for edge in edges {
            let ports = quote(ConnectivityMap.text(edge.ports))
            // Denied flows stay light and unlabelled (their ports in the tooltip): the allowed
            // graph is the picture, the denials its background.
            let attributes =
                edge.allowed
                ? "label=\(ports) color=\"#1a7f37\" fontcolor=\"#1a7f37\" penwidth=1.4"
                : "tooltip=\(quote("denied: \(ConnectivityMap.text(edge.ports))")) style=dashed color=\"#e8a0a0\" arrowhead=tee penwidth=0.7"
            lines.append("\t\(quote(edge.source.name)) -> \(quote(edge.destination.name)) [\(attributes)]")
        }
        lines.append("}")
        return lines.joined(separator: "\n")
    }

    /// `name[Kind]` without the namespace, which the cluster already says.
    static func shortName(_ peer: ConnectivityPeer) -> String {
        guard let namespace = peer.namespace, peer.name.hasPrefix(namespace + "/") else { return peer.name }
        let name = String(peer.name.dropFirst(namespace.count + 1))
        return name.hasSuffix("[Pod]") ? String(name.dropLast(5)) : name
    }

    static func quote(_ text: String) -> String {
        "\""
            + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(
                of: "\n", with: "\\n") + "\""
    }
}
